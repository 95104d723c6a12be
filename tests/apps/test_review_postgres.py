"""The review queue in a real PostgreSQL server (started here): replicas share it, claims are
atomic, a replica killed mid-write loses nothing, and the retraining export works."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rosenblatt.apps.digits.review import ReviewQueue, open_queue

pytest.importorskip("psycopg", reason="needs the 'postgres' extra (psycopg)")
BIN = Path("/usr/lib/postgresql")
PNG = b"\x89PNG\r\n\x1a\nfake"


def _binaries() -> Path | None:
    """The folder of initdb and pg_ctl (Debian's postgresql package), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(BIN.glob("*/bin/initdb")) if BIN.is_dir() else []
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def server() -> str:
    """A throwaway PostgreSQL server on a free local port; its URL."""
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="rosenblatt-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use its own account
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    subprocess.run(run_as + [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                             "rosenblatt"], check=True, capture_output=True, timeout=120)
    subprocess.run(run_as + [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                             str(folder / "log"), "-o", f"-p {port} -h 127.0.0.1 -k {folder}",
                             "start"], check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql://rosenblatt@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(run_as + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def url(server: str) -> str:
    """The server with an empty queue."""
    import psycopg
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items")
    return server


def _add(queue, reading="12345", count=5):
    inputs = np.random.default_rng(0).uniform(0, 1, (count, 1, 28, 28)).astype(np.float32)
    return queue.add("zip", PNG, reading, np.full((count, 10), 0.1),
                     [{"reason": "low_confidence", "position": 1}], inputs), inputs


def test_postgres_queue_round_trip_and_retraining_export(url, tmp_path) -> None:
    q = open_queue(url)
    assert type(q).__name__ == "PostgresReviewQueue"
    a, inputs = _add(q)
    b, _ = _add(q, reading="1234", count=4)
    assert [p["id"] for p in q.pending()] == [a, b] and q.get(a)["image"] == PNG
    q.label(a, "12945")
    q.label(b, "12345")  # 4 inputs for 5 digits: skipped by the export
    with pytest.raises(KeyError):
        q.label(999, "1")
    assert q.counts() == {"pending": 0, "labelled": 2}
    assert q.export(tmp_path / "out.npz") == {"digits": 5, "skipped_pieces": 1}
    with np.load(tmp_path / "out.npz") as z:
        assert z["y"].tolist() == [1, 2, 9, 4, 5]
        assert np.abs(z["x"] - inputs[:, 0]).max() <= 1 / 255 + 1e-6


CLAIMER = """
import sys
from rosenblatt.apps.digits.review import open_queue
q = open_queue(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # both replicas start claiming at once
while (item := q.claim(sys.argv[2], seconds=600)) is not None:
    print(item["id"], flush=True)
"""


def test_two_replicas_never_claim_the_same_piece(url) -> None:
    q = open_queue(url)
    ids = [q.add("digit", PNG, "1", [[0.1] * 10], []) for _ in range(300)]
    replicas = [subprocess.Popen([sys.executable, "-c", CLAIMER, url, name], text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                for name in ("a", "b")]
    assert [r.stdout.readline() for r in replicas] == ["ready\n", "ready\n"]
    for r in replicas:
        r.stdin.write("go\n")
        r.stdin.flush()
    claimed = [[int(line) for line in r.communicate(timeout=120)[0].split()] for r in replicas]
    assert all(r.returncode == 0 for r in replicas)
    assert sorted(claimed[0] + claimed[1]) == ids  # every piece once, none twice
    assert claimed[0] and claimed[1]  # (both replicas were claiming at the same time)
    assert q.claim("c") is None  # all held


def test_a_claim_of_a_vanished_reviewer_expires(url) -> None:
    q = open_queue(url)
    first = q.add("digit", PNG, "1", [[0.1] * 10], [])
    assert q.claim("gone", seconds=0.5)["id"] == first
    assert q.claim("other") is None
    time.sleep(0.6)
    assert q.claim("other")["id"] == first


def test_a_replica_killed_during_writes_loses_nothing(url) -> None:
    code = textwrap.dedent(f"""
        from rosenblatt.apps.digits.review import open_queue
        q = open_queue({url!r})
        while True:
            print(q.add("digit", b"png" * 1000, "7", [[0.1] * 10], []), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    acknowledged = [int(proc.stdout.readline()) for _ in range(30)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    items = open_queue(url).pending(limit=10_000)
    assert set(acknowledged) <= {i["id"] for i in items}  # nothing acknowledged was lost
    assert all(i["image"] == b"png" * 1000 for i in items)  # and nothing half-written


def test_sqlite_claims_too_and_old_files_gain_the_claim_columns(tmp_path) -> None:
    import sqlite3
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # a queue file from before claims
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL "
                     "NOT NULL, kind TEXT NOT NULL, image BLOB NOT NULL, inputs BLOB, reading "
                     "TEXT NOT NULL, probabilities TEXT NOT NULL, reasons TEXT NOT NULL, status "
                     "TEXT NOT NULL DEFAULT 'pending', label TEXT, labelled_at REAL)")
    q = ReviewQueue(path)
    first = q.add("digit", PNG, "1", [[0.1] * 10], [])
    assert q.claim("a")["id"] == first and q.claim("b") is None


def test_two_serve_replicas_hand_out_different_pieces_over_http(url) -> None:
    import warnings

    from rosenblatt.apps.digits.reader import small_reader
    from rosenblatt.serve.app import create_app
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette warns that httpx2 is preferred
        from fastapi.testclient import TestClient
    q = open_queue(url)
    ids = [q.add("digit", PNG, "1", [[0.1] * 10], []) for _ in range(3)]
    auth = {"Authorization": "Bearer t"}
    reader = small_reader(Path(tempfile.gettempdir()) / "rosenblatt-test-zip-reader")  # as serve
    with TestClient(create_app(reader, token="t", db_path=url)) as one, \
            TestClient(create_app(reader, token="t", db_path=url)) as two:
        got = [client.post("/v1/review/claim?reviewer=r", headers=auth).json()["item"]["id"]
               for client in (one, two, one)]
        assert got == ids and one.post("/v1/review/claim", headers=auth).json() == {"item": None}
        assert two.post(f"/v1/review/{ids[0]}", headers=auth, json={"label": "4"}).status_code \
            == 200
        assert one.get("/v1/review", headers=auth).json()["counts"] == {"pending": 2,
                                                                        "labelled": 1}
        assert one.post("/v1/review/claim").status_code == 401
