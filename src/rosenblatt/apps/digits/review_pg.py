"""The review queue in PostgreSQL (psycopg), shared by several `serve` replicas.

The same table and methods as the SQLite queue (review.py); each change is one transaction,
so a replica killed mid-request leaves nothing half-written (the server rolls it back).
`claim` locks the row it takes with FOR UPDATE SKIP LOCKED: concurrent claims from any number
of replicas get different pieces without waiting on one another. Needs the optional 'postgres'
dependencies (psycopg).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .review import ReviewQueue

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id BIGSERIAL PRIMARY KEY,
    created DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('zip', 'digit')),
    image BYTEA NOT NULL,
    inputs BYTEA,
    reading TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'labelled')),
    label TEXT,
    labelled_at DOUBLE PRECISION,
    claimed_by TEXT,
    claimed_until DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS items_status ON items (status, id);
"""
_SCHEMA_LOCK = 26_0001  # advisory lock: replicas starting together create the table once


class PostgresReviewQueue(ReviewQueue):
    """Pieces waiting for a human, in the PostgreSQL database at `url` (postgresql://...)."""

    NEXT_FREE = ReviewQueue.NEXT_FREE + " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        self.url = url
        with self._transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)

    def _connect(self) -> Any:
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                "a PostgreSQL review queue needs the optional 'postgres' dependencies "
                "(psycopg): pip install -e '.[postgres]'", name=e.name) from e
        # one connection per operation, as the SQLite queue: safe from any thread
        return psycopg.connect(self.url, row_factory=dict_row, autocommit=True,
                               connect_timeout=10)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connect() as conn, conn.transaction():
            yield conn

    def _insert(self, sql: str, params: tuple) -> int:
        with self._transaction() as conn:
            return int(conn.execute(self._sql(sql) + " RETURNING id", params).fetchone()["id"])
