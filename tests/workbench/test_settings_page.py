"""Settings: providers and their connection test, defaults, budget, rates, moderation, the data folder."""

from __future__ import annotations

import json

import pytest
from page_helpers import no_exception

from dailies.config import SettingsFile

KEY = "sk-test-secret-0123456789abcdef"


def test_saved_settings_change_what_the_other_pages_offer(open_page, studio_of) -> None:
    at = no_exception(open_page("settings.py"))
    at.selectbox(key="default_size").select("1280x720")
    at.number_input(key="budget").set_value(12.5)
    at.text_area(key="terms").input("gore\nforbidden")
    at.button(key="save_settings").click().run()
    assert any(s.value == "Saved." for s in at.success)
    saved = json.loads((studio_of().home / "settings.json").read_text())
    assert saved["default_size"] == "1280x720" and saved["daily_budget_usd"] == 12.5
    assert saved["moderation_terms"] == ["gore", "forbidden"]

    generate = open_page("generate.py")
    assert generate.segmented_control(key="size").value == "1280x720"
    generate.text_area(key="prompt").input("a forbidden kite").run()
    assert any("forbidden" in e.value for e in generate.error)


def test_connection_test_and_the_key_is_never_shown_or_stored(open_page, studio_of, engine, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", engine.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    at = no_exception(open_page("settings.py"))
    assert at.selectbox(key="active_provider").options == ["engine", "remote"]
    at.button(key="test_remote").click().run()
    assert any("answers" in s.value for s in at.success)
    at.selectbox(key="active_provider").select("remote")
    at.button(key="save_settings").click().run()
    page_text = "\n".join(str(e.value) for e in at.main if hasattr(e, "value"))
    page_text += "\n".join(c.value for c in at.caption)
    assert KEY not in page_text
    assert f"Key: …{KEY[-4:]}" in page_text, "the key's presence is shown by its last four characters only"
    for path in studio_of().home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the key was written to {path}"


def test_an_invalid_moderation_pattern_is_refused_and_nothing_is_saved(open_page, studio_of) -> None:
    at = open_page("settings.py")
    at.number_input(key="budget").set_value(99.0)
    at.text_area(key="patterns").input("(unclosed")
    at.button(key="save_settings").click().run()
    assert any("not valid" in e.value and "(unclosed" in e.value for e in at.error)
    path = studio_of().home / "settings.json"
    assert SettingsFile(path).load().daily_budget_usd != 99.0, "the refused settings were not written"
    assert studio_of().settings.daily_budget_usd != 99.0


@pytest.mark.slow
def test_clean_up_removes_old_unreviewed_files_only(open_page, studio_of) -> None:
    from dailies.jobs import JobRequest

    shared = studio_of()
    keep = shared.submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    drop = shared.submit(JobRequest(prompt="a boat", model="dailies-preview", size="720x1280", seconds=4))
    assert shared.tracker.run_until_idle(timeout=60)
    shared.review(keep.id, picked=True)
    for job in (keep, drop):
        shared.store.update(job.id, created_at=shared.store.require(job.id).created_at - 40 * 86400)
    at = open_page("settings.py")
    at.button(key="clean_up").click().run()
    assert any("1 job" in s.value for s in at.success)
    assert shared.takes.media_path(shared.store.require(keep.id)) is not None
    assert shared.takes.media_path(shared.store.require(drop.id)) is None


def test_another_server_is_added_checked_and_removed(open_page, studio_of, engine) -> None:
    at = open_page("settings.py")
    at.text_input(key="new_provider_name").input("gateway")
    at.text_input(key="new_provider_url").input("ftp://user:pw@host/v1")
    at.button(key="add_provider").click().run()
    assert any("must be http(s)" in e.value for e in at.error)
    assert not (studio_of().home / "settings.json").exists(), "a refused server is not saved"

    at.text_input(key="new_provider_url").input(engine.base_url)
    at.button(key="add_provider").click().run()
    no_exception(at)
    assert at.selectbox(key="active_provider").options == ["engine", "gateway"]
    saved = json.loads((studio_of().home / "settings.json").read_text())
    assert saved["extra_providers"][0]["base_url"] == engine.base_url
    at.button(key="test_gateway").click().run()
    assert any("answers" in s.value for s in at.success)

    at.selectbox(key="remove_provider").select("gateway").run()
    at.button(key="remove_provider_btn").click().run()
    assert at.selectbox(key="active_provider").options == ["engine"]


@pytest.mark.slow
def test_the_media_folder_size_shows_once_counted(open_page, studio_of) -> None:
    from until import wait_until

    from dailies.jobs import JobRequest

    shared = studio_of()
    shared.submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    assert shared.tracker.run_until_idle(timeout=60)
    at = no_exception(open_page("settings.py"))
    wait_until(lambda: shared.media_usage.size(shared.store.version)[1], 30, "the media folder to be counted")
    at.run()
    on_disk = sum(p.stat().st_size for p in shared.media.root.rglob("*") if p.is_file())
    assert on_disk > 0
    assert next(m.value for m in at.metric if m.label == "Media on disk") == f"{on_disk / 2**20:,.1f} MB"
