"""Without mpi4py, the error names the extra to install."""

from __future__ import annotations

import os
import subprocess
import sys


def test_without_mpi4py_init_process_group_names_the_extra(tmp_path) -> None:
    fake = tmp_path / "mpi4py"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'mpi4py'\", name='mpi4py')\n")
    code = "import rosenblatt.distributed as d; d.init_process_group('gloo')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert result.returncode != 0
    assert "pip install -e '.[distributed]'" in result.stderr
