"""How fast anyone may guess the access token: a few wrong tries free, then waits that double, per address and
for everyone together.

`/access` asks `Guesses.wait` before it looks at a token and answers 429 with `Retry-After` while the answer
is not 0, so a guesser is slowed without holding the server (nothing sleeps). One address's waits double with
each wrong token past `free_failures`; all addresses together may send `shared_failures_per_minute`, so that
many addresses (an IPv6 network counts as one, by its /64) gain little. A locked-out address is not sent
the answer to a guess it was not allowed to make, so the right token then is refused too until the wait ends.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass

from dailies.backoff import Backoff

__all__ = ["GuessPolicy", "Guesses"]


@dataclass(frozen=True)
class GuessPolicy:
    free_failures: int = 5
    """Wrong tokens an address may send before it has to wait (a person mistyping)."""
    waits: Backoff = Backoff(first=1.0, cap=900.0)
    """The wait after the first wrong token past the free ones (`first`); each further one doubles it, to `cap`."""
    forget_after_s: float = 3600.0
    """An address with no wrong token for this long starts again with its free tries."""
    shared_failures_per_minute: float = 30.0
    """Wrong tokens all addresses together may send per minute (and at once, from a quiet start)."""
    addresses_kept: int = 10_000
    """At most this many addresses are remembered (the oldest are forgotten first)."""

    def wait_after(self, failures: int) -> float:
        """Seconds an address waits after its `failures`-th wrong token in a row."""
        past = failures - self.free_failures
        return 0.0 if past < 1 else self.waits.delay(min(past - 1, 30))


def client_key(address: str) -> str:
    """Who is counted as one guesser: the address, or its /64 for IPv6 (one machine can hold a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Guesses:
    """Wrong tokens seen, by address and in all; `now` is a monotonic clock's seconds. Thread-safe."""

    def __init__(self, policy: GuessPolicy | None = None) -> None:
        self.policy = policy or GuessPolicy()
        self._lock = threading.Lock()
        self._by_address: dict[str, tuple[int, float]] = {}  # key -> (wrong tokens in a row, when the last was)
        self._shared = self.policy.shared_failures_per_minute
        self._shared_at: float | None = None

    def wait(self, address: str, now: float) -> float:
        """Seconds before `address` may try a token again; 0 when it may now."""
        with self._lock:
            self._refill(now)
            failures, last = self._by_address.get(client_key(address), (0, now))
            own = last + self.policy.wait_after(failures) - now if failures else 0.0
            shared = 0.0 if self._shared >= 1 else (1 - self._shared) * 60 / self.policy.shared_failures_per_minute
            return max(own, shared, 0.0)

    def failed(self, address: str, now: float) -> None:
        """A wrong token from `address`."""
        with self._lock:
            self._refill(now)
            self._shared -= 1
            key = client_key(address)
            failures, last = self._by_address.pop(key, (0, now))
            if now - last > self.policy.forget_after_s:
                failures = 0
            self._by_address[key] = (failures + 1, now)  # re-inserted: the dict stays oldest first
            while len(self._by_address) > self.policy.addresses_kept:
                del self._by_address[next(iter(self._by_address))]

    def succeeded(self, address: str) -> None:
        """The right token from `address`: its count starts again."""
        with self._lock:
            self._by_address.pop(client_key(address), None)

    def _refill(self, now: float) -> None:
        if self._shared_at is not None:
            per_s = self.policy.shared_failures_per_minute / 60
            self._shared = min(self.policy.shared_failures_per_minute, self._shared + (now - self._shared_at) * per_s)
        self._shared_at = now
