"""The web layer (`dailies.web`) as this Streamlit server runs it: its settings read from Streamlit's options, the
secrets and the environment once, and the one app built over the shared studio.

Settings are read at start; the README says to restart after changing them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from dailies.web.settings import WebSettings


def _secret(name: str) -> str:
    """A value of any `secrets.files` Streamlit loaded (none at all: "")."""
    try:
        return str(st.secrets.get(name) or "")
    except Exception:  # no secrets file at all
        return ""


def _signed_in(cookies: Mapping[str, str]) -> bool:
    """Streamlit's sign-in (`[auth]`), read from its cookie: loaded at the first look, which only a server reached
    from other machines makes."""
    from components.identity import cookie_signed_in

    return cookie_signed_in(cookies)


@functools.cache
def web_settings() -> WebSettings:
    """This server's names, secrets and limits, for the web app and the boundary every request passes (asked first
    by the server's first request: what it loads, that request waits for)."""
    from dailies.access.hosts import ALLOWED_HOSTS_VARIABLE, HostPolicy
    from dailies.config import Environment
    from dailies.pipeline import CALLBACK_SECRET_VAR, TOKEN_VAR
    from dailies.web.settings import WebSettings

    env = Environment.load()
    public_url = env.key_named("DAILIES_PUBLIC_URL")
    allowed = env.key_named(ALLOWED_HOSTS_VARIABLE) or _secret(ALLOWED_HOSTS_VARIABLE)
    return WebSettings(
        hosts=HostPolicy.parse(st.get_option("server.address"), st.get_option("browser.serverAddress"), allowed,
                               public_url=public_url),
        server_address=str(st.get_option("server.address") or ""),
        port=int(st.get_option("server.port")),
        public_url=public_url,
        access_token=env.access_token,
        api_token=env.values.get(TOKEN_VAR) or None,
        callback_secret=env.values.get(CALLBACK_SECRET_VAR) or None,
        signed_in=_signed_in,
    )


_built: list[Starlette] = []
_building = threading.Lock()


def web_app() -> Starlette:
    """The web app over the shared studio, built once (by the start thread, or by a request that came first): its
    pipeline sends the API's callbacks from then on."""
    with _building:
        if not _built:
            from components.runtime import studio
            from dailies.web.app import build_web_app

            _built.append(build_web_app(studio(), web_settings()))
        return _built[0]
