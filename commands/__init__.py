"""touchlog's commands, a module per group of what the user does; `cli.py` registers them."""
