"""Every command block of the README, run as a newcomer runs it in a fresh clone: each exits 0.

The clone is of the repository's committed HEAD, next to a `shared/data` that points at the
test data (the layout the README's Commands section assumes). Arguments are shortened only as
the README says for a quick try (`--epochs 1` for `train`, `--steps 20` for `--minutes 20`).
Nothing is downloaded: the new venv sees this venv's installed packages (a sitecustomize on
PYTHONPATH puts them after the venv's own) and pip runs with --no-index.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def command_blocks(readme: str) -> list[list[str]]:
    """The lines of each ```bash block."""
    return [block.strip().splitlines()
            for block in re.findall(r"```bash\n(.*?)```", readme, re.S)]


def quick(line: str) -> str:
    """The README's quick-try sizes: `train --epochs 1`, `--steps 20` for `--minutes 20`."""
    line = re.sub(r"(rosenblatt train)(?= )", r"\1 --epochs 1", line)
    return line.replace("--minutes 20", "--steps 20")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _newcomer_env(tmp: Path, data: Path) -> dict[str, str]:
    """A shell without this venv or data settings, whose new venvs reuse installed packages."""
    hook = tmp / "hook"
    hook.mkdir()
    sites = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "at = next((i for i, p in enumerate(sys.path) if p.endswith('site-packages')), "
        "len(sys.path))\n"
        f"sys.path[at:at] = {sites!r}\n")
    shims = tmp / "bin"
    shims.mkdir()
    (shims / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "ROSENBLATT_DATA", "PYTHONHOME", "ROSENBLATT_REVIEW_DB",
                        "ROSENBLATT_REVIEW_TOKEN", "ROSENBLATT_CACHE")}
    env.update(PATH=f"{shims}:{env.get('PATH', '/usr/bin:/bin')}", PYTHONPATH=str(hook),
               HOME=str(tmp / "home"), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def test_readme_says_how_to_shorten_what_this_test_shortens():
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "add `--epochs 1` to `train`" in readme
    assert "replace `--minutes 20` by `--steps 20` in `text train`" in readme


def test_every_readme_command_works_in_a_fresh_clone(tmp_path, data_dir):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("the README test clones the repository: needs git and a git checkout")
    work = tmp_path / "work"
    (work / "shared").mkdir(parents=True)
    (work / "shared" / "data").symlink_to(data_dir.resolve())
    clone = work / "rosenblatt"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    env = _newcomer_env(tmp_path, data_dir)
    blocks = command_blocks((clone / "README.md").read_text())
    assert len(blocks) >= 2, "the README's first block and its Commands block"
    exports: list[str] = []
    ran = []
    for block in blocks:
        for line in block:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.strip() == "bash scripts/test.sh":
                continue  # the test suite itself, which includes this test
            line = quick(line)
            if line.startswith("export "):
                exports.append(line)
                continue
            script = "set -eo pipefail\n" + "\n".join(exports) + "\n"
            if "rosenblatt serve" in line:
                _serve(script, line, clone, env)
            else:
                done = subprocess.run(["bash", "-c", script + line], cwd=clone, env=env,
                                      capture_output=True, text=True, timeout=600)
                assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
            ran.append(line)
    assert any("rosenblatt serve" in line for line in ran)
    assert any(line.startswith("python3 -m venv .venv") for line in ran)


def _serve(script: str, line: str, clone: Path, env: dict[str, str]) -> None:
    """Start the server as written (on a free port), open the URL it prints, stop it with
    Ctrl+C (SIGINT): it must exit 0."""
    port = _free_port()
    line = re.sub(r"--port \d+", f"--port {port}", line)
    with subprocess.Popen(["bash", "-c", script + "exec " + line], cwd=clone, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        try:
            _open_and_stop(server, port)
        finally:
            if server.poll() is None:
                server.kill()


def _open_and_stop(server: subprocess.Popen, port: int) -> None:
    url, lines = None, []
    deadline = time.monotonic() + 300
    while url is None and time.monotonic() < deadline:
        out = server.stdout.readline()
        if not out and server.poll() is not None:
            break
        lines.append(out)
        found = re.search(r"(http://[\w.]+:\d+/)", out)
        url = found.group(1) if found and out.startswith("serving") else None
    assert url == f"http://127.0.0.1:{port}/", "".join(lines)
    with urllib.request.urlopen(url, timeout=30) as page:
        assert page.status == 200 and b"<html" in page.read().lower()
    with urllib.request.urlopen(url + "openapi.json", timeout=30) as schema:
        assert schema.status == 200
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=60) == 0, server.stdout.read()
