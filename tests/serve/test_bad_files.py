"""Bad image files: `zip read`, `explain` and the HTTP service refuse each with one line that
names the file (CLI) and the reason, keep going with the others, and agree on the reasons."""

import warnings

import numpy as np
import pytest
from test_app import bomb_png, png  # the service tests' image makers

from rosenblatt.apps.digits.images import MAX_BYTES
from rosenblatt.cli import main

# file name -> (bytes, words the reason must hold)
BAD = {
    "truncated.png": (png(np.random.default_rng(0).integers(0, 255, (60, 60)))[:80],
                      "could not be decoded"),
    "not-an-image.png": (b"hello, not an image", "not a recognised image"),
    "oversized.png": (b"\x89PNG" + b"0" * (MAX_BYTES + 10), f"limit of {MAX_BYTES:,} bytes"),
    "bomb.png": (bomb_png(100_000, 100_000), "over the limit"),
}


@pytest.fixture
def files(tmp_path):
    """Two good digit images (MNIST test 0 and 1: a 7 and a 2) around the four bad ones."""
    from rosenblatt.apps.digits.synth import load_mnist

    images, labels = load_mnist("test")
    assert labels[:2].tolist() == [7, 2]
    paths = [tmp_path / "seven.png"]
    paths[0].write_bytes(png(images[0]))
    for name, (data, _) in BAD.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    paths.append(tmp_path / "two.png")
    paths[-1].write_bytes(png(images[1]))
    return [str(p) for p in paths]


def _bad_lines(err: str, command: str) -> dict[str, str]:
    lines = [line for line in err.splitlines() if line.startswith(f"rosenblatt {command}: error")]
    out = {}
    for line in lines:
        path, reason = line.split(": error: ", 1)[1].split(": ", 1)
        out[path.rsplit("/", 1)[-1]] = reason
    return out


def test_zip_read_reports_each_bad_file_and_reads_the_rest(files, capsys):
    assert main(["zip", "read", "--digit", *files]) == 1
    captured = capsys.readouterr()
    bad = _bad_lines(captured.err, "zip read")
    assert set(bad) == set(BAD)
    for name, (_, words) in BAD.items():
        assert words in bad[name], (name, bad[name])
    read = dict(line.split(": ", 1) for line in captured.out.splitlines())
    assert list(read) == [files[0], files[-1]]
    assert read[files[0]].startswith("7") and read[files[-1]].startswith("2")
    assert "Traceback" not in captured.err and "4 of 6 files" in captured.err


def test_zip_read_of_good_files_only_exits_0(files, capsys):
    assert main(["zip", "read", "--digit", files[0]]) == 0


def test_explain_reports_each_bad_file_and_explains_the_rest(files, tmp_path, capsys):
    out = tmp_path / "explained"
    assert main(["explain", "lenet5-mnist", *files, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    bad = _bad_lines(captured.err, "explain")
    assert set(bad) == set(BAD)
    for name, (_, words) in BAD.items():
        assert words in bad[name], (name, bad[name])
    assert f"{files[0]}: prediction 7 " in captured.out
    assert f"{files[-1]}: prediction 2 " in captured.out
    assert (out / "seven" / "saliency.png").is_file() and (out / "two" / "grad_cam.png").is_file()


def test_the_service_refuses_the_same_files_for_the_same_reasons(files):
    from rosenblatt.apps.digits.reader import ZipReader
    from rosenblatt.serve.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette warns that httpx2 is preferred
        from fastapi.testclient import TestClient
    app = create_app(ZipReader.load(), token="t", db_path=files[0] + ".sqlite")
    with TestClient(app) as client:
        for path in files[1:-1]:
            name = path.rsplit("/", 1)[-1]
            with open(path, "rb") as f:
                r = client.post("/v1/digit", content=f.read(),
                                headers={"content-type": "image/png"})
            assert r.status_code in (413, 415), (name, r.text)
            assert BAD[name][1] in r.json()["detail"], (name, r.text)
            if r.status_code == 413:  # the reply states the limit
                assert any(c.isdigit() for c in r.json()["detail"].split("limit")[1])
        with open(files[0], "rb") as f:
            r = client.post("/v1/digit", content=f.read(), headers={"content-type": "image/png"})
        assert r.status_code == 200 and r.json()["reading"] == "7"
