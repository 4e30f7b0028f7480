"""Configuration: where things live (environment, `.streamlit/secrets.toml`) and what the team chose (Settings).

Two kinds, kept apart on purpose. The environment and the secrets file say where the data folder is
and which server and key to use; they are read, never written. The team's choices (active provider,
defaults, budget, moderation rules, rates) live in `$DAILIES_HOME/settings.json`, which never holds
a key nor says where one goes.

A provider that carries a key is defined where keys live (`ServerProvider`: a `[providers.<name>]` table in
the secrets file, or `DAILIES_PROVIDER_<NAME>_...` variables), so whoever can only reach Settings or the CLI
cannot send a key to a host of their choosing; Settings may add key-less servers and label, price and choose
among the defined ones.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dailies.files import write_text
from dailies.moderation import DEFAULT_TERMS
from dailies.pricing import DEFAULT_RATES, PriceList
from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE

log = logging.getLogger(__name__)

ENGINE = "engine"
REMOTE = "remote"
PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
"""A provider's name: 1 to 32 lower-case letters, digits, - or _."""


@dataclass(frozen=True)
class ServerProvider:
    """A provider defined where keys live: the only kind of provider whose base URL is ever sent a key.

    In `.streamlit/secrets.toml`::

        [providers.gateway]
        kind = "openai_compat"        # or litellm, fal, replicate, runway, google
        base_url = "https://gateway.example.com/v1"
        key_from = "GATEWAY_API_KEY"  # an OpenAI-compatible server's key: this variable or secret

    or in the environment: `DAILIES_PROVIDER_GATEWAY_KIND`, `..._BASE_URL`, `..._KEY_FROM`, `..._LABEL`
    (a variable wins over the file, field by field). A vendor kind reads its own key variables (`FAL_KEY`...)
    and sends its key to `base_url` when one is given here, else to the vendor's own API.

    Google Veo runs in a Google Cloud project (`kind = "google"`): `project`, `location` (default
    `us-central1`) and `credentials_file` (a service-account JSON key on this server; empty: Application
    Default Credentials). None of the three is a secret (the file's path is shown, never its content);
    `DAILIES_PROVIDER_<NAME>_PROJECT`, `_LOCATION` and `_CREDENTIALS_FILE` set them from the environment.
    """

    name: str
    kind: str = "openai_compat"
    base_url: str = ""
    key_from: str = ""
    label: str = ""
    moderation: bool = False
    project: str = ""
    location: str = ""
    credentials_file: str = ""


_PROVIDER_FIELDS = ("kind", "base_url", "key_from", "label", "moderation", "project", "location", "credentials_file")
_PROVIDER_VARIABLE = re.compile(
    r"DAILIES_PROVIDER_([A-Z0-9][A-Z0-9_]*?)_(KIND|BASE_URL|KEY_FROM|LABEL|PROJECT|LOCATION|CREDENTIALS_FILE)")


def server_providers(env: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, ServerProvider]:
    """The providers the environment and the secrets file define, by name (see `ServerProvider`).

    A definition with a name that is not a provider name, or that is `engine` or `remote`, is left out and
    logged; one with a wrong field (an unknown kind, no base URL) is kept, and its provider says what is wrong.
    """
    found: dict[str, dict[str, Any]] = {}
    table = secrets.get("providers")
    for name, fields_ in table.items() if isinstance(table, dict) else ():
        if isinstance(fields_, dict):
            found[str(name)] = {k: v for k, v in fields_.items() if k in _PROVIDER_FIELDS}
    for variable, value in env.items():
        if (match := _PROVIDER_VARIABLE.fullmatch(variable)) and value:
            found.setdefault(match[1].lower(), {})[match[2].lower()] = value
    defined: dict[str, ServerProvider] = {}
    for name, values in found.items():
        if not PROVIDER_NAME.fullmatch(name) or name in (ENGINE, REMOTE):
            log.warning("provider %r in the environment or secrets.toml is left out: a provider's name is 1 to 32 "
                        "lower-case letters, digits, - or _, and not engine or remote", name)
            continue
        moderation = values.get("moderation", False)
        defined[name] = ServerProvider(
            name, kind=str(values.get("kind") or "openai_compat").strip(),
            base_url=str(values.get("base_url") or "").strip().rstrip("/"),
            key_from=str(values.get("key_from") or "").strip(), label=str(values.get("label") or "").strip(),
            project=str(values.get("project") or "").strip(), location=str(values.get("location") or "").strip(),
            credentials_file=str(values.get("credentials_file") or "").strip(),
            moderation=moderation if isinstance(moderation, bool) else str(moderation).lower() in ("1", "true"))
    return defined


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
    database_url: str | None = field(default=None, repr=False)
    """`DAILIES_DATABASE_URL`: a PostgreSQL database the jobs are kept in instead of `home`'s journal
    (`dailies.store.opening`); it may hold a password, so it is never shown whole."""
    values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Every variable and secret, where a provider's key is looked up by the name its definition gives."""
    providers: Mapping[str, ServerProvider] = field(default_factory=dict, hash=False)
    """The providers defined here (`[providers.<name>]`, `DAILIES_PROVIDER_<NAME>_...`): the only ones whose
    base URL may be sent a key."""

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, secrets_path: str | Path | None = None) -> Environment:
        env = os.environ if env is None else env
        tables = read_toml(secrets_path or Path(".streamlit") / "secrets.toml")
        secrets = flatten_secrets(tables)

        def pick(*names: str) -> str | None:
            for name in names:
                if env.get(name):
                    return env[name]
            for name in names:
                value = secrets.get(name) or secrets.get(name.lower())
                if value:
                    return str(value)
            return None

        values = {str(k): str(v) for k, v in secrets.items() if v and not isinstance(v, dict)}
        values.update({k: v for k, v in env.items() if v})
        return cls(
            home=Path(pick("DAILIES_HOME") or ".dailies").expanduser().resolve(),
            base_url=pick("DAILIES_BASE_URL", "OPENAI_BASE_URL"),
            api_key=pick("DAILIES_API_KEY", "OPENAI_API_KEY"),
            provider=pick("DAILIES_PROVIDER"),
            access_token=pick("DAILIES_ACCESS_TOKEN"),
            database_url=pick("DAILIES_DATABASE_URL"),
            values=values,
            providers=server_providers(env, tables),
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


def read_toml(path: str | Path) -> dict[str, Any]:
    """The secrets file as its tables. Missing or unreadable: {}."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError, tomllib.TOMLDecodeError):
        return {}


def flatten_secrets(data: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level values and those of a `[dailies]` table (other tables, such as `[providers]`, are not values)."""
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat.update({k: v for k, v in (data.get("dailies") or {}).items() if not isinstance(v, dict)})
    return flat


def read_secrets(path: str | Path) -> dict[str, Any]:
    """The secrets file flattened: top-level keys and those of a `[dailies]` table. Missing file: {}."""
    return flatten_secrets(read_toml(path))


@dataclass
class ProviderSettings:
    name: str
    label: str
    kind: str = "openai_compat"
    base_url: str = ""
    """A key-less OpenAI-compatible server's URL; empty for a vendor (its own API) and for a provider
    defined where keys live (whose entry here only labels and prices it)."""
    key_from: str = ""
    """Never honoured here: a provider with a key is defined where keys live (`ServerProvider`). A settings
    file written before that may still name one; such a provider is not built, and says what to define."""
    moderation: bool = False
    free: bool = False
    rates: dict[str, float] = field(default_factory=dict)
    """This provider's dollars per second by model (`model` or `model@WxH`); empty: its kind's defaults
    (a vendor) or the team's table (an OpenAI-compatible server)."""
    project: str = ""
    location: str = ""
    credentials_file: str = ""
    """Google's project, location and service-account file: honoured only from a definition where keys live
    (`ServerProvider`); an entry added in Settings or the CLI that names them is not built, and says so."""


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
    provider_limits: dict[str, int] = field(default_factory=dict)
    """At most this many takes at a provider at once, by provider name (its plan's concurrent tasks); absent
    or 0: no limit known until the provider refuses one (then the send queue learns it)."""
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

    def load_if_changed(self) -> Settings | None:
        """None: a data folder's settings are this server's, read at its start and changed by its own saves."""
        return None

    def save(self, settings: Settings) -> None:
        write_text(self.path, json.dumps(settings.to_dict(), indent=2))
