"""Who is at the workbench: the signed-in user, or a display name given once in this browser tab.

With `[auth]` in `.streamlit/secrets.toml`, Streamlit's own sign-in (`st.login`, OpenID Connect) says
who someone is, and `DAILIES_SIGN_IN_ALLOW` may narrow it to the team's domains or addresses. Without
it, on this machine, a person gives a name once; it is kept in the tab's Streamlit session and used
to say who launched a job and who reviewed a take. That name is not authentication: anyone may type
any name, and the sidebar says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from components.streamlit_patches import signed_cookie
from components.text import plain
from dailies.access.identity import ALLOW_VARIABLE, AllowList
from dailies.config import Environment

NAME = "person"
"""Where the tab's display name is kept in the session (not a widget key, so it survives page changes)."""
NAME_INPUT = "person_input"


def auth_configured() -> bool:
    """Whether `[auth]` is set in the secrets (Streamlit's sign-in can run)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all (Streamlit raises its own FileNotFoundError kind)
        return False


def allow_list() -> AllowList:
    """The allow-list from the environment, else from the secrets Streamlit loaded (any `secrets.files`)."""
    text = Environment.load().key_named(ALLOW_VARIABLE)
    if not text:
        try:
            text = str(st.secrets.get(ALLOW_VARIABLE) or "")
        except Exception:  # no secrets file at all
            text = ""
    return AllowList.parse(text)


def signed_in_as() -> str | None:
    """The signed-in user's e-mail (or name), when sign-in is on and they are signed in."""
    if not auth_configured() or not st.user.is_logged_in:
        return None
    return str(st.user.get("email") or st.user.get("name") or st.user.get("sub") or "") or None


def current_person() -> str | None:
    """Who is asking in this session; None outside a session (the tracker's threads, the CLI)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return signed_in_as() or (str(st.session_state.get(NAME) or "").strip() or None)


USER_COOKIE = "_streamlit_user"
"""The cookie Streamlit's sign-in sets (signed with `[auth] cookie_secret`), read by `user_from_cookies`."""


def user_from_cookies(cookies: Mapping[str, str]) -> dict[str, Any] | None:
    """The signed-in user that Streamlit's sign-in cookie names, checked against its signature, or None.

    For routes outside a script run (the media files), where `st.user` does not exist; the cookie is read with
    Streamlit's own functions (`components.streamlit_patches.signed_cookie`)."""
    try:
        raw = signed_cookie(cookies, USER_COOKIE)
        payload = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) and payload.get("is_logged_in") else None


def cookie_signed_in(cookies: Mapping[str, str]) -> bool:
    """Whether the cookies carry a signed-in user the allow-list lets in (the media route's check)."""
    user = user_from_cookies(cookies) if auth_configured() else None
    return bool(user) and allow_list().admits(user)


def require_sign_in() -> None:
    """With sign-in configured, stop the run (no page runs) until the person signs in and is allowed."""
    if not auth_configured():
        return
    if not st.user.is_logged_in:
        st.title("Dailies")
        st.info("Sign in with your team account to use the workbench.", icon=":material/lock:")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:", key="sign_in")
        st.stop()
    email = st.user.get("email")
    allowed = allow_list()
    if not allowed.admits(st.user):
        st.title("Dailies")
        if allowed.allows(email):  # on the list, but the provider did not say the address is verified
            st.error(f"The sign-in provider did not say {plain(email or 'this address')} is verified "
                     "(`email_verified`), so it is not let in. Verify the address with the provider, or sign in "
                     "with another account.", icon=":material/block:")
        else:
            st.error(f"{plain(email or 'This account')} is not allowed in this workbench. Ask the team to add your "
                     f"address or domain to {ALLOW_VARIABLE}, or sign in with another account.",
                     icon=":material/block:")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out_refused")
        st.stop()


def _keep_name() -> None:
    st.session_state[NAME] = " ".join(str(st.session_state.get(NAME_INPUT) or "").split())[:80]


def who_line() -> None:
    """The sidebar's line: signed in as whom (and sign out), or the tab's name, asked once."""
    person = signed_in_as()
    if person:
        st.caption(f"Signed in as **{plain(person)}**")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")
        return
    if st.session_state.get(NAME) and not st.session_state.get(NAME_INPUT):  # given on a page (a review link)
        st.session_state[NAME_INPUT] = st.session_state[NAME]
    st.session_state.setdefault(NAME_INPUT, st.session_state.get(NAME, ""))
    st.text_input("Your name", key=NAME_INPUT, on_change=_keep_name, placeholder="Who is making and reviewing",
                  help="Kept in this browser tab only, to say who launched a take and who reviewed it. "
                       "This is not sign-in: anyone can type any name.")
    if st.session_state.get(NAME):
        st.caption(f"Working as **{plain(st.session_state[NAME])}** (a name, not a sign-in)")
