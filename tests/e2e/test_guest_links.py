"""Guest links in Chromium, on an app reachable from the LAN (`dailies.lan`, an access token for the team).

The organiser signs in, starts a review round and makes a guest link naming the LAN name; a second browser
context holding nothing but that link opens it from `dailies.lan` without the team's sign-in and sees the
round's two takes and nothing else: no sidebar, no pages (`/history`, `/settings` show the guest view, not
the workbench), no third take by its id in the address or by its file; the guest types a name, notes a
frame and approves, and the organiser's store has both under "guest: name". Without the link the LAN name
asks for the team's sign-in. Revoked, the link shows "this link was revoked" and nothing else; an expired
link (its expiry set in the past through the core) says so likewise.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import RunningApp, check_option, new_tab, port_of, running, start_streamlit, wait_for_run

from dailies.media import MediaLibrary
from dailies.review import ReviewDesk
from dailies.review.guests import GuestLinks
from dailies.store import JobStore
from tests.review_fixtures import store_take, tiny_video
from tests.until import wait_until

pytestmark = pytest.mark.slow

ACCESS = "team-access-token-for-guest-links"
LAN = "dailies.lan"
RESOLVED_NAMES = (LAN,)
PROMPTS = ("a red kite over dunes", "a blue kite over the sea", "the secret third take nobody shares")


@pytest.fixture(scope="module")
def lan_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, list[str]]]:
    """The app on every interface, reached as `dailies.lan` with a team token, holding three takes."""
    home = tmp_path_factory.mktemp("guests")
    store = JobStore(home / "jobs.json")
    media = MediaLibrary(home / "media")
    video = tiny_video(home / "source.mp4", fps=24, frames=48)
    takes = [store_take(store, media, video, prompt).id for prompt in PROMPTS]
    store.close()
    with running(home, lambda home, log: start_streamlit(home, log, "--server.address", "0.0.0.0", env={
            "DAILIES_ACCESS_TOKEN": ACCESS, "DAILIES_ALLOWED_HOSTS": LAN})) as started:
        yield started, takes


def status_of(page, path: str) -> int:
    """The status the page's own origin gets for `path` (with the page's cookies, as its `<video>` would)."""
    return page.evaluate("path => fetch(path, {cache: 'no-store', headers: {Range: 'bytes=0-1'}})"
                         ".then(r => r.status)", path)


def make_link(page, app: RunningApp, takes: list[str]) -> tuple[str, str]:
    """The organiser (signed in on loopback) starts a labelled round on two takes, as History's "Review 2" does,
    and makes a 1-day guest link to it; the link and the round's id."""
    page.goto(f"{app.url}/access")
    page.get_by_label("Access token").fill(ACCESS)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{app.url}/review?takes={','.join(takes)}")
    wait_for_run(page)
    page.get_by_role("textbox", name="Title").fill("Which kite")
    page.get_by_text("Blind: shuffle per reviewer").click()
    wait_for_run(page)
    page.get_by_role("button", name="Start the round").click()
    wait_for_run(page)
    page.get_by_text("2 takes · labelled").wait_for()
    round_id = re.search(r"round=(rev_[A-Za-z0-9_]+)", page.url).group(1)
    panel = page.locator("[class*='st-key-guest_links_round_']")
    panel.get_by_text("Guest links", exact=True).click()
    wait_for_run(page)
    # Opened at 127.0.0.1, which nobody elsewhere can open: the link names the LAN name unless told otherwise.
    expect(panel.get_by_role("combobox", name="Reached at")).to_have_value(re.compile(LAN))
    check_option(page, panel.get_by_role("radio", name="1 day", exact=True), "an expiry of 1 day")
    panel.get_by_role("button", name="Make a guest link").click()
    wait_for_run(page)
    link = panel.locator("[data-testid='stCode']").inner_text().strip()
    assert link.startswith(f"http://{LAN}:{port_of(app.url)}/guest?t="), link
    return link, round_id


def test_a_guest_link_opens_its_round_and_nothing_else_until_revoked(lan_app, browser, screenshots: Path) -> None:
    app, takes = lan_app
    lan = f"http://{LAN}:{port_of(app.url)}"
    organiser_context, organiser = new_tab(browser)
    guest_context, guest = new_tab(browser)
    try:
        link, round_id = make_link(organiser, app, takes[:2])
        assert link.split("t=", 1)[1] not in app.log.read_text(), "the secret is in the server's log"
        stored = (app.home / "jobs.journal").read_text()
        assert link.split("t=", 1)[1] not in stored, "the secret is stored in clear"

        # Without the link, the LAN name asks for the team's sign-in.
        guest.goto(f"{lan}/history")
        wait_for_run(guest)
        expect(guest.get_by_text("sign in with the team's access token")).to_be_visible()

        # With it: the round's two takes, no sidebar, no navigation, no third take.
        guest.goto(link)
        wait_for_run(guest)
        expect(guest.locator("[class*='st-key-guest_take_']")).to_have_count(2)
        expect(guest.get_by_text(PROMPTS[0])).to_be_visible()
        expect(guest.get_by_text(PROMPTS[1])).to_be_visible()
        expect(guest.get_by_text(PROMPTS[2])).to_have_count(0)
        expect(guest.locator("[data-testid='stSidebar']")).to_have_count(0)
        expect(guest.locator("[data-testid='stSidebarNav']")).to_have_count(0)
        guest.locator("video").first.evaluate("v => new Promise(r => v.readyState >= 1 ? r() : "
                                               "v.addEventListener('loadedmetadata', r, {once: true}))")

        # The guest names themself, decides and notes.
        guest.get_by_role("textbox", name="Your name").fill("Gil")
        guest.get_by_role("textbox", name="Your name").press("Enter")
        wait_for_run(guest)
        expect(guest.get_by_text("Reviewing as guest: Gil")).to_be_visible()
        first = guest.locator("[class*='st-key-guest_take_1']")
        first.get_by_role("button", name="Approve").click()
        wait_for_run(guest)
        expect(first.get_by_text("guest: Gil: approved")).to_be_visible()
        first.get_by_text(re.compile(r"^Notes \(0\)")).click()
        panel = first.locator("[data-testid='stExpander']")  # the Notes panel (the player has its own note form)
        panel.get_by_label(re.compile(r"^Frame")).fill("12")
        panel.get_by_label("Note").fill("hold this beat longer")
        panel.get_by_role("button", name="Add note").click()
        wait_for_run(guest)
        expect(panel.get_by_text(re.compile(r"guest: Gil: hold this beat longer"))).to_be_visible()
        expect(first.locator("[data-testid='review-player'] [data-role='note-body']")).to_have_text(
            "guest: Gil: hold this beat longer")  # and in the take's player, at its frame
        guest.screenshot(path=str(screenshots / "guest-link-view.png"), full_page=True)

        store = JobStore(app.home / "jobs.json")
        try:
            desk = ReviewDesk(store, MediaLibrary(app.home / "media"))
            [made] = GuestLinks(store).of_scope("round", round_id)
            assert made.expires_at - made.created_at == 86400, "the expiry chosen: 1 day"
            assert made.scope.takes == frozenset(takes[:2])
            first_take = next(t for t in takes[:2] if store.get(t).prompt == PROMPTS[0])
            wait_until(lambda: desk.approval(first_take)["status"] == "approved", 10, "the guest's decision")
            wait_until(lambda: [n.frame for n in desk.notes_of(first_take)] == [12], 10, "the guest's note")
            assert desk.notes_of(first_take)[0].author == "guest: Gil"
            assert desk.approval(first_take)["reviewers"][0]["author"] == "guest: Gil"

            # Nothing beyond the scope: workbench pages, another take's id, another take's file.
            for path in ("/history", "/settings", "/generate"):
                guest.goto(f"{lan}{path}")
                wait_for_run(guest)
                expect(guest.locator("[class*='st-key-guest_take_']")).to_have_count(2)
                expect(guest.get_by_role("heading", name=re.compile("History|Settings|Generate"))).to_have_count(0)
                expect(guest.locator("[data-testid='stSidebar']")).to_have_count(0)
            guest.goto(f"{lan}/?take={takes[2]}")
            wait_for_run(guest)
            expect(guest.get_by_text("That take is not part of this review.")).to_be_visible()
            expect(guest.locator("[class*='st-key-guest_take_']")).to_have_count(0)
            expect(guest.get_by_text(PROMPTS[2])).to_have_count(0)
            guest.goto(f"{lan}/?take={takes[1]}")
            wait_for_run(guest)
            expect(guest.locator("[class*='st-key-guest_take_']")).to_have_count(1)
            files = {take: status_of(guest, f"/app/static/takes/{take}/video.mp4") for take in takes}
            assert files == {takes[0]: 206, takes[1]: 206, takes[2]: 401}

            # Revoked from the round's page: the link opens nothing, and says so.
            organiser.locator("[class*='st-key-guest_links_round_']").get_by_role("button", name="Revoke").click()
            wait_for_run(organiser)
            guest.reload()
            wait_for_run(guest)
            expect(guest.get_by_text(re.compile("This link was revoked"))).to_be_visible()
            expect(guest.locator("[class*='st-key-guest_take_']")).to_have_count(0)
            assert status_of(guest, f"/app/static/takes/{takes[0]}/video.mp4") == 401
            guest.goto(f"{lan}/guest/leave")  # "Forget this link in this browser": the workbench's gate again
            wait_for_run(guest)
            expect(guest.get_by_text("sign in with the team's access token")).to_be_visible()
            fresh_context, fresh = new_tab(browser)
            fresh.goto(link)
            expect(fresh.locator("#guest-refusal")).to_have_text(re.compile("This link was revoked"))
            fresh.goto(f"{lan}/guest?t=not-a-secret-anyone-made")
            expect(fresh.locator("#guest-refusal")).to_have_text("This review link is not valid.")
            fresh_context.close()

            # Expired (made through the core with its expiry a day ago): likewise.
            expired = GuestLinks(store, clock=lambda: time.time() - 2 * 86400).create(
                "round", round_id, takes[:2], made_by="test", life_s=86400)
            late_context, late = new_tab(browser)
            late.goto(f"{lan}/guest?t={expired.secret}")
            expect(late.locator("#guest-refusal")).to_have_text(re.compile("expired"))
            late.goto(f"{lan}/")
            wait_for_run(late)
            expect(late.get_by_text("sign in with the team's access token")).to_be_visible()
            late_context.close()
        finally:
            store.close()
    finally:
        organiser_context.close()
        guest_context.close()
