"""Every tutorial in docs/tutorials runs in fast mode (ROSENBLATT_TUTORIAL_FAST=1) and renders.

Each tutorial's own asserts check the numbers its prose states and its exercises' solutions;
a failing cell fails the test with the cell's source line and traceback.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_tutorials",
                                               REPO / "scripts" / "run_tutorials.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules["run_tutorials"] = runner
_spec.loader.exec_module(runner)

TUTORIALS = runner.find_tutorials()
CHAPTER = re.compile(r"^\d\d_")


def test_the_chapters_are_found():
    assert any(CHAPTER.match(p.name) for p in TUTORIALS), "no docs/tutorials/NN_*.md found"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_fast_mode(path: Path, tmp_path: Path):
    run = runner.run_tutorial(path, fast=True, out_dir=tmp_path)
    rendered = run.rendered.read_text(encoding="utf-8")
    assert "jupytext" not in rendered.split("\n", 3)[0]
    for cell in run.cells:
        for fig in cell.figures:
            assert fig.stat().st_size > 1000, f"{fig} is empty"
            assert fig.relative_to(tmp_path).as_posix() in rendered
    if CHAPTER.match(path.name):
        solutions = [c for c in run.cells if "solution" in c.tags]
        assert solutions, f"{path.name} has no exercise solution cell (tags=[\"solution\"])"
        assert all("assert" in c.source for c in solutions), "a solution cell checks nothing"
        assert '??? success "Solution"' in rendered


NOTEBOOK = '''---
jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
---

# A test notebook

```python
import os
import matplotlib.pyplot as plt
fast = os.environ.get("ROSENBLATT_TUTORIAL_FAST") == "1"
plt.plot([0, 1], [1, 0])
x = 6 * 7
```

```python
x
```

```python tags=["solution"]
assert x == 42
print("checked", x)
```
'''


def test_runner_executes_cells_in_one_namespace_and_renders(tmp_path: Path):
    nb = tmp_path / "nb.md"
    nb.write_text(NOTEBOOK)
    assert runner.find_tutorials(tmp_path) == [nb]
    run = runner.run_tutorial(nb, fast=True, out_dir=tmp_path / "out")
    assert run.namespace["fast"] is True and run.namespace["x"] == 42
    assert [c.output for c in run.cells] == ["", "42\n", "checked 42\n"]
    assert len(run.cells[0].figures) == 1
    text = run.rendered.read_text()
    assert "![figure](nb_files/cell1_fig1.png)" in text
    assert '??? success "Solution"\n\n    ```python\n    assert x == 42' in text
    assert runner.run_tutorial(nb, fast=False).namespace["fast"] is False
    nb.write_text(NOTEBOOK.replace("plt.plot([0, 1], [1, 0])", ""))
    runner.run_tutorial(nb, fast=True, out_dir=tmp_path / "out")
    assert not list((tmp_path / "out" / "nb_files").glob("*.png"))  # the old figure is gone


def test_runner_names_the_failing_cell(tmp_path: Path):
    nb = tmp_path / "bad.md"
    nb.write_text(NOTEBOOK.replace("x == 42", "x == 41"))
    with pytest.raises(runner.TutorialError, match=r"bad.md: code cell 3 \('assert x == 41'\)"):
        runner.run_tutorial(nb, fast=True)


def test_plain_markdown_is_not_a_tutorial(tmp_path: Path):
    (tmp_path / "page.md").write_text("# Just a page\n\n```python\nraise SystemExit\n```\n")
    assert runner.find_tutorials(tmp_path) == []
