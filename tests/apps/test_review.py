"""The SQLite review queue: round trip, export, and surviving a crash mid-transaction."""

import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rosenblatt.apps.digits.review import ReviewQueue

PNG = b"\x89PNG\r\n\x1a\nfake"


def _add(queue, reading="12345", count=5, reasons=None):
    inputs = np.random.default_rng(0).uniform(0, 1, (count, 1, 28, 28)).astype(np.float32)
    probs = np.full((count, 10), 0.1)
    return queue.add("zip", PNG, reading, probs, reasons or [{"reason": "low_confidence",
                                                               "position": 1}], inputs), inputs


def test_add_list_label_export(tmp_path):
    q = ReviewQueue(tmp_path / "q.sqlite")
    a, inputs = _add(q)
    b, _ = _add(q, reading="1234", count=4, reasons=[{"reason": "digit_count", "count": 4}])
    pending = q.pending()
    assert [p["id"] for p in pending] == [a, b]
    assert pending[0]["image"] == PNG and pending[1]["reasons"][0]["count"] == 4
    q.label(a, "12945")
    q.label(b, "12345")  # 4 inputs for a 5-digit label: cannot be exported digit by digit
    assert q.counts() == {"pending": 0, "labelled": 2}
    with pytest.raises(KeyError):
        q.label(999, "1")
    with pytest.raises(ValueError):
        q.label(a, "12a45")
    info = q.export(tmp_path / "out.npz")
    assert info == {"digits": 5, "skipped_pieces": 1}
    with np.load(tmp_path / "out.npz") as z:
        assert z["x"].shape == (5, 28, 28) and z["x"].dtype == np.float32
        assert z["y"].tolist() == [1, 2, 9, 4, 5]
        assert np.abs(z["x"] - inputs[:, 0]).max() <= 1 / 255 + 1e-6


def test_wal_mode(tmp_path):
    ReviewQueue(tmp_path / "q.sqlite")
    conn = sqlite3.connect(tmp_path / "q.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_queue_survives_a_crash_mid_transaction(tmp_path):
    path = tmp_path / "q.sqlite"
    code = textwrap.dedent(f"""
        import os
        from rosenblatt.apps.digits.review import ReviewQueue
        q = ReviewQueue({str(path)!r})
        q.add("zip", b"png", "11111", [[0.1] * 10], [{{"reason": "no_ink"}}])
        conn = q._connect()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE items SET status = 'labelled', label = '99999'")
        conn.execute("INSERT INTO items (created, kind, image, reading, probabilities, reasons)"
                     " VALUES (0, 'zip', x'00', '2', '[]', '[]')")
        os._exit(1)  # killed before COMMIT
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    q = ReviewQueue(path)
    items = q.pending()
    assert [(i["reading"], i["status"]) for i in items] == [("11111", "pending")]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    new_id, _ = _add(q)
    assert q.get(new_id)["reading"] == "12345"


def test_queue_survives_sigkill_during_writes(tmp_path):
    path = tmp_path / "q.sqlite"
    code = textwrap.dedent(f"""
        import sys
        from rosenblatt.apps.digits.review import ReviewQueue
        q = ReviewQueue({str(path)!r})
        i = 0
        while True:
            item = q.add("digit", b"png" * 1000, str(i % 10), [[0.1] * 10], [])
            print(item, flush=True)
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    acknowledged = [int(proc.stdout.readline()) for _ in range(30)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    q = ReviewQueue(path)
    items = q.pending(limit=10_000)
    ids = [i["id"] for i in items]
    assert set(acknowledged) <= set(ids)  # nothing acknowledged was lost
    assert ids == list(range(1, len(ids) + 1))  # and nothing half-written
    assert all(i["image"] == b"png" * 1000 for i in items)
