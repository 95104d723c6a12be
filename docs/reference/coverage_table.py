"""The 'from PyTorch' page's tables, computed: which `torch...` imports `rosenblatt run` answers
(from the import hook's ALIASES in src/rosenblatt/run.py and the package's module tree), and,
where PyTorch is installed, how many of each torch module's public names Rosenblatt has."""

from __future__ import annotations

import importlib
import inspect
import warnings
from types import ModuleType


def torch_name(module: str, aliases: dict[str, str]) -> str | None:
    """The torch import a Rosenblatt module answers: the inverse of run.rosenblatt_name."""
    best = None
    for torch_top, rb_top in aliases.items():
        if module == rb_top or module.startswith(rb_top + "."):
            if best is None or len(rb_top) > len(best[1]):
                best = (torch_top, rb_top)
    return None if best is None else best[0] + module[len(best[1]):]


def _public(module: ModuleType) -> set[str]:
    """A module's public names that are not themselves modules."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    with warnings.catch_warnings():  # deprecated torch names warn when read
        warnings.simplefilter("ignore")
        return {n for n in names if not inspect.ismodule(getattr(module, n, None))}


def _import(name: str) -> ModuleType | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a torch module that fails to import counts as absent
        return None


def coverage(module: str, torch_module: str) -> tuple[int, int, list[str]] | None:
    """(names Rosenblatt has, torch's public names, the missing ones), or None without torch."""
    theirs, ours = _import(torch_module), _import(module)
    if theirs is None or ours is None or not getattr(theirs, "__name__", "").startswith("torch"):
        return None
    wanted = _public(theirs)
    missing = sorted(n for n in wanted if not hasattr(ours, n))
    return len(wanted) - len(missing), len(wanted), missing


def markdown(modules: list[str]) -> str:
    """The generated part of docs/from_pytorch.md."""
    from rosenblatt.run import ALIASES

    aliases = "\n".join(f"| `{t}` | `{r}` |" for t, r in ALIASES.items())
    rows, details, own = [], [], []
    torch_here = _import("torch") is not None
    for module in modules:
        name = torch_name(module, ALIASES)
        found = None if name is None else coverage(module, name)
        if found is None:
            own.append(f"`{module}`")
            continue
        have, want, missing = found
        rows.append(f"| `{name}` | `{module}` | {have} of {want} |")
        if missing:
            listed = ", ".join(f"`{n}`" for n in missing)
            details.append(f'??? note "`{name}`: {len(missing)} names not here yet"\n\n'
                           f"    {listed}\n")
    return ("| torch import | answered by |\n| --- | --- |\n" + aliases + "\n\n"
            "## Module by module\n\nEvery public Rosenblatt module and the torch import that "
            "resolves to it; the last column counts the torch module's public names (its "
            "`__all__`, or its names without a leading underscore, submodules left out) that "
            "the Rosenblatt module has.\n\n"
            + ("" if torch_here else "**PyTorch was not installed when this page was built: "
               "no module could be compared.**\n\n")
            + "| torch import | Rosenblatt module | torch's public names here |\n"
            "| --- | --- | --- |\n" + "\n".join(rows) + "\n\n"
            "Modules with no torch counterpart (Rosenblatt's own tools, or a torch path that "
            "does not exist): " + ", ".join(own) + ".\n\n"
            "## What is missing, module by module\n\n" + ("\n".join(details) or "Nothing.\n"))
