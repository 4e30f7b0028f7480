"""Who may use the workbench when sign-in is on: an allow-list of e-mail domains and addresses.

Sign-in itself is Streamlit's (`st.login`, OpenID Connect configured in `[auth]` of
`.streamlit/secrets.toml`); the provider says who someone is, and this list says whether they are
one of the team. Kept here, without Streamlit, so the rule can be tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ALLOW_VARIABLE", "AllowList", "email_verified"]

ALLOW_VARIABLE = "DAILIES_SIGN_IN_ALLOW"
"""The environment variable or secret holding the allow-list: domains and addresses, comma-separated."""


@dataclass(frozen=True)
class AllowList:
    """E-mail domains (`example.com`, or `@example.com`) and whole addresses allowed in; empty allows anyone
    the sign-in provider lets through."""

    domains: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> AllowList:
        domains: set[str] = set()
        addresses: set[str] = set()
        for item in re.split(r"[,\s;]+", (text or "").strip().casefold()):
            if not item:
                continue
            if "@" in item.strip("@"):
                addresses.add(item)
            else:
                domains.add(item.lstrip("@"))
        return cls(frozenset(domains), frozenset(addresses))

    def __bool__(self) -> bool:
        return bool(self.domains or self.addresses)

    def allows(self, email: str | None, *, verified: bool = True) -> bool:
        """Whether a signed-in address is one of the team's. An address the provider says it has not
        verified is refused when a list is set: anyone can type any address into some providers."""
        if not self:
            return True
        if not email or not verified:
            return False
        address = email.strip().casefold()
        return address in self.addresses or address.rpartition("@")[2] in self.domains

    def admits(self, claims: Mapping[str, Any]) -> bool:
        """Whether a signed-in user (their ID token's claims) is one of the team's: with a list set, their
        `email` must be on it and `email_verified` must be true (a token that does not say so is refused)."""
        return self.allows(claims.get("email"), verified=email_verified(claims))


def email_verified(claims: Mapping[str, Any]) -> bool:
    """Whether the ID token says its `email` was verified: `email_verified` true (a few providers send the text
    "true"); missing or anything else is not verified."""
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
