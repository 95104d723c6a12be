"""MkDocs hooks that generate the site's computed pages (the API reference, the PyTorch coverage
table, the navigation) and show each tutorial with its outputs when the runner has rendered it.

Nothing here is typed by hand per module: the reference has one page per public module of
`src/rosenblatt` (no path part starting with `_`), found by walking the source tree, and each
page is one mkdocstrings directive that renders that module's public names from their docstrings.
"""

from __future__ import annotations

import ast
import logging
import os
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "rosenblatt"
RENDERED = Path(os.environ.get("ROSENBLATT_RENDERED_TUTORIALS", ROOT / "build" / "tutorials"))
TABLE_MARK = "<!-- generated: torch coverage -->"
log = logging.getLogger("mkdocs.hooks.rosenblatt")

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
import coverage_table  # noqa: E402  (the hook's folder is not on sys.path by itself)


def public_modules(package: Path = PACKAGE) -> list[str]:
    """Dotted names of the package's public modules, parents before children, found on disk."""
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts) or "__pycache__" in path.parts:
            continue
        names.append(".".join(parts))
    return sorted(names)


def module_summary(name: str) -> str:
    """The first line of a module's docstring, read without importing it."""
    base = PACKAGE.parent.joinpath(*name.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def reference_uri(name: str) -> str:
    return f"reference/{name}.md"


def _module_file(parts: list[str]) -> Path | None:
    base = PACKAGE.parent.joinpath(*parts)
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _defined(path: Path) -> set[str]:
    """Names a module defines at its top level with def or class."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def private_reexports(name: str) -> list[str]:
    """Public names a module takes from a private module (a path part starting with `_`) and
    passes on without using them itself (an import list such as nn.functional, or __all__):
    their only public home is this module, so its reference page documents them."""
    path = _module_file(name.split("."))
    assert path is not None, name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    exported = None
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                for t in node.targets):
            try:
                exported = set(ast.literal_eval(node.value))
            except ValueError:  # a computed __all__: fall back on "imported, not used"
                exported = None
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        base = package[:len(package) - node.level + 1] if node.level else []
        target = base + (node.module.split(".") if node.module else [])
        source = _module_file(target) if target and target[0] == "rosenblatt" else None
        if source is None or not any(part.startswith("_") for part in target):
            continue
        defined = _defined(source)
        for alias in node.names:
            shown = alias.asname or alias.name
            passed_on = shown in exported if exported is not None else shown not in used
            if alias.name in defined and not shown.startswith("_") and passed_on:
                found.append(shown)
    return found


def _reference_page(name: str) -> str:
    page = f"# `{name}`\n\n::: {name}\n"
    names = private_reexports(name)
    if names:
        page += ("\n## Defined in private modules, public here\n\n"
                 + "\n".join(f"::: {name}.{n}\n    options:\n      heading_level: 3\n"
                              "      show_root_heading: true\n"
                              "      show_root_full_path: false\n" for n in names))
    return page


def _reference_index(names: list[str]) -> str:
    rows = [f"| [`{n}`]({n}.md) | {module_summary(n).replace('|', '/')} |"
            for n in names]
    return ("# API reference\n\nEvery public module of the package, generated from its docstrings "
            "(`docs/reference/hooks.py` walks `src/rosenblatt`; a module whose name or folder "
            "starts with `_` is private).\n\n| module | what |\n| --- | --- |\n"
            + "\n".join(rows) + "\n")


def tutorials(docs_dir: Path) -> list[str]:
    """The course's chapters in order: docs/tutorials/NN_*.md, then the other guides there."""
    found = sorted(p.name for p in (docs_dir / "tutorials").glob("*.md"))
    numbered = [n for n in found if n[:2].isdigit()]
    return [f"tutorials/{n}" for n in numbered + [n for n in found if n not in numbered]]


def on_config(config: Any) -> Any:
    """The navigation: home, the course, the guides, then the generated API reference."""
    docs_dir = Path(config["docs_dir"])
    config["nav"] = [
        {"Home": "index.md"},
        {"Course": tutorials(docs_dir)},
        {"Architecture": "ARCHITECTURE.md"},
        {"From PyTorch": "from_pytorch.md"},
        {"Contributing": "CONTRIBUTING.md"},
        # the module pages are linked from the reference index, not listed in the navigation:
        # a 200-entry menu rendered into every page doubled the build time
        {"API reference": "reference/index.md"},
    ]
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add one generated reference page per public module, and the reference index."""
    names = public_modules()
    for name in names:
        files.append(File.generated(config, reference_uri(name), content=_reference_page(name)))
    files.append(File.generated(config, "reference/index.md", content=_reference_index(names)))
    # the figures of rendered tutorials (NAME_files/*.png beside NAME.md), for those that exist
    sources = {Path(f.src_uri).stem for f in files if f.src_uri.startswith("tutorials/")}
    for folder in sorted(RENDERED.glob("*_files")) if RENDERED.is_dir() else []:
        if folder.name[:-len("_files")] in sources:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                uri = f"tutorials/{path.relative_to(RENDERED).as_posix()}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_read_source(page: Any, config: Any) -> str | None:
    """A tutorial rendered by scripts/run_tutorials.py (with its outputs) replaces its source;
    the torch-coverage page gets its generated tables."""
    uri = page.file.src_uri
    if uri.startswith("tutorials/"):
        rendered = RENDERED / Path(uri).name
        source = Path(page.file.abs_src_path)
        if rendered.is_file() and rendered.stat().st_mtime >= source.stat().st_mtime:
            return rendered.read_text(encoding="utf-8")
        return None
    if uri == "from_pytorch.md":
        text = Path(page.file.abs_src_path).read_text(encoding="utf-8")
        return text.replace(TABLE_MARK, coverage_table.markdown(public_modules()))
    return None
