"""`rosenblatt run script.py [args...]`: an unmodified PyTorch program, run on Rosenblatt.

An import hook at the front of `sys.meta_path` resolves `torch` and `torch.X.Y` to
`rosenblatt` and `rosenblatt.X.Y`, and `torchvision...` to `rosenblatt.vision...`: the
program gets the very module objects Rosenblatt imports itself, so `torch.nn.Linear is
rosenblatt.nn.Linear`. The program runs as `__main__` (runpy) with its own `sys.argv`, and
its folder first on `sys.path`, as `python script.py args` would run it. A submodule that
Rosenblatt does not have fails at its import with an error that names the torch path.

Also `python -m rosenblatt.run script.py [args...]`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any

# torch's top-level package names and the Rosenblatt packages that stand in for them
ALIASES = {"torch": "rosenblatt", "torchvision": "rosenblatt.vision"}


def rosenblatt_name(fullname: str) -> str | None:
    """The Rosenblatt module that stands in for a torch module name, or None if not aliased."""
    top, dot, rest = fullname.partition(".")
    if top not in ALIASES:
        return None
    return ALIASES[top] + dot + rest


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already imported Rosenblatt module under the torch name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.original_spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # the import system stamped the alias spec on the module; it keeps its own identity
        module.__spec__ = self.original_spec


class TorchFinder(importlib.abc.MetaPathFinder):
    """Finds `torch...` / `torchvision...` imports and answers with Rosenblatt's modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        name = rosenblatt_name(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
                raise  # something the Rosenblatt module itself imports is missing
            raise ModuleNotFoundError(
                f"No module named '{fullname}': Rosenblatt does not have `{fullname}` yet "
                f"(it would be `{name}`)", name=fullname) from None
        is_package = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=is_package)
        if is_package:
            spec.submodule_search_locations = list(module.__path__)
        return spec


_FINDER = TorchFinder()


_displaced: dict[str, ModuleType] = {}  # a real torch imported before install(), put back after


def _torch_names() -> list[str]:
    return [m for m in sys.modules if m.partition(".")[0] in ALIASES]


def install() -> None:
    """Put the torch-to-Rosenblatt import hook first on sys.meta_path (idempotent)."""
    for name in _torch_names():
        # a real torch imported earlier would shadow the hook: set it aside
        if not getattr(sys.modules[name], "__name__", "").startswith("rosenblatt"):
            _displaced[name] = sys.modules.pop(name)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Remove the import hook and its torch names; put back a real torch it set aside."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in _torch_names():
        del sys.modules[name]
    sys.modules.update(_displaced)
    _displaced.clear()


def run_path(script: str | os.PathLike, args: Sequence[str] = ()) -> None:
    """Run a PyTorch program as `__main__` with torch resolved to Rosenblatt."""
    path = os.path.abspath(script)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such program: {script}")
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, os.path.dirname(path))
    install()
    try:
        runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def _exit_status(code: Any) -> int:
    """SystemExit's code as a process exit status (a message is printed, as Python does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rosenblatt.run script.py [args...]`; the program's exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m rosenblatt.run script.py [args...]", file=sys.stderr)
        return 0 if argv else 2
    return _run(argv[0], argv[1:])


def _run(script: str, args: Sequence[str]) -> int:
    """Run the program; its traceback and exit status as `python script.py` gives them."""
    try:
        run_path(script, args)
    except SystemExit as e:
        return _exit_status(e.code)
    except FileNotFoundError as e:
        if e.filename is None and str(e).startswith("no such program"):
            print(f"rosenblatt run: error: {e}", file=sys.stderr)
            return 2
        _print_program_traceback(e, os.path.abspath(script))
        return 1
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - the program's own error, reported like Python
        _print_program_traceback(e, os.path.abspath(script))
        return 1
    return 0


def _print_program_traceback(error: BaseException, path: str) -> None:
    """The traceback from the program's first frame on, as `python script.py` prints it
    (the launcher's and runpy's frames left out)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb or error.__traceback__)


def register(subparsers: Any) -> None:
    """Add `rosenblatt run` to the command line."""
    parser = subparsers.add_parser(
        "run", help="run an unmodified PyTorch program on Rosenblatt",
        description="Run a PyTorch program with `torch` and `torchvision` resolved to "
                    "Rosenblatt, as `python script.py args...` would run it.")
    parser.add_argument("script", help="the program (a .py file)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the program's own arguments")
    parser.set_defaults(func=lambda a: _run(a.script, a.args))


if __name__ == "__main__":
    sys.exit(main())
