"""What the web layer is told about the server it runs in: plain values, read by whoever starts it.

The Streamlit side (`components/web.py`) reads Streamlit's options, the secrets and the environment once and
hands them here; a test writes them down. Nothing in the web layer reads configuration of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dailies.access.hosts import HostPolicy
from dailies.config import is_loopback_host
from dailies.webhooks import MAX_BODY as MAX_HOOK_BODY

__all__ = ["BodyLimits", "WebSettings"]


@dataclass(frozen=True)
class BodyLimits:
    """The largest body each kind of route reads, in bytes (`dailies.request_bodies` holds every read to its limit)."""

    order: int = 25 * 1024 * 1024
    """An order, JSON or form, to the pipeline API (a reference image is most of it)."""
    order_fields: int = 100
    """The most fields in an order sent as a form (tags are a field each)."""
    review: int = 1024 * 1024
    """A comment or decision: a note of 4,000 characters with a long drawing fits."""
    hook: int = MAX_HOOK_BODY
    sign_in_form: int = 4 * 1024
    """The sign-in form: one token field."""


def _nobody_signed_in(cookies: Mapping[str, str]) -> bool:
    return False


@dataclass(frozen=True)
class WebSettings:
    """The server's names, the secrets its routes check, and how large a body may be."""

    hosts: HostPolicy = field(default_factory=HostPolicy)
    """The names this server answers to besides loopback ones (and the public URL's, on program routes)."""
    server_address: str = "127.0.0.1"
    """The address the server is bound to; "" is every interface."""
    port: int = 8501
    public_url: str | None = None
    """`DAILIES_PUBLIC_URL`: where providers and scripts reach this server from outside."""
    access_token: str | None = field(default=None, repr=False)
    """`DAILIES_ACCESS_TOKEN`: what a person enters once on `/access` when the server is reached from elsewhere."""
    api_token: str | None = field(default=None, repr=False)
    """`DAILIES_API_TOKEN`: the pipeline API's bearer token; unset, the API is off and says so."""
    callback_secret: str | None = field(default=None, repr=False)
    """`DAILIES_CALLBACK_SECRET`: what the pipeline API's callbacks are signed with."""
    signed_in: Callable[[Mapping[str, str]], bool] = _nobody_signed_in
    """Whether a request's cookies carry a signed-in, allowed user (the Streamlit side's sign-in, `[auth]`)."""
    limits: BodyLimits = field(default_factory=BodyLimits)

    @property
    def bound_beyond_loopback(self) -> bool:
        """Whether people on other machines can reach this server: it is bound beyond loopback (no address means
        every interface), or a name it answers to is not this machine's (a LAN address, a reverse proxy's name)."""
        address = self.server_address
        return not (address and is_loopback_host(address)) or self.hosts.reached_from_other_machines

    @property
    def file_base(self) -> str:
        """Where the API's file URLs point: the public URL when there is one, else this server on loopback."""
        return self.public_url or f"http://127.0.0.1:{self.port}"
