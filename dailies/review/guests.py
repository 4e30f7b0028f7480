"""Guest links: a link that opens one round, one board or one playlist of takes to a reviewer, and nothing else.

The link carries a secret (`secrets.token_urlsafe`); the store keeps only its SHA-256, so a copy of the
data folder or a database dump opens nothing. Each link has a scope (what kind of thing, its id, and the
takes it may show), an expiry, and can be revoked from the page that made it. `GuestLinks.open` says what
a secret opens, or raises `GuestRefused` with a sentence (unknown, expired, revoked), comparing in
constant time. The token is the access, for its scope only: `Scope.allows(take_id)` is what a guest view
asks before it shows or accepts anything about a take. The pages and routes that serve a guest view are
built on this; this module holds only the rule.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from dailies.errors import RequestRefused, ValidationError
from dailies.review.ids import new_id
from dailies.review.text import MAX_NAME, plain_text

__all__ = ["GUESTS_TABLE", "LIVES", "MAX_LIFE_S", "GuestLink", "GuestLinks", "GuestRefused", "Scope", "playlist_id"]

GUESTS_TABLE = "review_guest_links"
MAX_LIFE_S = 30 * 24 * 3600.0
"""The longest a guest link lives: a month. A review that takes longer gets a new link."""
Kind = Literal["round", "board", "takes"]
KINDS: tuple[str, ...] = ("round", "board", "takes")
MAX_TAKES = 500
LIVES: dict[str, float] = {"1 day": 86400.0, "7 days": 7 * 86400.0, "30 days": MAX_LIFE_S}
"""The lives the pages offer for a new link (the core takes any up to `MAX_LIFE_S`)."""


def playlist_id(takes: Iterable[str]) -> str:
    """A playlist's id: the same takes in any order are the same playlist, so its links list together."""
    joined = "\n".join(sorted({str(t) for t in takes}))
    return "playlist_" + hashlib.sha256(joined.encode()).hexdigest()[:16]


class GuestRefused(RequestRefused):
    """A guest secret that opens nothing (unknown, expired or revoked): said in a sentence, nothing shown."""


@dataclass(frozen=True)
class Scope:
    """What a guest link opens: one round, board or playlist, and the takes it may show."""

    kind: Kind
    id: str
    takes: frozenset[str] = field(default_factory=frozenset)

    def allows(self, take_id: str) -> bool:
        return take_id in self.takes


@dataclass(frozen=True)
class GuestLink:
    id: str
    scope: Scope
    label: str
    made_by: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None
    secret: str = field(default="", repr=False, compare=False)
    """The link's secret, on the link `create` returns only (shown once; never stored)."""

    def state(self, now: float) -> str:
        """"revoked", "expired" or "live"."""
        return "revoked" if self.revoked_at is not None else "expired" if now >= self.expires_at else "live"

    @classmethod
    def from_record(cls, key: str, data: dict[str, Any]) -> GuestLink:
        scope = Scope(data["kind"], str(data["scope_id"]), frozenset(data.get("takes") or ()))
        return cls(id=key, scope=scope, label=str(data.get("label") or ""), made_by=str(data.get("made_by") or ""),
                   created_at=float(data["created_at"]), expires_at=float(data["expires_at"]),
                   revoked_at=data.get("revoked_at"))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GuestLinks:
    """Guest links in the store's `review_guest_links` table (one record per link). `clock` is for tests."""

    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = store.table(GUESTS_TABLE)
        self._clock = clock

    def create(self, kind: str, scope_id: str, takes: Iterable[str], *, made_by: str, life_s: float,
               label: str = "") -> GuestLink:
        """A new link to `kind` `scope_id` showing `takes`, living `life_s` seconds; its secret is on the
        returned link only."""
        if kind not in KINDS:
            raise ValidationError(f"A guest link opens a {', a '.join(KINDS)}, not {kind!r}.", field="kind")
        shown = frozenset(str(t) for t in takes)
        if not shown or len(shown) > MAX_TAKES:
            raise ValidationError(f"A guest link shows 1 to {MAX_TAKES} takes.", field="takes")
        if not 0 < life_s <= MAX_LIFE_S:
            raise ValidationError("A guest link lives from a moment up to 30 days.", field="life_s")
        secret, now = secrets.token_urlsafe(24), self._clock()
        link = GuestLink(id=new_id("guest"), scope=Scope(kind, str(scope_id), shown),  # type: ignore[arg-type]
                         label=plain_text(label, MAX_NAME, what="label", lines=False),
                         made_by=plain_text(made_by, MAX_NAME, what="made_by", lines=False),
                         created_at=now, expires_at=now + life_s, secret=secret)
        self._table.set(link.id, kind=kind, scope_id=link.scope.id, takes=sorted(shown), label=link.label,
                        made_by=link.made_by, created_at=now, expires_at=link.expires_at, revoked_at=None,
                        secret_sha256=_digest(secret))
        return link

    def open(self, secret: str) -> GuestLink:
        """The live link `secret` opens; GuestRefused saying why not."""
        given = _digest(secret or "")
        for key, data in self._table.all().items():
            if hmac.compare_digest(str(data.get("secret_sha256") or ""), given):
                link = GuestLink.from_record(key, data)
                state = link.state(self._clock())
                if state == "revoked":
                    raise GuestRefused("This link was revoked by whoever shared it: ask them for a new one.")
                if state == "expired":
                    raise GuestRefused("This review link has expired; ask for a new one.")
                return link
        raise GuestRefused("This review link is not valid.")

    def revoke(self, link_id: str) -> None:
        """Withdraw the link: it opens nothing from now on (the record stays, saying when)."""
        if self._table.get(link_id) is None:
            raise ValidationError(f"No guest link {link_id!r}.", field="link")
        self._table.set(link_id, revoked_at=self._clock())

    def made(self, kind: str) -> list[GuestLink]:
        """Every link made for a kind of scope (all playlists, say), newest first."""
        found = [GuestLink.from_record(k, v) for k, v in self._table.all().items() if v.get("kind") == kind]
        return sorted(found, key=lambda link: link.created_at, reverse=True)

    def of_scope(self, kind: str, scope_id: str) -> list[GuestLink]:
        """The links made for one round, board or playlist, newest first (for the page that made them)."""
        found = [GuestLink.from_record(k, v) for k, v in self._table.all().items()
                 if v.get("kind") == kind and str(v.get("scope_id")) == scope_id]
        return sorted(found, key=lambda link: link.created_at, reverse=True)
