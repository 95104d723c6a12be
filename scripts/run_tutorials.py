"""Run the course's tutorials (docs/tutorials/*.md, jupytext Markdown notebooks) and render them.

Usage (from the repository root):

    .venv/bin/python scripts/run_tutorials.py                 # every tutorial, full size
    .venv/bin/python scripts/run_tutorials.py --fast          # small data, few steps (as CI)
    .venv/bin/python scripts/run_tutorials.py 03 05_primer    # the tutorials whose names start so
    .venv/bin/python scripts/run_tutorials.py --out site_src/tutorials   # where rendered copies go

A tutorial is any docs/tutorials/*.md that starts with a jupytext YAML header
(`jupyter: jupytext: ...`). Its ```python cells run in order in one namespace, like a notebook
kernel, but as plain `exec` in this process (no Jupyter needed, so CI stays fast), with the working
directory set to a fresh temporary folder so files a tutorial writes do not land in the checkout.
Like Jupyter, a cell whose last statement is an expression shows that expression's repr
(a trailing `;` hides it).
Matplotlib runs on the Agg backend; every figure open at the end of a cell is saved and closed.

Data sets are read from $ROSENBLATT_DATA (default: ../shared/data beside the checkout when it
exists, else ~/.rosenblatt/data; a full run downloads MNIST there when it is missing).

Fast mode is the environment variable ROSENBLATT_TUTORIAL_FAST=1 (`--fast` sets it); tutorials
read it through `FAST = os.environ.get("ROSENBLATT_TUTORIAL_FAST") == "1"` and shrink their data
and step counts. A run without it reproduces the numbers the prose states.

Rendering (unless --no-render) writes OUT/NAME.md for the documentation site: the Markdown cells
as they are, each code cell followed by its printed output (a ```text block) and its figures
(OUT/NAME_files/cellC_figF.png). Code cells tagged `solution` (```python tags=["solution"])
render inside a collapsed admonition (`??? success "Solution"`, MkDocs Material); cells tagged
`hide-input` show only their output. Exercise solutions are ordinary cells to the runner: they
run, and their asserts are what the tests check.

In Python: `find_tutorials()`, `run_tutorial(path, fast=True, out_dir=None) -> TutorialRun`.
tests/docs/test_tutorials.py runs each tutorial this way in fast mode.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TUTORIALS = REPO / "docs" / "tutorials"
FAST_VAR = "ROSENBLATT_TUTORIAL_FAST"


class TutorialError(RuntimeError):
    """A tutorial's code cell raised: names the tutorial, the cell and its first line."""

    cells: list = []  # the cells that ran before it (CellResult), with their outputs


@dataclass
class CellResult:
    """One executed code cell: its source, tags, printed output, saved figures and times."""

    index: int
    source: str
    tags: list[str]
    output: str = ""
    figures: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class TutorialRun:
    """One tutorial's run: its cells' results, total times and the final namespace."""

    path: Path
    cells: list[CellResult]
    seconds: float
    cpu_seconds: float
    namespace: dict[str, Any]
    rendered: Path | None = None


def is_tutorial(path: Path) -> bool:
    """True when a Markdown file starts with a jupytext YAML header."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    header = text[4:text.find("\n---", 4)]
    return "jupytext:" in header


def find_tutorials(folder: Path = TUTORIALS) -> list[Path]:
    """Every jupytext Markdown notebook in `folder`, sorted by name."""
    return sorted(p for p in folder.glob("*.md") if is_tutorial(p))


def _read(path: Path) -> Any:
    try:
        import jupytext
    except ImportError as exc:  # pragma: no cover - reported, not tested
        raise SystemExit("running tutorials needs jupytext: pip install 'rosenblatt[docs]'"
                         ) from exc
    return jupytext.read(path)


def _exec_cell(source: str, namespace: dict, filename: str) -> None:
    """Run one cell; a trailing expression's repr is printed as Jupyter shows it (not after ;)."""
    tree = ast.parse(source, filename=filename)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and not source.rstrip().endswith(";"):
        body = ast.Module(body=tree.body[:-1], type_ignores=[])
        exec(compile(body, filename, "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            print(repr(value))
    else:
        exec(compile(tree, filename, "exec"), namespace)


def _save_figures(files_dir: Path | None, cell: int) -> list[Path]:
    """Save and close every open matplotlib figure (none when matplotlib was not imported)."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    saved = []
    for k, num in enumerate(plt.get_fignums(), start=1):
        fig = plt.figure(num)
        if files_dir is not None:
            files_dir.mkdir(parents=True, exist_ok=True)
            target = files_dir / f"cell{cell}_fig{k}.png"
            fig.savefig(target, dpi=90, bbox_inches="tight")
            saved.append(target)
        plt.close(fig)
    return saved


def run_tutorial(path: Path, fast: bool = True, out_dir: Path | None = None) -> TutorialRun:
    """Execute a tutorial's code cells in order; render it to out_dir/NAME.md when given."""
    path = Path(path).resolve()
    nb = _read(path)
    files_dir = out_dir / f"{path.stem}_files" if out_dir is not None else None
    if files_dir is not None and files_dir.is_dir():
        shutil.rmtree(files_dir)  # no figure left over from an earlier run's cell numbering
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    results: list[CellResult] = []
    saved_env = os.environ.get(FAST_VAR)
    saved_cwd = os.getcwd()
    os.environ["MPLBACKEND"] = "Agg"
    if fast:
        os.environ[FAST_VAR] = "1"
    else:
        os.environ.pop(FAST_VAR, None)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        with tempfile.TemporaryDirectory(prefix=f"tutorial_{path.stem}_") as work:
            os.chdir(work)
            code = [c for c in nb.cells if c.cell_type == "code"]
            for index, cell in enumerate(code, start=1):
                result = CellResult(index, cell.source, list(cell.metadata.get("tags", [])))
                buffer = io.StringIO()
                t0, cpu0 = time.perf_counter(), time.process_time()
                try:
                    with contextlib.redirect_stdout(buffer):
                        _exec_cell(cell.source, namespace, f"<{path.name} cell {index}>")
                except Exception as exc:
                    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                    error = TutorialError(
                        f"{path.name}: code cell {index} ({first!r}) raised "
                        f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
                        f"--- output so far ---\n{buffer.getvalue()[-2000:]}")
                    error.cells = results  # the cells that ran, with their outputs
                    raise error from exc
                result.seconds = time.perf_counter() - t0
                result.cpu_seconds = time.process_time() - cpu0
                result.output = buffer.getvalue()
                result.figures = _save_figures(files_dir, index)
                results.append(result)
    finally:
        os.chdir(saved_cwd)
        if saved_env is None:
            os.environ.pop(FAST_VAR, None)
        else:
            os.environ[FAST_VAR] = saved_env
    run = TutorialRun(path, results, time.perf_counter() - start,
                      time.process_time() - cpu_start, namespace)
    if out_dir is not None:
        run.rendered = render(nb, run, out_dir)
    return run


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _render_cell(cell: CellResult, out_dir: Path) -> str:
    parts = []
    if "hide-input" not in cell.tags:
        parts.append(f"```python\n{cell.source.rstrip()}\n```")
    if cell.output.strip():
        parts.append(f"```text\n{cell.output.rstrip()}\n```")
    for fig in cell.figures:
        parts.append(f"![figure]({fig.relative_to(out_dir).as_posix()})")
    text = "\n\n".join(parts)
    if "solution" in cell.tags:
        text = '??? success "Solution"\n\n' + _indent(text, "    ")
    return text


def render(nb: Any, run: TutorialRun, out_dir: Path) -> Path:
    """Write out_dir/NAME.md: Markdown cells as they are, code cells with their outputs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_index = iter(run.cells)
    blocks = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks.append(cell.source.rstrip())
        elif cell.cell_type == "code":
            blocks.append(_render_cell(next(by_index), out_dir))
    target = out_dir / run.path.name
    target.write_text("\n\n".join(b for b in blocks if b) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: run (and render) the selected tutorials, print each one's times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only tutorials whose file names start so")
    parser.add_argument("--fast", action="store_true", help=f"fast mode ({FAST_VAR}=1)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "tutorials",
                        help="folder for the rendered copies (default build/tutorials)")
    parser.add_argument("--no-render", action="store_true", help="run only, write nothing")
    parser.add_argument("--folder", type=Path, default=TUTORIALS, help="where the tutorials are")
    args = parser.parse_args(argv)
    # the tutorials' arrays are small: BLAS thread pools cost more than they gain (set before
    # a cell first imports NumPy, which reads these once)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    shared = REPO.parent / "shared" / "data"  # the data folder beside the checkout, as in tests
    if "ROSENBLATT_DATA" not in os.environ and shared.is_dir():
        os.environ["ROSENBLATT_DATA"] = str(shared)
    paths = [p for p in find_tutorials(args.folder)
             if not args.names or any(p.name.startswith(n) for n in args.names)]
    if not paths:
        parser.error(f"no tutorial in {args.folder} matches {args.names}")
    fast = args.fast or os.environ.get(FAST_VAR) == "1"
    failed = 0
    for path in paths:
        try:
            run = run_tutorial(path, fast=fast, out_dir=None if args.no_render else args.out)
        except TutorialError as exc:
            failed += 1
            print(f"FAIL {path.name}\n{exc}", file=sys.stderr)
            continue
        where = f" -> {run.rendered}" if run.rendered else ""
        print(f"ok   {path.name:40s} {run.seconds:6.1f} s ({run.cpu_seconds:.1f} s CPU){where}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
