"""Providers defined where keys live, as the server's admin defines them, for tests that point one at a fake.

A vendor's key goes to a base URL of the vendor's own only when the environment or `.streamlit/secrets.toml`
says so; a test does the same, through the studio's `use_environment` (the environment as read again), never
through Settings or the CLI, which cannot send a key to a host they name.
"""

from __future__ import annotations

import dataclasses

from dailies.config import ServerProvider
from dailies.studio import Studio


def define(studio: Studio, name: str, kind: str, base_url: str, key_from: str = "", label: str = "") -> None:
    """Define provider `name` of `kind` at `base_url` as `[providers.<name>]` in secrets.toml would."""
    provider = ServerProvider(name, kind=kind, base_url=base_url, key_from=key_from, label=label)
    studio.admin.use_environment(dataclasses.replace(studio.env, providers={**studio.env.providers, name: provider}))


def variables(name: str, kind: str, base_url: str, key_from: str = "") -> dict[str, str]:
    """The same definition as environment variables (`DAILIES_PROVIDER_<NAME>_...`), for a process or a page."""
    prefix = f"DAILIES_PROVIDER_{name.upper().replace('-', '_')}_"
    found = {f"{prefix}KIND": kind, f"{prefix}BASE_URL": base_url}
    return {**found, f"{prefix}KEY_FROM": key_from} if key_from else found
