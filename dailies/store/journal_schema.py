"""The journal store's schema: its version, the migrations of a job's document, and the file before the journal.

A `jobs.json` in TinyDB's format (the store before the journal) is migrated into the journal on first open
and kept beside as `jobs.json.before-journal`; one that cannot be read is moved aside with a warning the app
shows. A store written by a newer schema is read, never rewritten as an older one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dailies.store.journal import Journal
from dailies.store.records import JOBS_TABLE

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "CorruptStoreError", "migrate", "migrate_legacy"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
META_TABLE = "_meta"  # in the TinyDB files before the journal

# Ordered, idempotent migrations: MIGRATIONS[n] takes a job document from schema n to n + 1.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [
    lambda doc: doc,  # 0 -> 1: the first schema
]


class CorruptStoreError(Exception):
    pass


def migrate(doc: dict[str, Any], version: int) -> dict[str, Any]:
    """A job's document written in schema `version`, as this schema has it."""
    if version >= SCHEMA_VERSION:
        return doc
    doc = dict(doc)
    for step in MIGRATIONS[version:SCHEMA_VERSION]:
        doc = step(doc)
    return doc


def migrate_legacy(journal: Journal, path: Path) -> str | None:
    """Turn the TinyDB `path` of the format before the journal into `journal`, losing nothing; a warning for
    the app to show when the file could not be read (it is then kept aside and the journal starts empty)."""
    with journal.writing():
        if journal.size:  # another process migrated it while we waited for the lock
            return None
        try:
            data = _read_legacy(path)
        except CorruptStoreError as exc:
            backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(path, backup)
            warning = (f"The job store could not be read ({exc}). It was kept aside as {backup.name} "
                       "and a new, empty store was started.")
            log.warning(warning)
            return warning
        found = (data.get(META_TABLE) or {}).get("1") or {}
        version = int(found.get("schema_version", 0))
        jobs: dict[str, dict[str, Any]] = {}
        for doc_id, doc in (data.get(JOBS_TABLE) or {}).items():
            doc = migrate(doc, version)
            jobs[str(doc.get("id") or f"legacy-{doc_id}")] = doc
        if version > SCHEMA_VERSION:
            # Written by a newer Dailies: read it, never rewrite it as an older one.
            journal.tables, journal.file_schema = {JOBS_TABLE: jobs}, version
            return None
        journal.compact({JOBS_TABLE: jobs}, SCHEMA_VERSION)
        os.replace(path, path.with_name(path.name + ".before-journal"))
        log.info("migrated %d jobs from %s to %s", len(jobs), path.name, journal.path.name)
        return None


def _read_legacy(path: Path) -> dict[str, Any]:
    """The TinyDB JSON file of the format before the journal."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptStoreError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CorruptStoreError(f"{path} does not hold TinyDB tables")
    return data
