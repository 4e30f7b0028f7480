"""A process that claims keys in a data folder's store, for `test_claims.py` (`python tests/claims_worker.py MODE ...`).

- `claim HOME NAME KEYS...`: wait for the go signal, claim every key once (as fast as it can), print
  `won <key>` for each key this process got.
- `order HOME ENGINE_URL KEY PROMPT THREADS`: like a second app's pipeline API: wait for the go signal,
  then order one take with `Idempotency-Key: KEY` from THREADS threads at once; print one line per answer.
- `receive HOME DELIVERY`: like the app after a restart: a fresh receiver gets the delivery saved in the
  JSON file DELIVERY (body and headers); print its answer.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from until import wait_until

from dailies.store import open_store


def wait_for_go(home: Path) -> None:
    wait_until(lambda: (home / "go").exists(), 60, "the go signal", interval=0.005)


def claim(home: Path, name: str, keys: list[str]) -> None:
    claims = open_store(home, os.environ.get("DAILIES_DATABASE_URL")).claims("test_claims")
    wait_for_go(home)
    for key in keys:
        if claims.claim(key, {"by": name}, ttl=3600).claimed:
            print(f"won {key}", flush=True)


def order(home: Path, engine_url: str, key: str, prompt: str, threads: int) -> None:
    from dailies.config import Environment
    from dailies.errors import RequestRefused
    from dailies.pipeline import Conflict, Pipeline, body_digest
    from dailies.studio import Studio

    studio = Studio(Environment.load(), engine_base_url=engine_url)
    pipeline = Pipeline(studio)
    fields = {"prompt": prompt, "seconds": 4}
    parsed = pipeline.parse(fields)
    print("ready", flush=True)
    wait_for_go(home)
    answers: list[str] = []

    def one() -> None:
        try:
            job, _cost, made = pipeline.order(parsed, key, body_digest(fields, None))
            answers.append(f"{'made' if made else 'same'} {job.id}")
        except Conflict:
            answers.append("conflict -")
        except RequestRefused as exc:
            answers.append(f"refused {exc}")

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for answer in answers:
        print(answer, flush=True)
    studio.close()


def receive(home: Path, delivery: Path) -> None:
    from dailies.webhooks import WebhookBook, WebhookReceiver

    class Told:
        def delivery_arrived(self, provider: str) -> None:
            print(f"arrived {provider}", flush=True)

        def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
            print(f"nudged {provider} {remote_id} {status}", flush=True)
            return None

    saved = json.loads(delivery.read_text())
    outcome = WebhookReceiver(WebhookBook(home), Told()).receive(saved["provider"], saved["body"].encode(),
                                                                 saved["headers"])
    print(f"answer {outcome.status} {outcome.message}", flush=True)


def main() -> None:
    mode, home = sys.argv[1], Path(sys.argv[2])
    if mode == "claim":
        claim(home, sys.argv[3], sys.argv[4:])
    elif mode == "order":
        order(home, sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif mode == "receive":
        receive(home, Path(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
