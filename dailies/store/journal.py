"""The journal: the one on-disk mechanism behind every table of the store, shared by many processes.

Why a journal: TinyDB's JSON file is rewritten whole on every write (1.4 s at 100,000 jobs), by
whichever process wrote last, so two processes on one folder lost each other's jobs. Here a write
appends only the fields it changed, so a status set by one process and a rating set by another both
survive, and a write costs the same at 100 jobs and at 100,000.

The file holds one record a line, `<crc32 of the JSON as 8 hex digits> <JSON>\\n`, where the JSON is
- `{"schema": n}`: the schema the records after it were written in (the first line);
- `{"t": table, "k": key, "set": {field: value, ...}}`: fields of one document (all of them when new);
- `{"t": table, "k": key, "del": 1}`: the document is gone;
- `{"t": table, "docs": {key: {field: value, ...}, ...}}`: whole documents, a few hundred a line
  (what compaction writes: one parse per line instead of one per document keeps opening fast).

Writers take an exclusive `flock` on a lock file beside the journal (which, unlike the journal, is
never replaced), read what others appended since they last looked, cut off a torn last line that a
killed writer left, append, and fsync before they report success. Readers never lock: they read the
complete lines past their offset, so a page never waits for a writer. When the journal has grown to
twice its compacted size it is rewritten with one line per document (temp file, fsync, rename);
other processes see a new file and load it whole.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from dailies.errors import DailiesError
from dailies.files import replaced_file
from dailies.store.filelock import FileLock

log = logging.getLogger(__name__)

__all__ = ["FREEZE_AT", "Changed", "Journal", "ReadOnlyStoreError", "Record", "gc_paused"]

Record = dict[str, Any]
Changed = dict[str, set[str]] | None
"""What a catch-up changed: table -> keys, or None when the whole journal was loaded afresh."""

Tables = dict[str, dict[str, dict[str, Any]]]


COMPACT_CHUNK = 256
"""Documents per line in a compacted journal: few enough that a damaged line costs little."""


FREEZE_AT = 10_000
"""Records loaded at open from which the snapshot is frozen out of the collector's sight."""


class GCPause:
    freeze = False
    """Set inside the pause to freeze what exists at its end (see `gc_paused`)."""


@contextlib.contextmanager
def gc_paused() -> Iterator[GCPause]:
    """Hold the cyclic garbage collector off while many objects that live on are made at once.

    Loading 100,000 records makes millions of dicts, and each collection the allocations trigger
    walks all of them again: at 100,000 jobs the collector alone tripled the time to open the store.
    Nothing made here is garbage, so the pause loses nothing; reference counting still frees memory.
    When the body sets `freeze`, what exists at the end is moved out of the collector's sight for
    good (a loaded snapshot holds no reference cycles), so later collections do not walk it again;
    done for large stores at open only, since whatever garbage exists then is never collected.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    pause = GCPause()
    try:
        yield pause
    finally:
        if pause.freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


class ReadOnlyStoreError(DailiesError):
    """The store was opened read-only (written by a newer Dailies); nothing was written."""


def encode(record: Record) -> bytes:
    """One journal line: the record's JSON with its checksum in front."""
    try:
        body = orjson.dumps(record)
    except TypeError:  # a value orjson refuses (an int past 64 bits in a provider's raw object)
        import json

        body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode(line: bytes | memoryview) -> Record | None:
    """The record on one line, or None when the line is damaged (bad checksum, not JSON)."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(bytes(line[:8]), 16) != zlib.crc32(body):
            return None
        record = orjson.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


class Journal:
    """Tables of documents (`table -> key -> fields`) kept in memory and in an append-only file.

    Safe to share between threads; any number of processes may open the same file. `tables` is the
    state as committed to disk: change it only through `append` inside `writing()`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        schema: int,
        compact_ratio: float = 2.0,
        compact_min_bytes: int = 1 << 20,
    ) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.schema = schema
        """The schema this program writes."""
        self.file_schema: int | None = None
        """The schema the file says it was written in (None for a file not yet created)."""
        self.compact_ratio = compact_ratio
        self.compact_min_bytes = compact_min_bytes
        self.tables: Tables = {}
        self.appends = 0
        self.compactions = 0
        self.damaged_lines = 0
        self.listeners: list[Callable[[Changed], None]] = []
        self.lock = threading.RLock()
        """Held while this process writes or catches up; readers of `tables` snapshots never need it."""
        self._flock = FileLock(self.lock_path)
        self._depth = 0
        self._ino: int | None = None
        self._offset = 0
        self._shown: tuple[int | None, int] = (None, 0)
        """The file (inode, offset) whose records every listener has been told of: what `refresh` may compare
        with without the lock. `_offset` moves on before the listeners are told (under the lock), and a
        `refresh` that compared with it then returned while the store still showed the older state."""
        self._base_size = 0
        self._lines = 0
        """Records read or written since the file was loaded or compacted (garbage grows with them)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            self._load()

    # -- state -------------------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return self._ino is not None

    @property
    def read_only(self) -> bool:
        """True when the file was written by a newer schema: this program must not add to it."""
        return self.file_schema is not None and self.file_schema > self.schema

    @property
    def size(self) -> int:
        """Bytes of the journal this process has read (its length, when it is up to date)."""
        return self._offset

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        return self.tables.setdefault(name, {})

    # -- reading -----------------------------------------------------------------------------------

    def refresh(self) -> Changed | dict[str, set[str]]:
        """Apply what other processes appended (or load a compacted file). Cheap when nothing changed."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        ino, offset = self._shown
        if st.st_ino == ino and st.st_size <= offset:
            return {}
        with self.lock:  # waits for a catch-up under way in another thread to be shown
            return self._catch_up()

    def _catch_up(self) -> Changed:
        """Bring `tables` up to the file. Call with `lock` held."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        try:
            ino = os.fstat(fd).st_ino
            if ino != self._ino:
                before = self.tables
                self._load_from(fd, ino)
                changed: Changed = _differences(before, self.tables)
            else:
                changed = self._read_new(fd)
        finally:
            os.close(fd)
        if changed is None or changed:
            for listener in self.listeners:
                listener(changed)
        self._shown = (self._ino, self._offset)
        return changed

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            self._load_from(fd, os.fstat(fd).st_ino, freeze=True)
        finally:
            os.close(fd)
        self._shown = (self._ino, self._offset)

    def _load_from(self, fd: int, ino: int, *, freeze: bool = False) -> None:
        """Load the whole file; `freeze` at open only (what is frozen is never collected, and a
        process opens its store once, when little else exists)."""
        with gc_paused() as pause:
            self._load_records(fd, ino)
            pause.freeze = freeze and self._lines >= FREEZE_AT

    def _load_records(self, fd: int, ino: int) -> None:
        fresh: Tables = {}
        self.file_schema = None
        self._ino = ino
        self._offset = 0
        self._lines = 0
        self._read_new(fd, fresh)
        self.tables = fresh  # swapped in whole: a lock-free reader never sees a half-loaded table
        self._base_size = self._offset

    def _read_new(self, fd: int, tables: Tables | None = None) -> dict[str, set[str]]:
        """Apply the complete lines past our offset (to `tables`, by default ours); a last line
        without its newline is left for later."""
        tables = self.tables if tables is None else tables
        data = _read_from(fd, self._offset)
        end = data.rfind(b"\n") + 1
        changed: dict[str, set[str]] = {}
        if end:
            view = memoryview(data)
            start = 0
            while start < end:  # lines as views of the one buffer: no copy of 100 MB per step
                stop = data.index(b"\n", start)
                record = decode(view[start:stop])
                start = stop + 1
                if record is None:
                    # A complete line with a bad checksum: damage on disk (writers cut torn lines off
                    # before appending). Skip it rather than lose every record after it.
                    self.damaged_lines += 1
                    log.warning("%s: skipped a damaged line", self.path.name)
                    continue
                self._lines += self._apply(record, changed, tables)
            self._offset += end
        return changed

    def _apply(self, record: Record, changed: dict[str, set[str]], tables: Tables | None = None) -> int:
        """Apply one record (to `tables`, by default ours); returns how many documents it wrote."""
        table_name = record.get("t")
        if table_name is None:
            if "schema" in record:
                self.file_schema = int(record["schema"])
            return 0
        table = (self.tables if tables is None else tables).setdefault(table_name, {})
        docs = record.get("docs")
        if docs is not None:
            table.update(docs)
            changed.setdefault(table_name, set()).update(docs)
            return len(docs)
        key = str(record["k"])
        if record.get("del"):
            table.pop(key, None)
        else:
            doc = table.get(key)
            if doc is None:
                table[key] = record.get("set") or {}  # the record's own dict: parsed for us alone
            else:
                doc.update(record.get("set") or {})
        changed.setdefault(table_name, set()).add(key)
        return 1

    # -- writing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the inter-process lock, with `tables` brought up to date, for a read-check-append.

        Re-entrant within a thread. What is appended inside is durable when `append` returns.
        """
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._flock.acquire()
            self._depth = 1
            try:
                self._catch_up()
                self._cut_torn_tail()
                yield
            finally:
                self._depth = 0
                self._flock.release()

    def _cut_torn_tail(self) -> None:
        """Drop bytes past the last complete line: a writer died mid-line, and we hold the lock."""
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self.path).st_size > self._offset:
                log.warning("%s: cut off a torn last line left by a stopped writer", self.path.name)
                os.truncate(self.path, self._offset)

    def append(self, records: Iterable[Record]) -> dict[str, set[str]]:
        """Write records durably, then apply them to `tables`. Inside `writing()` only.

        When the write fails, the file is cut back to where it was and `tables` is unchanged, so
        nothing of a failed write is left for a later one to save.
        """
        if not self._depth:
            raise RuntimeError("Journal.append outside writing()")
        if self.read_only:
            raise ReadOnlyStoreError(self.read_only_message())
        records = list(records)
        if not records:
            return {}
        header = [] if self._offset else [{"schema": self.schema}]
        payload = b"".join(encode(r) for r in [*header, *records])
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self._offset)
                raise
            if header:
                self._ino = os.fstat(fd).st_ino
                self.file_schema = self.schema
                self._base_size = len(payload)
        finally:
            os.close(fd)
        self._offset += len(payload)
        self._lines += len(records)
        self.appends += 1
        changed: dict[str, set[str]] = {}
        for record in records:
            self._apply(record, changed)
        self._shown = (self._ino, self._offset)  # the writer shows its own records when append returns
        return changed

    def read_only_message(self) -> str:
        return (
            f"{self.path.name} was written by a newer Dailies (schema {self.file_schema}; this one knows "
            f"{self.schema}). It is open read-only so that nothing newer is lost: update Dailies to change it."
        )

    # -- compaction --------------------------------------------------------------------------------

    @property
    def needs_compaction(self) -> bool:
        """When the file has doubled and most of it is changes to records (not new records)."""
        documents = sum(len(table) for table in self.tables.values())
        return (
            self._offset > max(self.compact_min_bytes, self.compact_ratio * self._base_size)
            and self._lines > self.compact_ratio * documents
        )

    def compact(self, tables: Tables | None = None, schema: int | None = None) -> None:
        """Rewrite the journal as one line per document (or as `tables`, for a migration).

        Done under the lock, to a temp file that is fsynced and renamed over the journal, so a crash
        leaves the old journal or the new one.
        """
        with self.writing():
            if self.read_only:
                raise ReadOnlyStoreError(self.read_only_message())
            tables = self.tables if tables is None else tables
            schema = self.schema if schema is None else schema
            with replaced_file(self.path) as out:
                out.write(encode({"schema": schema}))
                for name, table in tables.items():
                    keys = list(table)
                    for start in range(0, len(keys), COMPACT_CHUNK):
                        chunk = {key: table[key] for key in keys[start : start + COMPACT_CHUNK]}
                        out.write(encode({"t": name, "docs": chunk}))
            st = os.stat(self.path)
            # What was written is what is in memory: no need to read it back.
            migrated = tables is not self.tables
            self.tables, self.file_schema = tables, schema
            self._ino, self._offset, self._base_size = st.st_ino, st.st_size, st.st_size
            self._lines = sum(len(table) for table in tables.values())
            self.compactions += 1
            if migrated:
                for listener in self.listeners:
                    listener(None)
            self._shown = (self._ino, self._offset)


def _read_from(fd: int, offset: int) -> bytearray:
    """Everything in the file past `offset`, read in one go into one buffer (a store of 100,000 jobs
    is 100 MB: reading it in pieces and joining them copied it twice more)."""
    size = max(0, os.fstat(fd).st_size - offset)
    data = bytearray(size)
    view = memoryview(data)
    got = 0
    while got < size:
        n = os.preadv(fd, [view[got:]], offset + got)
        if not n:
            break
        got += n
    view.release()
    del data[got:]
    while True:  # a writer may have appended since the size was taken: read on to the end
        more = os.pread(fd, 1 << 20, offset + len(data))
        if not more:
            return data
        data += more


def _differences(before: Tables, after: Tables) -> dict[str, set[str]]:
    """The keys whose documents differ between two loads (a compacted file usually changes none)."""
    changed: dict[str, set[str]] = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, {}), after.get(name, {})
        keys = {k for k in old.keys() - new.keys()}
        keys.update(k for k, doc in new.items() if old.get(k) != doc)
        if keys:
            changed[name] = keys
    return changed
