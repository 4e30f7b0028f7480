"""The environment a test gives a subprocess (an app, a CLI, a worker): this process's, without the servers and keys
of the developer's shell (every `OPENAI_` and `DAILIES_` variable), but with the test run's own settings."""

from __future__ import annotations

import os

KEPT = ("DAILIES_ENGINE_PRESET",)
"""Set for the whole run by tests/conftest.py: the subprocesses' engines render as the tests' own do."""


def shell_free(*also: str) -> dict[str, str]:
    """This process's environment less `OPENAI_*`, `DAILIES_*` (but `KEPT`) and the prefixes in `also`."""
    dropped = ("OPENAI_", "DAILIES_", *also)
    return {k: v for k, v in os.environ.items() if k in KEPT or not k.startswith(dropped)}
