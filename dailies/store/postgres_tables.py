"""The PostgreSQL store's other tables: plain records (boards, reviews, rounds) and keys claimed once (idempotency
keys, webhook ids), as (table, key) rows of `dailies_records`."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import psycopg

from dailies.store import leases
from dailies.store.leases import Claim
from dailies.store.postgres_db import jsonb
from dailies.store.records import NamedTable

if TYPE_CHECKING:
    from dailies.store.postgres import PostgresStore

__all__ = ["PostgresClaims", "PostgresTable"]


class _Named(NamedTable):
    """One named table of the PostgreSQL store (rows of `dailies_records` under its name)."""

    _store: PostgresStore


class PostgresTable(_Named):
    """A named table of plain JSON records (boards, reviews, rounds) as (table, key) rows; field-level writes."""

    def get(self, key: str) -> dict[str, Any] | None:
        with self._store._connection() as conn:
            row = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s",
                               (self.name, key)).fetchone()
        return row[0] if row else None

    def all(self) -> dict[str, dict[str, Any]]:
        with self._store._connection() as conn:
            return dict(conn.execute("SELECT key, doc FROM dailies_records WHERE tbl = %s", (self.name,)))

    def __len__(self) -> int:
        with self._store._connection() as conn:
            row = conn.execute("SELECT count(*) FROM dailies_records WHERE tbl = %s", (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def set(self, key: str, **fields: Any) -> None:
        """Create the record or change the given fields of it (other fields stay, whoever wrote them)."""
        doc = jsonb(fields)

        def upsert(conn: psycopg.Connection[Any]) -> None:
            conn.execute("INSERT INTO dailies_records AS r (tbl, key, doc) VALUES (%s, %s, %s) "
                         "ON CONFLICT (tbl, key) DO UPDATE SET doc = r.doc || EXCLUDED.doc", (self.name, key, doc))

        self._store._run([upsert], [(self.name, key)])
        self._store._bump(())

    def delete(self, key: str) -> None:
        def delete(conn: psycopg.Connection[Any]) -> None:
            conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s", (self.name, key))

        self._store._run([delete], [(self.name, key)])
        self._store._bump(())


class PostgresClaims(_Named):
    """Keys claimed at most once while their claim lives, under the (table, key) primary key: expired claims
    are deleted and the key inserted with `ON CONFLICT DO NOTHING` in one transaction, so of any number of
    callers on any machines one gets it (see `dailies.store.journal_tables.Claims` for the contract)."""

    def claim(self, key: str, value: dict[str, Any], ttl: float) -> Claim:
        now = time.time()
        sweep = now - self._store._claims_swept.get(self.name, 0.0) > leases.CLAIM_SWEEP_S
        if sweep:
            self._store._claims_swept[self.name] = now
        with self._store._connection() as conn, conn.transaction():
            if sweep:
                conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND until <= %s", (self.name, now))
            else:
                conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s AND until <= %s",
                             (self.name, key, now))
            row = conn.execute("INSERT INTO dailies_records (tbl, key, doc, until) VALUES (%s, %s, %s, %s) "
                               "ON CONFLICT (tbl, key) DO NOTHING RETURNING doc",
                               (self.name, key, jsonb(value), now + ttl)).fetchone()
            if row is not None:
                return Claim(True, json.loads(json.dumps(value)))
            held = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s",
                                (self.name, key)).fetchone()
        return Claim(False, held[0] if held else {})

    def get(self, key: str) -> dict[str, Any] | None:
        with self._store._connection() as conn:
            row = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s "
                               "AND (until IS NULL OR until > %s)", (self.name, key, time.time())).fetchone()
        return row[0] if row else None

    def update(self, key: str, **fields: Any) -> None:
        with self._store._connection() as conn:
            conn.execute("UPDATE dailies_records SET doc = doc || %s WHERE tbl = %s AND key = %s",
                         (jsonb(fields), self.name, key))

    def release(self, key: str) -> None:
        with self._store._connection() as conn:
            conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s", (self.name, key))
