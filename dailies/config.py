"""Configuration: where things live (environment, `.streamlit/secrets.toml`) and what the team chose (Settings).

Two kinds, kept apart on purpose. The environment and the secrets file say where the data folder is
and which server and key to use; they are read, never written. The team's choices (active provider,
defaults, budget, moderation rules, rates) live in `$DAILIES_HOME/settings.json`, which never holds
a key: a provider names the environment variable or secret its key comes from.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
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
    """The `remote` provider's key (`DAILIES_API_KEY` / `OPENAI_API_KEY`); no other provider is sent it."""
    provider: str | None = None
    access_token: str | None = field(default=None, repr=False)
    """`DAILIES_ACCESS_TOKEN`: what a person enters once when the app is bound beyond loopback."""
    values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Every variable and secret, so that a provider added in Settings can name the one its key is in."""

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

        values = {str(k): str(v) for k, v in secrets.items() if v}
        values.update({k: v for k, v in env.items() if v})
        return cls(
            home=Path(pick("DAILIES_HOME") or ".dailies").expanduser().resolve(),
            base_url=pick("DAILIES_BASE_URL", "OPENAI_BASE_URL"),
            api_key=pick("DAILIES_API_KEY", "OPENAI_API_KEY"),
            provider=pick("DAILIES_PROVIDER"),
            access_token=pick("DAILIES_ACCESS_TOKEN"),
            values=values,
        )

    def key_named(self, name: str) -> str | None:
        """The value of the variable or secret `name` (the environment first), or None when unset."""
        if not name:
            return None
        return self.values.get(name) or self.values.get(name.lower()) or None

    def key_hint(self) -> str:
        """What the pages may show of the remote key."""
        return key_hint(self.api_key)


def key_hint(key: str | None) -> str:
    """What the pages may show of a key: its presence and last four characters, never more."""
    if not key:
        return "no key"
    return f"…{key[-4:]}" if len(key) > 12 else "set"


REMOTE_KEY_NAMES = ("DAILIES_API_KEY", "OPENAI_API_KEY")
_KEY_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,62}_API_KEY")


def check_key_name(name: str) -> str | None:
    """Why `name` cannot hold an added provider's key, or None when it can.

    Only variables named `…_API_KEY` qualify, and not the `remote` provider's: whoever can open
    Settings could otherwise send the team's key, or any other secret of the server, to a URL of theirs.
    """
    if not _KEY_NAME.fullmatch(name):
        return (f"The key variable must be an upper-case name ending in _API_KEY, such as GATEWAY_API_KEY; "
                f"not {name!r}.")
    if name in REMOTE_KEY_NAMES:
        return (f"{name} is the key of the remote provider (DAILIES_BASE_URL) and is not sent anywhere else; "
                "name a variable of this provider's own, such as GATEWAY_API_KEY.")
    return None


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or address, brackets allowed) is this machine: localhost, 127.0.0.0/8, ::1."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(netloc: str) -> str:
    """The host part of a `host[:port]` or `[v6]:port` Host header or URL netloc."""
    netloc = netloc.strip().rsplit("@", 1)[-1]
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


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
    key_from: str = ""
    """The name of the environment variable or secret this provider's key is in (never the key)."""
    moderation: bool = False
    free: bool = False
    rates: dict[str, float] = field(default_factory=dict)
    """This provider's dollars per second by model (`model` or `model@WxH`); empty: its kind's defaults
    (a vendor) or the team's table (an OpenAI-compatible server)."""


@dataclass
class BucketSettings:
    """The team's S3-compatible bucket (AWS S3, R2, MinIO, Backblaze...) where verified takes are copied.

    Only where the bucket is: the credentials come from the standard AWS variables or the named
    profile (`~/.aws/credentials`) and are never stored here.
    """

    bucket: str = ""
    """Empty: no bucket, takes stay on this machine only."""
    endpoint_url: str = ""
    """Empty for AWS S3 itself; `https://<account>.r2.cloudflarestorage.com`, a MinIO URL..."""
    prefix: str = "dailies/"
    region: str = ""
    profile: str = ""
    """A named AWS profile; empty: the standard variables (AWS_ACCESS_KEY_ID...) or the default chain."""

    @property
    def enabled(self) -> bool:
        return bool(self.bucket.strip())


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
    bucket: BucketSettings = field(default_factory=BucketSettings)

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
        bucket = values.get("bucket") or {}
        values["bucket"] = BucketSettings(**{k: str(v) for k, v in bucket.items()
                                             if k in {f.name for f in fields(BucketSettings)}})
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
