"""Modules over 300 lines and functions over 40 in the product code (cli.py, commands/, poller/,
store/, sync/): the house limits of STYLE.md, measured with ast. Exit 1 when any is over.

    .venv/bin/python tools/sizes.py [--max-module 300] [--max-function 40]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("cli.py", "commands", "poller", "store", "sync")


def product_files() -> list[Path]:
    files: list[Path] = []
    for name in PRODUCT:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
    return files


def oversized(max_module: int, max_function: int) -> list[str]:
    found = []
    for path in product_files():
        text = path.read_text()
        where = path.relative_to(ROOT)
        lines = len(text.splitlines())
        if lines > max_module:
            found.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > max_function:
                    found.append(f"{where}:{node.lineno}: {node.name}() {length} lines")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-module", type=int, default=300)
    parser.add_argument("--max-function", type=int, default=40)
    args = parser.parse_args()
    found = oversized(args.max_module, args.max_function)
    print("\n".join(found) or "every module and function is within the limits")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
