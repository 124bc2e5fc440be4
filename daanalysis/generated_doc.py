"""The command behind each generated document (the data contract, the assumptions log): print
it, write it (``--out``) or check that a committed copy is up to date (``--check``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def command(
    argv: list[str] | None, *, prog: str, doc: str, markdown: Callable[[], str], regenerate: str
) -> int:
    """Run the document's command line; 0 when done or up to date, 1 when ``--check`` finds the
    file out of date (the message names the command that regenerates it)."""
    parser = argparse.ArgumentParser(prog=prog, description=f"Write {doc}.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--out", type=Path, help="write the document to this file")
    group.add_argument("--check", type=Path, help="exit 1 if this file is out of date")
    args = parser.parse_args(argv)
    text = markdown()
    if args.out:
        args.out.write_text(text, encoding="utf-8", newline="\n")
    elif args.check:
        if args.check.read_text(encoding="utf-8") != text:
            print(
                f"{args.check} is out of date; regenerate it with `{regenerate}`.", file=sys.stderr
            )
            return 1
    else:
        sys.stdout.write(text)
    return 0
