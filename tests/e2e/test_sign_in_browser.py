"""Sign-in in the browser against a real OpenID Connect provider on loopback (`oidc-provider-mock`): the
workbench bound beyond loopback shows nothing until sign-in, an address on the allow-list gets in (and
its takes are served), one off it is refused; and bound beyond loopback with no sign-in configured at
all, the app refuses to serve and says how to configure it."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from running_app import new_context, start_streamlit, stop_app, wait_for_run

from dailies.engine.server import free_port
from tests.until import wait_until

MEDIA = "/app/static/takes/job_nothing/video.mp4"  # no such file: 404 when let in, 401 when not


def start(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` bound to every interface; the port is chosen first (the redirect URI names it)."""
    port = int((env or {}).pop("PORT", 0) or free_port())
    env = {**(env or {}), "DAILIES_HOME": str(home / "data")}
    return start_streamlit(home, home / "app.log", "--server.address", "0.0.0.0", *args, env=env, port=port,
                           host="localhost")


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    # The provider says it verified the team's address (the allow-list needs `email_verified`), not the other's.
    verified = [User(sub="ann@example.com", claims={"email": "ann@example.com", "email_verified": True})]
    with run_server_in_thread(user_claims=verified) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_app(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("signed")
    port = free_port()
    secrets_file = home / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(16)}"\n'
        'client_id = "dailies"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    process, url = start(home, "--secrets.files", str(secrets_file),
                         env={"PORT": str(port), "DAILIES_SIGN_IN_ALLOW": "example.com"})
    try:
        yield url, home
    finally:
        stop_app(process)


def sign_in(browser, url: str, who: str):
    context = new_context(browser)
    page = context.new_page()
    page.goto(url)
    page.get_by_text("Sign in with your team account").wait_for()
    assert page.locator(".st-key-prompt").count() == 0, "no page content before sign-in"
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(who)  # the provider's own page
    page.get_by_role("button", name="Authorize").click()
    return context, page


def test_a_team_address_signs_in_through_the_provider(signed_app, browser) -> None:
    url, home = signed_app
    # Said as the app's start-up finishes, which may come just after the server first answers.
    wait_until(lambda: "sign-in through [auth] is required" in (home / "app.log").read_text(), 60,
               "the start-up warning that sign-in is required")
    context, page = sign_in(browser, url, "ann@example.com")
    try:
        page.locator(".st-key-prompt").wait_for()
        wait_for_run(page)
        # An invisible word joiner after "@" keeps the address from becoming a mail link.
        page.locator("[data-testid='stSidebar']").get_by_text("Signed in as ann@\u2060example.com").wait_for()
        assert page.locator("[data-testid='stSidebar']").get_by_role("textbox", name="Your name").count() == 0
        assert context.request.get(url + MEDIA).status == 404, "signed in, the media route looks for the file"
        assert httpx.get(url + MEDIA).status_code == 401, "without the cookie it refuses"
        page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click()  # the provider asks, then sends the browser back
        page.get_by_text("Sign in with your team account").wait_for()
        assert context.request.get(url + MEDIA).status == 401, "signed out, the files are refused again"
    finally:
        context.close()


@pytest.mark.parametrize(("who", "refusal"), [
    ("eve@elsewhere.org", "is not allowed in this workbench"),
    # The provider's ID token for cy@example.com has no `email_verified`: the allow-list does not let it in.
    ("cy@example.com", "is verified (email_verified), so it is not let in"),
], ids=["off the allow-list", "on the list but not verified"])
def test_an_address_off_the_list_or_not_verified_by_the_provider_is_refused(
    signed_app, browser, who: str, refusal: str
) -> None:
    url, _ = signed_app
    context, page = sign_in(browser, url, who)
    try:
        page.get_by_text(refusal, exact=False).wait_for()
        assert page.locator(".st-key-prompt").count() == 0
        assert context.request.get(url + MEDIA).status == 401
    finally:
        context.close()


def test_beyond_loopback_without_any_sign_in_nothing_is_served(tmp_path: Path, browser) -> None:
    process, url = start(tmp_path)
    try:
        wait_until(lambda: "no sign-in is configured: no page or file is served" in (tmp_path / "app.log").read_text(),
                   30, "the start's warning in the log")
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.get_by_text("reachable from other machines, so it needs sign-in", exact=False).wait_for()
        assert "DAILIES_ACCESS_TOKEN" in page.locator("[data-testid='stAlert']").inner_text()
        assert page.locator(".st-key-prompt").count() == 0
        assert httpx.get(url + MEDIA).status_code == 401
        context.close()
    finally:
        stop_app(process)
