"""The architecture rules that keep the code base honest."""

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "rosenblatt"


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "_backend" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("numpy", "cupy") for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == [], f"import numpy/cupy through rosenblatt._backend: {offenders}"


def test_import_loads_no_heavy_optional_library():
    code = (
        "import sys, rosenblatt\n"
        "heavy = [m for m in ('torch', 'scipy', 'matplotlib', 'sklearn', 'fastapi', 'tqdm',"
        " 'safetensors', 'PIL', 'cupy') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_checkout_folder_named_like_the_package_is_not_imported(tmp_path) -> None:
    """src layout: Python started beside a folder named rosenblatt/ (a checkout's root)
    still finds the installed package, not an empty namespace package."""
    (tmp_path / "rosenblatt" / "tests").mkdir(parents=True)
    found = subprocess.run(
        [sys.executable, "-c",
         "import importlib.util as u; print(u.find_spec('rosenblatt').origin)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert found.stdout.strip().endswith(str(Path("src", "rosenblatt", "__init__.py")))


def test_test_files_have_unique_names() -> None:
    """tests/ has no __init__.py files, so pytest imports each test file by its basename:
    two files with one name (tests/a/test_cli.py, tests/b/test_cli.py) fail collection."""
    tests = Path(__file__).parent
    seen: dict[str, Path] = {}
    for path in sorted(tests.rglob("test_*.py")):
        assert path.name not in seen, f"{path} and {seen[path.name]} share a name"
        seen[path.name] = path
