"""The two store backends, for tests that run the same behaviour against both.

`backend` is parametrised: `journal` (the data folder's journal) and `postgresql` (a fresh database on a
real PostgreSQL server this session started on loopback, `tests/pg_server.py`). `backend.open()` opens
one more store on the same data, as another process would; `backend.env()` gives a subprocess the same.
PostgreSQL's programs missing is a failure that says how to install them, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import pg_server, pg_url  # noqa: F401 (fixtures)
from store_backends import Backend

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


@pytest.fixture(params=["journal", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    chosen = Backend(request.param, home, url)
    yield chosen
    chosen.close_all()
