"""The `rosenblatt` command: each area registers its own subcommands.

A module listed in COMMAND_MODULES defines `register(subparsers)`, which adds its
subcommand parser(s) and sets `func=callable(args) -> int` on them. Heavy libraries are
imported inside those callables, so `rosenblatt --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

COMMAND_MODULES = (
    "rosenblatt.train.cli",  # train, evaluate, summary
    "rosenblatt.inspect.cli",  # explain
    "rosenblatt.text.cli",  # text train / text generate
    "rosenblatt.apps.digits.cli",  # zip read / evaluate / make-samples / retrain, serve
)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and exit status 2) instead of the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every area's subcommands that is installed."""
    parser = _Parser(prog="rosenblatt", description="Train, inspect and serve neural networks.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue  # that area is not part of this build yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"rosenblatt {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
