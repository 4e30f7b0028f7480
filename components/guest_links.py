"""The organiser's side of guest links: make one for a round, a board or a playlist, see them, revoke one.

The rule is `dailies.review.guests`; this is the panel each page that can share shows. The link's secret is
shown once, in this tab, right after it is made (the store keeps only its digest, so nobody can show it
again); the list shows every link made for the same scope, with what it opens, until when, and its state.
A link names the host the guest will reach the app by: the one this page was opened by, or a name the team
configured for other machines (`DAILIES_ALLOWED_HOSTS`), so that a link made on this machine works on the LAN.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

import streamlit as st

from components.identity import current_person
from components.runtime import studio
from components.text import plain
from components.web import web_settings
from dailies.config import is_loopback_host
from dailies.errors import ValidationError
from dailies.review.guests import LIVES, GuestLink, GuestLinks
from dailies.web.paths import GUEST_ROUTE

MADE = "guest_links_made"
"""Session key: scope key → (link id, its address), the link made last in this tab (its secret is shown once)."""
KIND_WORDS = {"round": "this round", "board": "this board", "takes": "these takes"}


def _links() -> GuestLinks:
    return GuestLinks(studio().store)


def _bases() -> list[str]:
    """The addresses a link may start with: each configured name for other machines and this page's own; a page
    opened by a loopback name offers it last (a guest elsewhere cannot open `127.0.0.1`)."""
    here = urlsplit(st.context.url or "http://127.0.0.1")
    port = f":{here.port}" if here.port else ""
    own = f"{here.scheme}://{here.netloc}"
    lan = [f"{here.scheme}://{name}{port}" for name in sorted(web_settings().hosts.names) if not is_loopback_host(name)]
    bases = [*lan, own] if is_loopback_host(here.hostname or "") else [own, *lan]
    return list(dict.fromkeys(bases))


def link_address(base: str, secret: str) -> str:
    return f"{base}{GUEST_ROUTE}?{urlencode({'t': secret})}"


def _revoke(link_id: str) -> None:
    _links().revoke(link_id)
    made = st.session_state.get(MADE, {})
    for key in [k for k, (made_id, _address) in made.items() if made_id == link_id]:
        made.pop(key)  # a revoked link's address is no longer offered for copying


def _line(link: GuestLink, now: float) -> str:
    state = link.state(now)
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(link.revoked_at if state == "revoked" else link.expires_at))
    when = {"live": f"expires {until}", "expired": f"expired {until}", "revoked": f"revoked {until}"}[state]
    label = f"{link.label} · " if link.label else ""
    return f"{label}{len(link.scope.takes)} take{'s' * (len(link.scope.takes) != 1)} · {when} · made by " \
           f"{link.made_by or 'someone'}"


def guest_links_panel(kind: str, scope_id: str, takes: Iterable[str], *, key: str, listed: str | None = None) -> None:
    """Make a guest link to `kind` `scope_id` showing `takes`, and list (and revoke) the links made for it;
    `listed="takes"` lists every playlist's links (History's selection changes from one visit to the next)."""
    shown = list(dict.fromkeys(takes))
    made = st.session_state.setdefault(MADE, {})
    with st.expander("Guest links", icon=":material/share:", key=f"guest_links_{key}"):
        st.caption(f"A guest link opens {KIND_WORDS[kind]} to someone outside the team: the players, notes and "
                   "decisions, nothing else of the workbench, without the team's sign-in.")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            life = st.segmented_control("Expires after", list(LIVES), default="7 days", required=True,
                                        key=f"guest_life_{key}")
            bases = _bases()
            base = st.selectbox("Reached at", bases, key=f"guest_base_{key}",
                                help="The address the guest opens: this page's, or a name configured for other "
                                     "machines (DAILIES_ALLOWED_HOSTS)")
            label = st.text_input("Label", key=f"guest_label_{key}", placeholder="For the client")
            if st.button("Make a guest link", key=f"guest_make_{key}", icon=":material/add_link:",
                         disabled=not shown, help=None if shown else "Nothing here has a video to review yet"):
                try:
                    link = _links().create(kind, scope_id, shown, made_by=current_person() or "", label=label,
                                           life_s=LIVES[life or "7 days"])
                except ValidationError as exc:
                    st.error(plain(exc), icon=":material/block:")
                else:
                    made[key] = (link.id, link_address(base, link.secret))
        if key in made:
            st.markdown("**The new link**: copy it now; it is shown only here, once (only its digest is kept).")
            st.code(made[key][1], language=None)
        every = _links().made(kind) if listed else _links().of_scope(kind, scope_id)
        now = time.time()
        for number, link in enumerate(every[:20]):
            with st.container(horizontal=True, vertical_alignment="center", key=f"guest_link_{key}_{number}"):
                st.text(_line(link, now))
                if link.state(now) == "live":
                    st.button("Revoke", key=f"guest_revoke_{link.id}", on_click=_revoke, args=(link.id,),
                              icon=":material/link_off:")
        if not every:
            st.caption("No guest links made here yet.")
