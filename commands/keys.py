"""`touchlog keys`: make an encryption key, re-encrypt everything with the newest (SPEC 12)."""

from __future__ import annotations

import click

from commands.common import open_store
from commands.output import say
from core.errors import ConfigError


@click.group()
def keys() -> None:
    """Keys for encryption at rest (database.encryption_key_file).

    \b
    Examples:
      touchlog keys new > /etc/touchlog/keys && chmod 600 /etc/touchlog/keys
      touchlog keys rotate     # after putting a new key on the file's first line
    """


@keys.command("new")
def keys_new() -> None:
    """Print a fresh key: the first line of the key file encrypts, every line decrypts.

    \b
    Example:
      touchlog keys new > keys.new && cat /etc/touchlog/keys >> keys.new
    """
    from store.encryption.keyring import new_key

    say(new_key())


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Re-encrypt every value and attachment with the file's first key, then say how many.

    \b
    Example:
      touchlog keys rotate     # then older keys can be removed from the file
    """
    from store.encryption.keys import rotate_all
    from sync import state

    settings = open_store(ctx)
    if not settings.database.encryption_key_file:
        raise ConfigError("database.encryption_key_file is not set: make a key with "
                          "touchlog keys new and name its file there")
    state.ensure_tables()
    done, ring = rotate_all(settings.attachments_path(), tuple(state.SYNC_MODELS))
    say(f"re-encrypted {done.values} values and {done.files} attachment files with key "
               f"{ring.current_id}; older keys can now be removed from {ring.path}")
