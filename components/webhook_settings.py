"""Settings → Webhooks: our endpoint at each provider that offers webhooks, its last delivery, register / remove.

A provider that speaks the OpenAI API's `/webhook_endpoints` (the engine, OpenAI, a gateway that passes
them on), or a vendor that takes a callback URL with each request (Replicate, fal), can tell us when a
take finishes instead of being asked; polling it then slows to a safety net. Providers reach the app at
`DAILIES_PUBLIC_URL` (a tunnel or a reverse proxy); the embedded engine and other providers on this
machine reach it on loopback.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import streamlit as st

from components.text import plain
from components.web import web_settings
from dailies.config import is_loopback_host
from dailies.errors import APIError, DailiesError, RequestRefused
from dailies.providers.base import VideoProvider
from dailies.studio import Studio
from dailies.webhooks import LastDelivery, Registration, WebhookBook, register, register_vendor, unregister

SIGNED_WITH = {
    "replicate": "Replicate signs with your account's secret",
    "fal": "fal signs with its public keys",
}
"""How each vendor's callbacks are checked, in a person's words (an OpenAI-style endpoint shows its id)."""


def _offers_webhooks(provider: VideoProvider) -> bool:
    """It registers endpoints the OpenAI way (`/webhook_endpoints`, with a test event), or takes callbacks."""
    return _webhook_flags(provider) != (False, False)


def _callbacks(provider: VideoProvider) -> bool:
    """It takes a callback URL with each request (Replicate, fal): nothing to create there."""
    return _webhook_flags(provider)[1]


def _webhook_flags(provider: VideoProvider) -> tuple[bool, bool]:
    """(registers endpoints, takes callbacks), as its capabilities say; neither for a provider that cannot be
    built here (no key...)."""
    try:
        caps = provider.capabilities()
    except RequestRefused:
        return False, False
    return caps.webhook_endpoints, caps.callbacks


def _signed_with(registration: Registration) -> str:
    return SIGNED_WITH.get(registration.kind) or f"Endpoint {registration.endpoint_id}"


def _default_base(shared: Studio, name: str) -> str:
    """Where this provider reaches the app: on loopback for one on this machine, else the public URL."""
    defined = shared.env.providers.get(name)
    base = str(shared.provider(name).base_url or (defined.base_url if defined else "") or next(
        (extra.base_url for extra in shared.settings.extra_providers if extra.name == name), ""))
    if is_loopback_host(urlsplit(base).hostname or ""):
        return f"http://127.0.0.1:{st.get_option('server.port')}"
    return web_settings().public_url or ""


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _delivery_line(last: LastDelivery | None) -> str:
    if last is None:
        return "No delivery yet."
    return f"Last delivery {_ago(time.time() - last.at)}: {last.outcome}."


def webhook_section(shared: Studio) -> None:
    """The Webhooks section of Settings."""
    st.subheader("Webhooks")
    st.caption("A provider that sends webhooks says when a take finishes, so the app fetches it at once and "
               "asks that provider only about once a minute per job, as a safety net, while deliveries arrive. "
               "Providers outside this machine reach the app at DAILIES_PUBLIC_URL (a tunnel or a reverse "
               "proxy; see the README). Each delivery's signature is checked; its secret stays in the data "
               "folder, readable by this user only. Register, Remove and Send a test event are actions: each "
               "acts at once on the provider, with nothing to save.")
    book = WebhookBook(shared.home)
    offering = [name for name in shared.providers.names() if _offers_webhooks(shared.provider(name))]
    registered = book.registrations()
    for name, registration in registered.items():
        with st.container(border=True, key=f"webhook_{name}"):
            slowed = shared.tracker.pushing(name)
            st.markdown(f"**{plain(name)}** delivers to")
            st.code(registration.url, language=None)
            st.caption(f"{plain(_signed_with(registration))} · "
                       f"{plain(_delivery_line(book.last_delivery(name)))} · "
                       + ("polling slowed to the safety net" if slowed else "polling on its normal schedule"))
            with st.container(horizontal=True):
                if registration.kind == "openai" and st.button("Send a test event", key=f"webhook_test_{name}",
                                                               icon=":material/send:"):
                    _test(shared, name, registration.endpoint_id)
                if st.button("Remove", key=f"webhook_remove_{name}", icon=":material/link_off:"):
                    if name in offering:
                        unregister(book, name, shared.provider(name))
                    else:  # the provider is gone from Settings: forget the endpoint here
                        book.remove(name)
                    shared.tracker.deliveries_stopped(name)
                    st.rerun()
    choices = [name for name in offering if name not in registered]
    if not choices:
        if not offering:
            st.caption("No configured provider offers webhooks (`/webhook_endpoints`, Replicate or fal).")
        return
    with st.container(horizontal=True, vertical_alignment="bottom"):
        name = st.selectbox("Provider", choices, key="webhook_provider")
        base = st.text_input("Reached at", _default_base(shared, name), key=f"webhook_base_{name}",
                             placeholder="https://dailies.example.com",
                             help="The app's address as the provider reaches it; /hooks/<provider> is added.")
        register_clicked = st.button("Register", key="webhook_register", icon=":material/webhook:")
    provider = shared.provider(name)
    if _callbacks(provider):
        st.caption(plain(f"{SIGNED_WITH.get(shared.providers.kind_of(name), 'It signs its callbacks')}: "
                         "its takes sent from now on ask it to post the finished result here."))
    if register_clicked:
        try:
            if _callbacks(provider):
                registration = register_vendor(book, name, provider, base)
            else:
                registration = register(book, name, provider, base)
        except (DailiesError, KeyError) as exc:
            st.error(plain(f"Not registered: {exc}"), icon=":material/block:")
        else:
            if registration.kind == "openai":
                _test(shared, name, registration.endpoint_id)
            st.rerun()


def _test(shared: Studio, name: str, endpoint_id: str) -> None:
    """Ask the provider for a sample event; a 2xx from our receiver proves the whole path (and the secret)."""
    try:
        answer = shared.provider(name).test_webhook_endpoint(endpoint_id)
    except APIError as exc:
        st.toast(plain(f"The test event did not arrive: {exc}"), icon=":material/error:")
        return
    code = int(answer.get("status_code") or 0)
    if 200 <= code < 300:
        st.toast(f"The test event arrived and was verified ({code}).", icon=":material/check:")
    else:
        st.toast(f"The receiver answered {code} to the test event.", icon=":material/error:")
