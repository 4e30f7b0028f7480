"""Who may come in when sign-in is on: the allow-list, and Streamlit's sign-in cookie read outside a page."""

from __future__ import annotations

import json

from components.identity import USER_COOKIE, user_from_cookies
from dailies.access.identity import AllowList


def test_an_empty_allow_list_lets_in_whoever_the_provider_signed_in() -> None:
    assert AllowList.parse("").allows("anyone@anywhere.org")
    assert not AllowList.parse("")


def test_domains_and_addresses_are_allowed_and_nothing_else() -> None:
    allow = AllowList.parse("example.com, @studio.org;  Bo@Freelance.net")
    assert allow.allows("ann@example.com") and allow.allows("ANN@EXAMPLE.COM")
    assert allow.allows("cy@studio.org") and allow.allows("bo@freelance.net")
    assert not allow.allows("eve@freelance.net"), "one address of a domain is not the domain"
    assert not allow.allows("mallory@example.com.evil.org"), "a domain matches whole, not as a prefix"
    assert not allow.allows("mallory@evil-example.com")
    assert not allow.allows(None) and not allow.allows("")
    assert not allow.allows("ann@example.com", verified=False), "an address the provider did not verify"


def test_streamlits_sign_in_cookie_is_read_with_its_signature_checked() -> None:
    """Streamlit's own signing (internal in 1.67): this fails loudly if those functions move or change."""
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    payload = json.dumps({"is_logged_in": True, "email": "ann@example.com", "origin": "http://localhost:8501"})
    signed = create_signed_value(get_cookie_secret(), USER_COOKIE, payload).decode("latin-1")
    assert user_from_cookies({USER_COOKIE: signed})["email"] == "ann@example.com"
    forged = create_signed_value("another secret", USER_COOKIE, payload).decode("latin-1")
    assert user_from_cookies({USER_COOKIE: forged}) is None
    assert user_from_cookies({USER_COOKIE: "not signed"}) is None
    assert user_from_cookies({}) is None
    out = json.dumps({"is_logged_in": False})
    assert user_from_cookies({USER_COOKIE: create_signed_value(get_cookie_secret(), USER_COOKIE, out).decode()}) is None
