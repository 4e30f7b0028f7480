"""The team's settings in the shared database (`dailies.team_settings`): saved on one server, in effect on
another (a running one, and a CLI process); keys never written there; with the journal, settings.json as before;
`migrate` copies them both ways."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from store_backends import Backend
from until import wait_until

from dailies.config import Environment, ProviderSettings, Settings, SettingsFile
from dailies.studio import Studio
from dailies.team_settings import RECORD, TEAM_SETTINGS_TABLE, StoreSettings

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_KEY = "sk-gateway-never-in-the-database-1234"
REMOTE_KEY = "sk-remote-never-in-the-database-5678"


def server_env(home: Path, url: str | None) -> dict[str, str]:
    """A server's environment: its own folder, the shared database, and keys of its own."""
    env = {"DAILIES_HOME": str(home), "DAILIES_API_KEY": REMOTE_KEY,
           "DAILIES_PROVIDER_GATEWAY_KIND": "openai_compat", "DAILIES_PROVIDER_GATEWAY_BASE_URL": "http://127.0.0.1:9",
           "DAILIES_PROVIDER_GATEWAY_KEY_FROM": "GATEWAY_API_KEY", "GATEWAY_API_KEY": GATEWAY_KEY}
    if url:
        env["DAILIES_DATABASE_URL"] = url
    return env


def team_choices(settings: Settings) -> Settings:
    """What a team sets on the Settings page: a budget, takes at once, a key-less server, a provider's rates."""
    return dataclasses.replace(
        settings, daily_budget_usd=3.5, max_concurrency=2, provider_limits={"gateway": 3},
        extra_providers=[ProviderSettings(name="studio-box", label="Studio box", base_url="http://127.0.0.1:8"),
                         ProviderSettings(name="gateway", label="Our gateway", rates={"sora-2": 0.2})])


def everything_in(url: str) -> str:
    """Every row of every table of the database, as text."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        return "\n".join(str(row) for t in tables for row in conn.execute(f'SELECT t::text FROM "{t}" t'))


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_settings_saved_on_one_server_are_in_effect_on_another_and_no_key_is_in_the_database(
        pg_url: str, tmp_path: Path) -> None:
    one = Studio(Environment.load(server_env(tmp_path / "one", pg_url)), engine_base_url="http://127.0.0.1:9")
    two = Studio(Environment.load(server_env(tmp_path / "two", pg_url)), engine_base_url="http://127.0.0.1:9")
    try:
        assert isinstance(one.admin.settings_file, StoreSettings)
        assert two.settings.daily_budget_usd == Settings().daily_budget_usd
        one.save_settings(team_choices(one.settings))
        # A running server takes it up on its next read, a second or so later: nothing restarted.
        wait_until(lambda: two.settings.daily_budget_usd == 3.5, 10, "the budget on the other server")
        assert two.settings == one.settings
        assert "studio-box" in two.providers.names(), "a key-less server added on one is a provider on the other"
        assert not (tmp_path / "one" / "settings.json").exists(), "kept in the database, not one server's folder"

        # A CLI process on a third folder: the same settings.
        env = {**Backend("postgresql", tmp_path / "three", pg_url).env(), **server_env(tmp_path / "three", pg_url)}
        listed = subprocess.run([sys.executable, "-m", "dailies", "providers"], cwd=ROOT, env=env, text=True,
                                capture_output=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        lines = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {"provider": "studio-box", "label": "Studio box"}.items() <= next(
            line for line in lines if line["provider"] == "studio-box").items()

        text = everything_in(pg_url)
        assert "Our gateway" in text and "GATEWAY_API_KEY" not in text
        assert GATEWAY_KEY not in text and REMOTE_KEY not in text, "a key's value never reaches the database"
    finally:
        one.close()
        two.close()


def test_with_the_journal_settings_stay_in_the_folders_settings_json(tmp_path: Path) -> None:
    studio = Studio(Environment.load(server_env(tmp_path / "home", None)), engine_base_url="http://127.0.0.1:9")
    try:
        assert isinstance(studio.admin.settings_file, SettingsFile)
        studio.save_settings(team_choices(studio.settings))
        assert json.loads((tmp_path / "home" / "settings.json").read_text())["daily_budget_usd"] == 3.5
        assert TEAM_SETTINGS_TABLE not in studio.store.dump()
    finally:
        studio.close()


def test_a_server_moving_onto_the_database_keeps_its_settings(pg_url: str, tmp_path: Path) -> None:
    """The first server on an empty database seeds the team's record from its settings.json."""
    home = tmp_path / "home"
    SettingsFile(home / "settings.json").save(dataclasses.replace(Settings(), daily_budget_usd=7.0))
    studio = Studio(Environment.load(server_env(home, pg_url)), engine_base_url="http://127.0.0.1:9")
    try:
        assert studio.settings.daily_budget_usd == 7.0
        assert studio.store.table(TEAM_SETTINGS_TABLE).get(RECORD)["daily_budget_usd"] == 7.0
    finally:
        studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_migrate_copies_the_settings_to_the_database_and_back(pg_url: str, tmp_path: Path) -> None:
    home, back = tmp_path / "home", tmp_path / "back"
    SettingsFile(home / "settings.json").save(team_choices(Settings()))

    def migrate(folder: Path, *args: str) -> dict:
        env = Backend("journal", folder).env()
        done = subprocess.run([sys.executable, "-m", "dailies", "migrate", *args], cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert migrate(home, "--to", pg_url)["settings"] == "copied"
    assert migrate(home, "--to", pg_url)["settings"] == "unchanged"
    assert migrate(back, "--from", pg_url)["settings"] == "copied"
    assert SettingsFile(back / "settings.json").load() == team_choices(Settings())
