"""Guest links on the pages' side: what this browser's guest cookie opens (`dailies.web.guests` has the routes).

`workbench.py` asks `dailies.web.guests.holds_guest_cookie` before anything else on every run (cheap: it loads
nothing of `dailies.review`), and the guest view (`components.guest_view`) asks `guest_link` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dailies.web.guests import guest_link as _guest_link
from dailies.web.guests import holds_guest_cookie

if TYPE_CHECKING:  # `dailies.review` loads pandas and OTIO: imported when a guest link is first asked about
    from dailies.review.guests import GuestLink, GuestLinks, GuestRefused

__all__ = ["guest_link", "links"]


def links() -> GuestLinks:
    from components.runtime import studio
    from dailies.review.guests import GuestLinks

    return GuestLinks(studio().store)


def guest_link(cookies: Mapping[str, str]) -> GuestLink | GuestRefused | None:
    """What this browser's guest cookie opens over the shared studio's links (`dailies.web.guests.guest_link`)."""
    return _guest_link(links(), cookies) if holds_guest_cookie(cookies) else None
