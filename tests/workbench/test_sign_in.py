"""Sign-in with `[auth]` configured: nothing shows before it, an address off the allow-list is refused,
and a signed-in person is who their jobs say made them."""

from __future__ import annotations

import pytest
from page_helpers import WORKBENCH, no_exception
from streamlit.testing.v1 import AppTest

from components.text import plain
from dailies.jobs import JobRequest

AUTH = {"client_id": "dailies", "client_secret": "s3cret", "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-cookie-secret", "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}


@pytest.fixture
def signed(open_page, monkeypatch):
    """Open the workbench as a person with the given sign-in state, `[auth]` configured."""
    open_page("generate.py")  # the studio, on the test's engine
    monkeypatch.setenv("DAILIES_SIGN_IN_ALLOW", "example.com, bo@freelance.net")

    def open_(user: dict) -> AppTest:
        at = AppTest.from_file(WORKBENCH, default_timeout=30)
        at.secrets["auth"] = AUTH
        at.user = user
        return no_exception(at.run())

    return open_


def test_nothing_shows_before_sign_in(signed) -> None:
    at = signed({"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert at.info[0].value.startswith("Sign in with your team account")
    assert not at.text_area, "no page content (the prompt) before sign-in"


def test_an_address_off_the_allow_list_is_refused(signed) -> None:
    at = signed({"is_logged_in": True, "email": "eve@elsewhere.org"})
    assert f"{plain('eve@elsewhere.org')} is not allowed in this workbench" in at.error[0].value  # no mail link
    assert "DAILIES_SIGN_IN_ALLOW" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.text_area


@pytest.mark.slow
def test_a_signed_in_person_is_named_in_the_sidebar_and_on_their_jobs(signed, studio_of) -> None:
    at = signed({"is_logged_in": True, "email": "bo@freelance.net", "email_verified": True, "name": "Bo"})
    assert f"Signed in as **{plain('bo@freelance.net')}**" in [c.value for c in at.sidebar.caption]
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert not [t for t in at.text_input if t.key == "person_input"], "no name is asked of a signed-in person"
    at.text_area(key="prompt").input("a kite over the dunes").run()
    submit = next(b for b in at.button if b.label.startswith("Generate"))
    submit.click().run()
    no_exception(at)
    assert [job.made_by for job in studio_of().store.all()] == ["bo@freelance.net"]
    assert studio_of().submit(JobRequest(prompt="from a script", model="dailies-preview", size="720x1280",
                                         seconds=4)).made_by == "", "outside a session nobody is assumed"


def test_the_allow_list_may_live_in_the_secrets_streamlit_loaded(open_page, monkeypatch) -> None:
    open_page("generate.py")
    monkeypatch.delenv("DAILIES_SIGN_IN_ALLOW", raising=False)
    at = AppTest.from_file(WORKBENCH, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["DAILIES_SIGN_IN_ALLOW"] = "studio.org"
    at.user = {"is_logged_in": True, "email": "ann@example.com"}
    assert "is not allowed in this workbench" in no_exception(at.run()).error[0].value


def test_an_address_on_the_list_the_provider_did_not_verify_is_refused(signed) -> None:
    """An ID token without `email_verified` true (some providers let anyone type any address) is not let in."""
    for user in ({"is_logged_in": True, "email": "ann@example.com"},
                 {"is_logged_in": True, "email": "ann@example.com", "email_verified": False}):
        at = signed(user)
        assert f"did not say {plain('ann@example.com')} is verified" in at.error[0].value
        assert [b.label for b in at.button] == ["Sign out"]
        assert not at.text_area
