"""The documentation site builds with warnings as errors (`rosenblatt docs --build DIR`, that is
`mkdocs build --strict`), with a reference page per public module and the computed PyTorch
coverage page. Built from the tutorials' sources (no rendered copies), so the result does not
depend on what was rendered locally."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers", "jupytext")
MISSING = [m for m in TOOLS if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the site needs the 'docs' extra (missing: {', '.join(MISSING)})")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, ROSENBLATT_RENDERED_TUTORIALS=str(out / "no-rendered-copies"))
    done = subprocess.run([sys.executable, "-m", "rosenblatt", "docs", "--build", str(out / "site"),
                           "--render", "none"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "site"


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def test_every_public_module_has_a_reference_page(site: Path):
    sys.path.insert(0, str(REPO / "docs" / "reference"))
    try:
        import hooks
    finally:
        sys.path.pop(0)
    modules = hooks.public_modules()
    assert "rosenblatt.nn.modules.linear" in modules and "rosenblatt.autograd.engine" in modules
    assert not [m for m in modules if any(p.startswith("_") for p in m.split("."))]
    for module in modules:
        assert (site / "reference" / module / "index.html").is_file(), module
    linear = _text(site / "reference" / "rosenblatt.nn.modules.linear" / "index.html")
    assert "(*, in_features) -&gt; (*, out_features)" in linear  # shapes kept, not italics
    # names defined in a private module are documented where they are public
    functional = _text(site / "reference" / "rosenblatt.nn.functional" / "index.html")
    assert 'id="rosenblatt.nn.functional.leaky_relu"' in functional
    index = _text(site / "reference" / "index.html")
    assert all(f"{m}/" in index for m in modules)


def test_the_pytorch_page_is_computed_from_the_import_hook(site: Path):
    page = _text(site / "from_pytorch" / "index.html")
    assert "<code>torchvision</code>" in page and "<code>rosenblatt.vision</code>" in page
    assert "<code>torch.nn.functional</code>" in page and " of " in page
    assert "generated: torch coverage" not in page


def test_architecture_and_the_course_are_on_the_site(site: Path):
    assert "The folders of the package" in _text(site / "ARCHITECTURE" / "index.html")
    chapters = sorted(p.stem for p in (REPO / "docs" / "tutorials").glob("[0-9][0-9]_*.md"))
    assert chapters
    for name in chapters:
        assert (site / "tutorials" / name / "index.html").is_file(), name
    home = _text(site / "index.html")
    assert all(f"tutorials/{name}/" in home for name in chapters)


def test_docs_names_the_extra_when_a_tool_is_missing(monkeypatch, capsys, tmp_path):
    from rosenblatt import docs_cli
    from rosenblatt.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(docs_cli.importlib.util, "find_spec",
                        lambda name, *a: None if name == "mkdocs" else real(name, *a))
    assert main(["docs", "--build", str(tmp_path / "site")]) == 1
    assert "pip install -e '.[docs]'" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()
