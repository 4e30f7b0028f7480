"""`dailies.files`: a file is replaced whole or not at all, whatever happens to the writer."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.files import replaced_path, write_bytes, write_chunks, write_text

ROOT = Path(__file__).resolve().parent.parent


def test_a_write_replaces_the_file_and_records_its_size_and_digest(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "take.mp4"
    record = write_bytes(target, b"new bytes", content_type="video/mp4")
    assert target.read_bytes() == b"new bytes"
    assert (record.path, record.size, record.content_type) == (str(target), 9, "video/mp4")
    assert record.sha256 == hashlib.sha256(b"new bytes").hexdigest()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600, "files that hold secrets are readable by their user only"
    assert os.listdir(target.parent) == ["take.mp4"], "no temp file is left beside it"


def test_an_error_while_writing_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    write_text(target, "old")

    def dropped() -> Iterator[bytes]:
        yield b"half of the new"
        raise ConnectionError("the download dropped")

    with pytest.raises(ConnectionError):
        write_chunks(target, dropped())
    with pytest.raises(RuntimeError), replaced_path(target) as tmp:
        tmp.write_text("a writer that fails midway")
        raise RuntimeError("encoder failed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["settings.json"]


_WRITER = textwrap.dedent("""
    import sys, time
    from dailies.files import write_chunks

    def chunks():
        yield b"n" * 65536
        print("writing", flush=True)
        time.sleep(60)  # killed here, half-way through its write
        yield b"n" * 65536

    write_chunks(sys.argv[1], chunks())
""")


def test_a_writer_killed_mid_write_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "journal.jsonl"
    write_bytes(target, b"o" * 1000)
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
        child.wait()
    assert target.read_bytes() == b"o" * 1000, "the target is never half-written"
    left = [name for name in os.listdir(tmp_path) if name != target.name]
    assert len(left) == 1 and left[0].startswith(".journal.jsonl.") and left[0].endswith(".part"), left


_REWRITER = textwrap.dedent("""
    import sys
    from dailies.files import write_bytes

    for n in range(int(sys.argv[2])):
        write_bytes(sys.argv[1], bytes([n % 256]) * (n % 7 + 1) * 100_000)
""")


def test_a_reader_never_sees_half_a_file_while_another_process_rewrites_it(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    write_bytes(target, b"\0" * 100_000)
    writer = subprocess.Popen([sys.executable, "-c", _REWRITER, str(target), "300"],
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    reads = 0
    try:
        while writer.poll() is None or reads == 0:
            data = target.read_bytes()
            reads += 1
            assert len(data) % 100_000 == 0 and data == data[:1] * len(data), "a whole file, one version of it"
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0 and reads > 1
