"""The human review queue: an SQLite file (WAL, one transaction per change), or a PostgreSQL
database (review_pg.py) that several `serve` replicas share; `open_queue` picks by the spec.

Every piece the reader sends to review is stored with its image (PNG bytes), the machine's
reading, probabilities and reasons, and the network's 28x28 inputs. A reviewer labels it;
labelled digits export as a data set (npz: x (N, 28, 28) float32, y (N,) int64) for
fine-tuning. Each change is one transaction (WAL journal): a process killed in the middle of
a request leaves the file as it was before that request. `claim` hands a reviewer the oldest
pending piece nobody holds (for `seconds`), atomically: two reviewers never get the same one.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from rosenblatt._backend import np

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('zip', 'digit')),
    image BLOB NOT NULL,
    inputs BLOB,
    reading TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'labelled')),
    label TEXT,
    labelled_at REAL,
    claimed_by TEXT,
    claimed_until REAL
);
CREATE INDEX IF NOT EXISTS items_status ON items (status, id);
"""


def _array_bytes(a: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def _array(b: bytes | None) -> Any:
    if b is None:
        return None
    return np.load(io.BytesIO(b), allow_pickle=False)


CLAIM_COLUMNS = {"claimed_by": "TEXT", "claimed_until": "REAL"}  # (added to older files)


def open_queue(spec: str | Path, durable: bool = False) -> ReviewQueue:
    """The review queue at `spec`: a postgresql:// URL, else an SQLite file path."""
    if str(spec).startswith(("postgresql://", "postgres://")):
        from .review_pg import PostgresReviewQueue
        return PostgresReviewQueue(str(spec))
    return ReviewQueue(spec, durable)


class ReviewQueue:
    """Pieces waiting for a human, in an SQLite file at `path`."""

    # the oldest pending piece nobody holds; PostgreSQL adds FOR UPDATE SKIP LOCKED
    NEXT_FREE = ("SELECT * FROM items WHERE status = 'pending' AND (claimed_until IS NULL OR "
                 "claimed_until < ?) ORDER BY id LIMIT 1")

    def __init__(self, path: str | Path, durable: bool = False) -> None:
        # WAL with synchronous=NORMAL survives the process being killed at any point (a
        # committed transaction is in the WAL file); FULL also survives power loss, at the
        # price of an fsync per change
        self.synchronous = "FULL" if durable else "NORMAL"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            have = {r["name"] for r in conn.execute("PRAGMA table_info(items)")}
            for name, kind in CLAIM_COLUMNS.items():
                if name not in have:
                    conn.execute(f"ALTER TABLE items ADD COLUMN {name} {kind}")

    def _sql(self, sql: str) -> str:
        """The statement in this database's dialect (SQLite: as written, `?` parameters)."""
        return sql

    def _connect(self) -> sqlite3.Connection:
        # one connection per operation: safe from any thread, nothing left half-open
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.row_factory = sqlite3.Row
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A connection inside one write transaction: committed at the end, or rolled back."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: claims are serialised
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def _write(self, sql: str, params: tuple) -> Any:
        with self._transaction() as conn:
            return conn.execute(self._sql(sql), params)

    def _insert(self, sql: str, params: tuple) -> int:
        """Run an INSERT; the new row's id."""
        return int(self._write(sql, params).lastrowid)

    def add(self, kind: str, image_png: bytes, reading: str, probabilities: Any,
            reasons: list[dict[str, Any]], inputs: Any = None) -> int:
        """Queue one piece; returns its id."""
        probs = np.asarray(probabilities, np.float64).round(6).tolist()
        inputs_blob = None
        if inputs is not None:
            inputs_blob = _array_bytes(
                np.clip(np.asarray(inputs).reshape(-1, 28, 28) * 255 + 0.5, 0, 255).astype(
                    np.uint8))
        return self._insert(
            "INSERT INTO items (created, kind, image, inputs, reading, probabilities, reasons)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (time.time(), kind, bytes(image_png), inputs_blob, reading,
             json.dumps(probs), json.dumps(reasons)))

    def claim(self, reviewer: str, seconds: float = 300.0) -> dict[str, Any] | None:
        """The oldest pending piece nobody holds, now held by `reviewer` for `seconds` (a
        reviewer who vanishes loses it then); None when there is none."""
        now = time.time()
        with self._transaction() as conn:
            row = conn.execute(self._sql(self.NEXT_FREE), (now,)).fetchone()
            if row is None:
                return None
            conn.execute(self._sql("UPDATE items SET claimed_by = ?, claimed_until = ? "
                                   "WHERE id = ?"), (str(reviewer), now + seconds, row["id"]))
        return {**self._row(row, True), "claimed_by": str(reviewer)}

    @staticmethod
    def _row(row: Any, with_image: bool) -> dict[str, Any]:
        item = {"id": row["id"], "created": row["created"], "kind": row["kind"],
                "reading": row["reading"], "probabilities": json.loads(row["probabilities"]),
                "reasons": json.loads(row["reasons"]), "status": row["status"],
                "label": row["label"]}
        if with_image:
            item["image"] = bytes(row["image"])
        return item

    def pending(self, limit: int = 50, with_image: bool = True) -> list[dict[str, Any]]:
        """The oldest pending pieces."""
        conn = self._connect()
        try:
            rows = conn.execute(self._sql("SELECT * FROM items WHERE status = 'pending' "
                                          "ORDER BY id LIMIT ?"), (int(limit),)).fetchall()
        finally:
            conn.close()
        return [self._row(r, with_image) for r in rows]

    def get(self, item_id: int) -> dict[str, Any] | None:
        """One piece by id, or None."""
        conn = self._connect()
        try:
            row = conn.execute(self._sql("SELECT * FROM items WHERE id = ?"),
                               (int(item_id),)).fetchone()
        finally:
            conn.close()
        return self._row(row, True) if row else None

    def label(self, item_id: int, label: str) -> None:
        """Record the human reading (digits only); KeyError if there is no such piece."""
        label = str(label).strip()
        if not label.isdigit() or not label.isascii() or len(label) > 12:
            raise ValueError(f"label must be 1-12 digits, got {label!r}")
        cur = self._write("UPDATE items SET status = 'labelled', label = ?, labelled_at = ? "
                          "WHERE id = ?", (label, time.time(), int(item_id)))
        if cur.rowcount == 0:
            raise KeyError(item_id)

    def counts(self) -> dict[str, int]:
        """Pieces per status."""
        conn = self._connect()
        try:
            rows = conn.execute("SELECT status, COUNT(*) AS n FROM items GROUP BY status"
                                ).fetchall()
        finally:
            conn.close()
        out = {"pending": 0, "labelled": 0}
        out.update({r["status"]: int(r["n"]) for r in rows})
        return out

    def labelled_digits(self) -> tuple[Any, Any, int]:
        """Inputs (N, 28, 28) float32 and labels (N,) of labelled pieces whose digit count
        matches the label's length, and how many pieces could not be used."""
        conn = self._connect()
        try:
            rows = conn.execute("SELECT inputs, label FROM items WHERE status = 'labelled' "
                                "ORDER BY id").fetchall()
        finally:
            conn.close()
        xs, ys, skipped = [], [], 0
        for r in rows:
            inputs = _array(r["inputs"])
            if inputs is None or len(inputs) != len(r["label"]):
                skipped += 1  # the cut was wrong: which input is which digit is unknown
                continue
            xs.extend(inputs.astype(np.float32) / 255.0)
            ys.extend(int(c) for c in r["label"])
        x = np.stack(xs) if xs else np.zeros((0, 28, 28), np.float32)
        return x, np.asarray(ys, np.int64), skipped

    def export(self, path: str | Path) -> dict[str, int]:
        """Write the labelled digits as an npz (x, y); returns counts."""
        x, y, skipped = self.labelled_digits()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, x=x, y=y)
        return {"digits": int(len(y)), "skipped_pieces": skipped}
