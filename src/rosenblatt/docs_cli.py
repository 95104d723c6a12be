"""`rosenblatt docs`: render the course's tutorials (with their outputs and figures) and serve
the documentation site locally (`mkdocs serve`); `rosenblatt docs --build DIR` only builds it.

Works in a checkout of the repository (it needs mkdocs.yml, docs/ and scripts/run_tutorials.py)
with the optional 'docs' dependencies: pip install -e '.[docs]'.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

RENDER_MODES = ("fast", "full", "none")


def find_checkout(start: Path | None = None) -> Path:
    """The repository root holding mkdocs.yml: the current folder or a parent of it, else the
    checkout this package was installed from in editable mode."""
    here = (start or Path.cwd()).resolve()
    package_root = Path(__file__).resolve().parents[2]
    for folder in (here, *here.parents, package_root):
        if (folder / "mkdocs.yml").is_file() and (folder / "docs").is_dir():
            return folder
    raise FileNotFoundError(f"rosenblatt docs needs a checkout of the repository: no mkdocs.yml "
                            f"in {here} or its parents")


def _need_docs_tools() -> None:
    """Fail before any work when a docs tool is missing (the CLI names the 'docs' extra)."""
    for module in ("mkdocs", "material", "mkdocstrings", "jupytext"):
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)


def render_tutorials(root: Path, mode: str, names: list[str]) -> int:
    """Run scripts/run_tutorials.py (fast or full size) into build/tutorials; its exit status."""
    if mode == "none":
        return 0
    command = [sys.executable, str(root / "scripts" / "run_tutorials.py"),
               "--out", str(root / "build" / "tutorials"), *names]
    if mode == "fast":
        command.append("--fast")
    return subprocess.call(command, cwd=root)


def mkdocs_command(root: Path, build: str | None, address: str) -> list[str]:
    """The mkdocs command line: a strict build into `build`, or a local server."""
    config = ["-f", str(root / "mkdocs.yml")]
    if build is not None:
        return [sys.executable, "-m", "mkdocs", "build", "--strict", *config,
                "-d", str(Path(build).resolve())]
    return [sys.executable, "-m", "mkdocs", "serve", *config, "-a", address]


def run_docs(args: argparse.Namespace) -> int:
    """Render the tutorials, then build or serve the site."""
    _need_docs_tools()
    root = find_checkout()
    status = render_tutorials(root, args.render, args.tutorials)
    if status != 0:
        print(f"rosenblatt docs: error: a tutorial failed (exit status {status}); the site was "
              f"not built", file=sys.stderr)
        return status
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    status = subprocess.call(mkdocs_command(root, args.build, args.address), cwd=root, env=env)
    if status == 0 and args.build is not None:
        first = sorted(Path(args.build).glob("tutorials/[0-9][0-9]_*/index.html"))
        where = f"; the course starts at {first[0]}" if first else ""
        print(f"site built in {args.build}{where}")
    return status


def register(subparsers: Any) -> None:
    """Add the docs subcommand."""
    p = subparsers.add_parser(
        "docs", help="render the tutorials and serve (or --build) the documentation site",
        description="Render the course's tutorials with their outputs (scripts/run_tutorials.py "
                    "into build/tutorials), then serve the site at ADDRESS (mkdocs serve) or "
                    "build it into DIR with warnings as errors.")
    p.add_argument("--build", metavar="DIR", default=None,
                   help="build the site into DIR instead of serving it")
    p.add_argument("--render", choices=RENDER_MODES, default="fast",
                   help="run the tutorials small and quick (fast, as CI), at full size (full: "
                        "reproduces the stated results, takes long), or not at all (none: "
                        "pages show the code without outputs, or the last rendered copies)")
    p.add_argument("--tutorials", nargs="*", default=[], metavar="PREFIX",
                   help="render only the tutorials whose file names start so (e.g. 01 11)")
    p.add_argument("--address", default="127.0.0.1:8000", help="where `mkdocs serve` listens")
    p.set_defaults(func=run_docs)
