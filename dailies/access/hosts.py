"""Whom the server answers: the names it is reached by, and what another site's page may ask of it.

A browser says where a request comes from in its headers; a script sends none of them but `Host`:
- `Host`, the name the browser looked up. A page on evil.example can rebind its own name to 127.0.0.1
  and then read the workbench as its own pages (DNS rebinding): `Host: evil.example:8501`. Only this
  machine's loopback names and the names the team configured are answered; anything else is a 421.
- `Origin`, the page that made the request (every POST, every WebSocket, every `fetch` to another origin):
  only the app's own origin (the same scheme, host and port as the `Host` it was sent to) or a configured
  name is answered; a page on another port of localhost is another origin, refused with a 403.
- `Sec-Fetch-Site`, whether that page is this origin, this site (another port counts) or another site:
  another site's page may link to the workbench (a top-level navigation) but may not load anything from
  it, and the team's takes are served to the app's own pages only (`<video src>` on another page: 403).
Framing by another page (clickjacking) is refused by the browser, told by `FRAMING_HEADERS`.

Kept here without Streamlit, so that the rules can be read and tested on their own;
`dailies.web.boundary` applies them to every request, Streamlit's own routes included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from dailies.config import host_of, is_loopback_host

__all__ = ["ALLOWED_HOSTS_VARIABLE", "FRAMING_HEADERS", "HEALTH_PATH", "HostPolicy", "Refusal"]

ALLOWED_HOSTS_VARIABLE = "DAILIES_ALLOWED_HOSTS"
"""The environment variable or secret naming the hosts people reach the app by besides loopback (a LAN
address, a name, a reverse proxy's name), comma-separated."""

FRAMING_HEADERS = (("Content-Security-Policy", "frame-ancestors 'self'"), ("X-Frame-Options", "SAMEORIGIN"))
"""Sent with every answer: only the app's own pages may frame it (Streamlit's components are same-origin frames)."""

HEALTH_PATH = "/_stcore/health"
"""Answered without a `Host` too (a load balancer's or container's health check); no browser omits `Host`."""

PROGRAM_PREFIXES = ("/hooks/", "/api/")
"""Paths called by providers and scripts, answered also for the host of `DAILIES_PUBLIC_URL` (a tunnel or a
reverse proxy that exposes only these); each checks its own signature or token and refuses any `Origin`."""

SAME_ORIGIN_ONLY_PREFIXES = ("/app/static/takes/",)
"""The team's takes: fetched by the app's own pages only, never by another page, nor opened from another site."""

_WILDCARD_ADDRESSES = {"", "0.0.0.0", "::", "*"}  # binding addresses (every interface), not names
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


class Refusal(NamedTuple):
    status: int
    code: str
    """`wrong_host` or `cross_origin`, as the embedded engine's own errors name them."""
    message: str


def _names(values: Iterable[str | None]) -> frozenset[str]:
    """Host names from configured values: `name`, `name:port`, `[v6]`, a URL; commas or spaces between several."""
    names: set[str] = set()
    for value in values:
        for item in re.split(r"[,\s;]+", str(value or "").strip()):
            netloc = urlsplit(item).netloc if "://" in item else item
            name = host_of(netloc).strip("[]").rstrip(".").lower()
            if name not in _WILDCARD_ADDRESSES:
                names.add(name)
    return frozenset(names)


def _origin(url: str) -> tuple[str, str, int] | None:
    """An origin's (scheme, host, port), or None for `null` and anything unparsable."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    return (scheme, host, port) if host and port else None


def _host_header(value: str) -> tuple[str, int | None] | None:
    """A `Host` header's (host, port or None), or None when it is not one."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return host, port


def _quoted(host: str) -> str:
    """A `Host` as a refusal may quote it: host-name characters only, so that no answer carries markup."""
    return "'" + re.sub(r"[^A-Za-z0-9.:\[\]_-]", "?", host[:100]) + "'"


@dataclass(frozen=True)
class HostPolicy:
    """The names this server answers to besides loopback ones, and the checks every request passes."""

    names: frozenset[str] = frozenset()
    """Configured names people reach the app by: `server.address`, `browser.serverAddress`, `DAILIES_ALLOWED_HOSTS`."""
    program_names: frozenset[str] = frozenset()
    """The host of `DAILIES_PUBLIC_URL`: answered on `PROGRAM_PREFIXES` only."""

    @classmethod
    def parse(cls, *configured: str | None, public_url: str | None = None) -> HostPolicy:
        return cls(_names(configured), _names([public_url]))

    @property
    def reached_from_other_machines(self) -> bool:
        """Whether a configured name is not this machine's (a LAN address, a proxy's name): people elsewhere
        reach the pages, so they need sign-in even on a server bound to loopback behind a proxy."""
        return any(not is_loopback_host(name) for name in self.names)

    def host_allowed(self, host: str, path: str = "/") -> bool:
        """Whether `host` (a `Host` header's host part) names this server for a request to `path`."""
        host = host.strip().strip("[]").rstrip(".").lower()
        if is_loopback_host(host) or host in self.names:
            return True
        return host in self.program_names and path.startswith(PROGRAM_PREFIXES)

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        """Whether a page at `origin` is the app itself: the origin of the `Host` it sent the request to (same
        host and port; not the scheme, which `Host` does not carry and a TLS proxy in front changes), or a configured
        name that is not loopback (a proxy in front may change the port). A page on another port of localhost is
        another application, and another origin."""
        page, target = _origin(origin), _host_header(host_header)
        if page is None or target is None:
            return False
        scheme, host, port = page
        if host == target[0].lower() and port == (target[1] or _DEFAULT_PORTS.get(scheme)):
            return True
        return host in self.names and not is_loopback_host(host)

    def refusal(self, path: str, headers: Mapping[str, str]) -> Refusal | None:
        """Why a request (an HTTP request or a WebSocket handshake) is refused before any route sees it, or None.

        `headers` are the request's, with lower-case names.
        """
        host_header = headers.get("host")
        if host_header is None:
            return None if path == HEALTH_PATH else Refusal(421, "wrong_host", "A request must name its host.")
        target = _host_header(host_header)
        if target is None or not self.host_allowed(target[0], path):
            return Refusal(421, "wrong_host",
                           f"This server does not answer for the host {_quoted(host_of(host_header))}. If that is how "
                           f"people reach it, add it to {ALLOWED_HOSTS_VARIABLE} and restart the app.")
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin, host_header):
            return Refusal(403, "cross_origin", "Requests sent by another origin's web page are refused.")
        site = headers.get("sec-fetch-site")
        if site in (None, "same-origin", "none"):
            return None
        if path.startswith(SAME_ORIGIN_ONLY_PREFIXES):
            return Refusal(403, "cross_origin", "The team's takes are served to the workbench's own pages only.")
        top_level = headers.get("sec-fetch-mode") == "navigate" and headers.get("sec-fetch-dest") == "document"
        if not top_level:
            return Refusal(403, "cross_origin",
                           "Another site's page may link to the workbench, not load anything from it.")
        return None
