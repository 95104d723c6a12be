"""The architecture rules that keep the code base honest."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rosenblatt"


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
