"""Where the pipeline API may send a callback: public https hosts, and hosts a team names on purpose.

A `callback_url` is a URL that whoever holds the API token chooses, and the server POSTs to it: left
open, it would reach what only the server can reach (this machine's other ports, the app's own engine,
a cloud's metadata address, the office network) and the take's `callback.last_status` would tell what
answered. So a callback goes only to a host whose every address is public (not loopback, private,
link-local, multicast, reserved or unspecified; IPv4 inside IPv6 is looked through), over https. That
is checked when the take is ordered (the order is refused, nothing stored) and again right before each
send, because DNS can answer differently later: the send then connects to the very address that was
checked (the URL's host is kept for `Host` and TLS), and redirects are never followed.

A team that wants callbacks on its own network names those hosts in `DAILIES_CALLBACK_ALLOW_HOSTS`
(environment or secrets; comma-separated host names, IP addresses or networks, matched against the
host as written in the URL): `cms.internal,10.0.0.5`. A named host is trusted as the team's own and
may use plain http.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from dailies.errors import ValidationError

ALLOW_HOSTS_VAR = "DAILIES_CALLBACK_ALLOW_HOSTS"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the addresses a connection to it would use; OSError when the name is unknown."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NOT_PUBLIC = (  # checked in this order, so that the reason given is the most telling one
    ("is_loopback", "this machine (loopback)"),
    ("is_unspecified", "the unspecified address"),
    ("is_link_local", "link-local (where cloud metadata services answer)"),
    ("is_multicast", "multicast"),
    ("is_private", "on a private network"),
    ("is_reserved", "reserved"),
)


class CallbackRefused(ValidationError):
    """A callback URL the server will not send to, saying why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="callback_url")


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the operating system gives for `host`, in its order, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def why_not_public(address: str) -> str | None:
    """Why `address` is not a public internet address (None when it is one).

    IPv4 carried in IPv6 (`::ffff:127.0.0.1`, 6to4, Teredo, NAT64's `64:ff9b::/96`) is judged by the
    IPv4 address inside as well. `is_global` alone is not enough on Python 3.11: it calls multicast
    addresses global.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    judged: list[Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # the IPv4 address is what is connected to
        judged = [ip.ipv4_mapped]
    elif isinstance(ip, ipaddress.IPv6Address):
        teredo = ip.teredo
        judged += [inner for inner in (ip.sixtofour, teredo[1] if teredo else None) if inner]
        if ip in _NAT64:
            judged.append(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
    for one in judged:
        for flag, words in _NOT_PUBLIC:
            if getattr(one, flag):
                return f"{address} is {words}"
        if not one.is_global:
            return f"{address} is not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A checked callback URL, and the address to connect to (None: a host named in the allow-list,
    connected to as the system resolves it)."""

    url: str
    address: str | None


@dataclass(frozen=True)
class CallbackPolicy:
    """Which callback URLs are sent to. Frozen and thread-safe; `resolve` is the seam tests replace."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[Network, ...] = ()
    resolve: Resolver = field(default=system_resolve, compare=False)

    @classmethod
    def from_setting(cls, value: str | None, resolve: Resolver = system_resolve) -> CallbackPolicy:
        """From `DAILIES_CALLBACK_ALLOW_HOSTS`'s value: host names, addresses and networks, comma-separated."""
        hosts, networks = set(), []
        for entry in (value or "").split(","):
            entry = _normal_host(entry)
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks), resolve)

    @classmethod
    def from_values(cls, values: Mapping[str, str], resolve: Resolver = system_resolve) -> CallbackPolicy:
        """From the environment and secrets (`Environment.values`)."""
        return cls.from_setting(values.get(ALLOW_HOSTS_VAR) or values.get(ALLOW_HOSTS_VAR.lower()), resolve)

    def named(self, host: str) -> bool:
        """Whether the team named `host` (as written in a URL) in the allow-list."""
        host = _normal_host(host)
        if host in self.allow_hosts:
            return True
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.allow_networks)

    def check(self, url: str) -> Target:
        """The target to send `url`'s callbacks to, resolved and checked now; CallbackRefused says why not."""
        url = url.strip()
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise CallbackRefused(f"callback_url {url!r} is not an http(s) URL.") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise CallbackRefused(f"callback_url {url!r} is not an http(s) URL.")
        host = parsed.raw_host.decode("ascii")
        if self.named(host):
            return Target(url, None)
        if parsed.scheme != "https":
            raise CallbackRefused(f"callback_url must use https; plain http only to a host named in {ALLOW_HOSTS_VAR}.")
        try:
            addresses = self.resolve(_normal_host(host), parsed.port or 443)
        except (OSError, UnicodeError):
            raise CallbackRefused(f"callback_url's host {parsed.host!r} could not be found.") from None
        if not addresses:
            raise CallbackRefused(f"callback_url's host {parsed.host!r} could not be found.")
        for address in addresses:
            reason = why_not_public(address)
            if reason:
                raise CallbackRefused(
                    f"callback_url's host {parsed.host!r} is not a public address ({reason}): callbacks go only "
                    f"to public https hosts. To send to a host of your own network on purpose, name it in "
                    f"{ALLOW_HOSTS_VAR}.")
        return Target(url, addresses[0])


def post(client: httpx.Client, target: Target, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
    """POST to a checked target, connecting to its checked address (the URL's host still names the site in
    `Host` and in TLS, whose certificate is checked against it); a redirect is returned, never followed.

    The connection is closed after the answer: a pooled connection is keyed by address, and reused for
    another host on the same address it would carry that host's request under the first one's TLS name.
    """
    url = httpx.URL(target.url)
    extensions = {}
    if target.address is not None:
        headers = {**headers, "Host": url.netloc.decode("ascii"), "Connection": "close"}
        if url.scheme == "https":
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
        url = url.copy_with(host=target.address)
    request = client.build_request("POST", url, content=content, headers=headers, extensions=extensions)
    return client.send(request, follow_redirects=False)


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()
