"""The short example programs run as users run them, and do what they say."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_xor_example_learns_xor():
    out = _run(str(EXAMPLES / "xor.py"))
    predictions = re.findall(r"(\d) xor (\d) -> [\d.]+ \((\d)\)", out)
    assert len(predictions) == 4
    assert all(int(a) ^ int(b) == int(p) for a, b, p in predictions), out


def test_mnist_mlp_example_trains(data_dir):
    out = _run(str(EXAMPLES / "mnist_mlp.py"), "--epochs", "1", "--limit", "3000",
               "--data", str(data_dir / "mnist"))
    accuracies = [float(a) for a in re.findall(r"([\d.]+)\s*%", out)]
    assert accuracies and accuracies[-1] >= 85.0, out
