"""The `rosenblatt` command: each area registers its own subcommands.

A module listed in COMMAND_MODULES defines `register(subparsers)`, which adds its
subcommand parser(s) and sets `func=callable(args) -> int` on them. Heavy libraries are
imported inside those callables, so `rosenblatt --help` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

COMMAND_MODULES = (
    "rosenblatt.train.cli",  # train, evaluate, summary
    "rosenblatt.inspect.cli",  # explain
    "rosenblatt.text.cli",  # text train / text generate
    "rosenblatt.generate.cli",  # generate train / sample / evaluate (AE, VAE, DCGAN, DDPM)
    "rosenblatt.apps.digits.cli",  # zip read / evaluate / make-samples / retrain
    "rosenblatt.serve.cli",  # serve (the ZIP reader or a trained image classifier)
    "rosenblatt.run",  # run (an unmodified PyTorch program)
    "rosenblatt.distributed.run",  # launch (several processes, over MPI)
    "rosenblatt.doctor.cli",  # doctor
    "rosenblatt.onnx.cli",  # export (ONNX)
    "rosenblatt.ao.prune_cli",  # prune (iterative pruning with fine-tuning)
    "rosenblatt.ao.quantize_cli",  # quantize (int8, measured)
    "rosenblatt.docs_cli",  # docs (render the tutorials, serve or build the site)
)


# the optional extra (pyproject.toml) that brings each optional top-level module
EXTRAS = {
    "uvicorn": "serve", "fastapi": "serve", "starlette": "serve", "multipart": "serve",
    "python_multipart": "serve", "PIL": "images", "scipy": "images", "onnx": "export",
    "onnxruntime": "export", "cupy": "gpu", "cupyx": "gpu", "safetensors": "train",
    "tqdm": "train", "matplotlib": "train", "sklearn": "train", "threadpoolctl": "train",
    "tensorboard": "tensorboard", "mpi4py": "distributed", "psycopg": "postgres",
    "jupytext": "docs", "mkdocs": "docs", "material": "docs", "mkdocstrings": "docs",
}
DATA_ROOT_HELP = ("folder holding the data sets (mnist/, fashion-mnist/, tinyshakespeare/); "
                  "default: $ROSENBLATT_DATA, else ~/.rosenblatt/data")


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default, except where there is none (None, False, '')."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == "":
            return action.help or ""
        return super()._get_help_string(action) or ""


def add_data_root(parser: argparse.ArgumentParser) -> None:
    """The --data-root option, with the one rule every command follows."""
    parser.add_argument("--data-root", default=None, metavar="FOLDER", help=DATA_ROOT_HELP)


def add_command_group(subparsers: Any, name: str, dest: str, metavar: str = "ACTION",
                      **kwargs: Any) -> Any:
    """Add `rosenblatt NAME ACTION ...`: the parser NAME (kwargs: help, description) and its
    required subcommands, whose `add_parser` makes each ACTION's parser (with DefaultsHelp)."""
    parser = subparsers.add_parser(name, **kwargs)
    action_parser = functools.partial(type(parser), formatter_class=DefaultsHelp)
    group = parser.add_subparsers(dest=dest, metavar=metavar, parser_class=action_parser)
    group.required = True
    return group


def add_run_options(parser: argparse.ArgumentParser, progress: bool = False,
                    threads_help: str = "BLAS threads") -> None:
    """--seed (0) and --threads (1, for `limit_blas_threads`), and with `progress`
    --no-progress: the options of a command that trains or samples."""
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--threads", type=int, default=1, help=threads_help)
    if progress:
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def argument_type(text: str, convert: Callable[[str], Any], ok: Callable[[Any], bool],
                  expected: str) -> Any:
    """`convert(text)` if it succeeds and passes `ok`; else argparse's 'expected ..., got ...'."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An option's value that must be an integer >= 1 (argparse `type=`)."""
    return argument_type(text, int, lambda v: v >= 1, "a positive integer")


def positive_float(text: str) -> float:
    """An option's value that must be a finite number > 0 (argparse `type=`)."""
    return argument_type(text, float, lambda v: v > 0 and math.isfinite(v), "a positive number")


def use_data_root(args: argparse.Namespace) -> None:
    """Make --data-root, when given, the $ROSENBLATT_DATA of this process and its workers."""
    root = getattr(args, "data_root", None)
    if root is not None:
        folder = Path(root).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"--data-root {root} is not a folder")
        os.environ["ROSENBLATT_DATA"] = str(folder.resolve())


def command_name() -> str:
    """How this command was started (`.venv/bin/rosenblatt`, `rosenblatt`), for hints that
    must work when pasted."""
    started = sys.argv[0] if sys.argv else ""
    return started if Path(started).name == "rosenblatt" else "rosenblatt"


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one-line hint for a missing optional dependency, or None when it is not one."""
    top = (error.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return (f"this needs the optional '{extra}' dependencies (no module named {top!r}): "
            f"pip install -e '.[{extra}]' in the checkout, or pip install 'rosenblatt[{extra}]'")


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
    except ModuleNotFoundError as e:
        hint = missing_extra(e)
        if hint is None:
            raise
        print(f"rosenblatt {args.command}: error: {hint}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"rosenblatt {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
