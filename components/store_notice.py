"""A store that cannot be opened or reached is said on the page, in a sentence, instead of a traceback.

The journal says what went wrong with its file; PostgreSQL that the database is down or the URL wrong
(never with the URL's password: the store's messages are built without it). The page stops there;
nothing was written, and the next run tries again (the store reconnects when the database is back).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from components.text import plain
from dailies.store import StoreOpenError, StoreUnavailableError

__all__ = ["store_errors_shown"]


@contextlib.contextmanager
def store_errors_shown() -> Iterator[None]:
    """Show a `StoreOpenError` or `StoreUnavailableError` raised inside as an error box (other errors go on)."""
    try:
        yield
    except (StoreOpenError, StoreUnavailableError) as exc:
        st.error(plain(str(exc)), icon=":material/database:")
