"""Configuration: where things live (environment, `.streamlit/secrets.toml`) and what the team chose (Settings).

Two kinds, kept apart on purpose. The environment and the secrets file say where the data folder is
and which server and key to use; they are read, never written. The team's choices (active provider,
defaults, budget, moderation rules, rates) live in `$DAILIES_HOME/settings.json`, which never holds
a key: a provider names the environment variable or secret its key comes from.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dailies.moderation import DEFAULT_TERMS
from dailies.pricing import DEFAULT_RATES, PriceList
from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE

ENGINE = "engine"
REMOTE = "remote"


@dataclass(frozen=True)
class Environment:
    """Where things are, from environment variables, then `.streamlit/secrets.toml`, then defaults."""

    home: Path
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    provider: str | None = None

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, secrets_path: str | Path | None = None) -> Environment:
        env = os.environ if env is None else env
        secrets = read_secrets(secrets_path or Path(".streamlit") / "secrets.toml")

        def pick(*names: str) -> str | None:
            for name in names:
                if env.get(name):
                    return env[name]
            for name in names:
                value = secrets.get(name) or secrets.get(name.lower())
                if value:
                    return str(value)
            return None

        return cls(
            home=Path(pick("DAILIES_HOME") or ".dailies").expanduser().resolve(),
            base_url=pick("DAILIES_BASE_URL", "OPENAI_BASE_URL"),
            api_key=pick("DAILIES_API_KEY", "OPENAI_API_KEY"),
            provider=pick("DAILIES_PROVIDER"),
        )

    def key_hint(self) -> str:
        """What the pages may show of the key: its presence and last four characters, never more."""
        if not self.api_key:
            return "no key"
        return f"…{self.api_key[-4:]}" if len(self.api_key) > 12 else "set"


def read_secrets(path: str | Path) -> dict[str, Any]:
    """The secrets file flattened: top-level keys and those of a `[dailies]` table. Missing file: {}."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError):
        return {}
    except tomllib.TOMLDecodeError:
        return {}
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat.update(data.get("dailies") or {})
    return flat


@dataclass
class ProviderSettings:
    name: str
    label: str
    kind: str = "openai_compat"
    base_url: str = ""
    """Empty for the embedded engine: the app knows where it mounted it."""
    key_from: str = "DAILIES_API_KEY / OPENAI_API_KEY"
    moderation: bool = False
    free: bool = False


@dataclass
class Settings:
    """The team's choices, edited on the Settings page and kept in `settings.json`."""

    active_provider: str = ENGINE
    extra_providers: list[ProviderSettings] = field(default_factory=list)
    default_size: str = DEFAULT_SIZE
    default_seconds: int = DEFAULT_SECONDS
    allow_high_res: bool = False
    """Sizes above 720p are offered only after this opt-in, with their price shown."""
    daily_budget_usd: float = 25.0
    moderation_terms: list[str] = field(default_factory=lambda: list(DEFAULT_TERMS))
    moderation_patterns: list[str] = field(default_factory=list)
    use_provider_moderation: bool = True
    rates: dict[str, float] = field(default_factory=lambda: PriceList(DEFAULT_RATES).to_table())
    deadline_minutes: float = 15.0
    max_concurrency: int = 4
    keep_days: int = 0
    """Clean-up: delete local files of unpicked takes older than this (0 keeps everything)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["extra_providers"] = [
            ProviderSettings(**{k: v for k, v in p.items() if k in {f.name for f in fields(ProviderSettings)}})
            for p in values.get("extra_providers") or []
        ]
        return cls(**values)


class SettingsFile:
    """`settings.json` in the data folder, replaced atomically on save."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.warning: str | None = None

    def load(self) -> Settings:
        try:
            return Settings.from_dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return Settings()
        except (ValueError, TypeError) as exc:
            self.warning = f"{self.path.name} could not be read ({exc}); defaults are in use."
            return Settings()

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(settings.to_dict(), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
