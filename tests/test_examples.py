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


def test_zip_digit_example_cuts_clean_labels_and_pairs_members(data_dir, tmp_path):
    """examples/train_zip_digits.py: --cut-only keeps fields whose pieces lie in their true
    boxes (labels 0-9, 5 per field); --pair writes a TwoViewLeNet the reader can load."""
    import numpy as np

    import rosenblatt as rb
    from rosenblatt.apps.digits.model import TwoViewLeNet
    from rosenblatt.apps.digits.preprocess import deskew, normalize_digit
    from rosenblatt.apps.digits.synth import mnist_test_half
    from rosenblatt.models import lenet5

    script = str(EXAMPLES / "train_zip_digits.py")
    cache = tmp_path / "cut.npz"
    _run(script, "--cut-only", "--clean-labels", "--fields", "40", "--workers", "1",
         "--cache", str(cache), "--out", "-")
    with np.load(cache) as z:
        x, y = z["x"], z["y"]
    assert x.shape[1:] == (28, 28) and len(x) == len(y) and 150 <= len(y) <= 200
    assert len(y) % 5 == 0 and set(np.unique(y)) <= set(range(10))
    members = []
    for seed in (1, 2):
        rb.manual_seed(seed)
        members.append(tmp_path / f"m{seed}.safetensors")
        rb.save(lenet5().state_dict(), members[-1])
    # a deskewed member from scratch with elastic distortion learns to read real test digits
    member = tmp_path / "deskewed.safetensors"
    _run(script, "--view", "deskewed", "--from-scratch", "--elastic", "--cache", str(cache),
         "--clean", "3000", "--epochs", "3", "--lr", "2e-3", "--out", str(member))
    model = lenet5()
    model.load_state_dict(rb.load(member))
    model.eval()
    images, labels = mnist_test_half("evaluation")
    x = np.stack([normalize_digit(d.astype(np.float32) / 255) for d in images[:1000]])
    with rb.no_grad():
        read = model(rb.from_numpy(deskew(x[:, None]))).numpy().argmax(axis=1)
    assert (read == labels[:1000]).mean() >= 0.85  # 92.5 % here; chance is 10 %
    _run(script, "--pair", *map(str, members), "--out", str(tmp_path / "pair.safetensors"))
    pair = TwoViewLeNet()
    pair.load_state_dict(rb.load(tmp_path / "pair.safetensors"))
    for member, path in ((pair.plain, members[0]), (pair.deskewed, members[1])):
        for name, value in rb.load(path).items():
            np.testing.assert_array_equal(member.state_dict()[name].numpy(), value.numpy())
