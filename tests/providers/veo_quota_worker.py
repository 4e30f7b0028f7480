"""A process that sends Veo creates from a data folder, for `test_google.py`'s shared-quota test.

`python tests/providers/veo_quota_worker.py BASE_URL HOME COUNT`: build a Veo provider on the fake at BASE_URL
with its quota counted in HOME (as an app, the CLI or a batch on that data folder would), wait for HOME/go, try
COUNT creates as fast as it can, and print `sent` or `waits` for each.
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.oauth2.credentials import Credentials
from until import wait_until

from dailies.errors import RateLimitError
from dailies.jobs import JobRequest
from dailies.providers.google import GoogleVeoProvider
from tests.fakes.google import LOCATION, PROJECT, TOKEN


def main(base_url: str, home: Path, count: int) -> None:
    provider = GoogleVeoProvider(project=PROJECT, location=LOCATION, credentials=Credentials(token=TOKEN),
                                 base_url=base_url, quota_folder=home)
    print("ready", flush=True)
    wait_until(lambda: (home / "go").exists(), 60, "the go signal", interval=0.005)
    for _ in range(count):
        try:
            provider.submit(JobRequest("a lighthouse at dusk", "veo-3.1-fast-generate-001", "1280x720", 4))
            print("sent", flush=True)
        except RateLimitError:
            print("waits", flush=True)
    provider.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
