"""The pipeline API's rules in one process, on a real engine and store: callbacks retried with backoff,
idempotency keys that outlive the process, and a refused order that leaves its key free."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import openai
import pytest
from hook_receiver import hook_receiver
from until import wait_until

from dailies.backoff import Backoff
from dailies.config import Environment
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.pipeline import CALLBACK_SCHEDULE, Pipeline, body_digest
from dailies.studio import Studio

SECRET = "whsec_" + "cGlwZWxpbmUtY2FsbGJhY2stc2VjcmV0LTAxMjM0NTY="


def file_url(job: Job, variant: str) -> str:
    return f"http://127.0.0.1:1/api/v1/takes/{job.id}/files/{variant}"


@pytest.fixture
def studio(engine, isolated_home: Path):
    # The test's callback receiver is on loopback: named in the allow-list, as a team names its own CMS host.
    env = Environment(home=isolated_home, values={"DAILIES_CALLBACK_ALLOW_HOSTS": "127.0.0.1"})
    made = Studio(env, engine_base_url=engine.base_url)
    made.start()
    yield made
    made.close()


def order(pipeline: Pipeline, fields: dict, key: str | None = None):
    return pipeline.order(pipeline.parse(fields), key, body_digest(fields, None))


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_callback_is_retried_with_backoff_until_it_is_taken(studio: Studio) -> None:
    pipeline = Pipeline(studio, callback_secret=SECRET,
                        callback_schedule=replace(CALLBACK_SCHEDULE, waits=Backoff(first=0.2, cap=60.0)))
    with hook_receiver() as receiver:
        receiver.answers = [500, 503]
        job, _, _ = order(pipeline, {"prompt": "a heron lifting off", "seconds": 4, "callback_url": receiver.url})
        pipeline.start(file_url)
        try:
            wait_until(lambda: len(receiver.received) >= 3, 90, "three callback attempts")
            wait_until(lambda: pipeline.view(studio.store.require(job.id), file_url)["callback"]["state"] == "sent",
                       10, "the callback to be marked sent")
        finally:
            pipeline.close()
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1, "one event, resent"
    for got in receiver.received:
        openai.OpenAI(api_key="x").webhooks.verify_signature(got.body, got.headers, secret=SECRET)
    event = json.loads(receiver.received[-1].body)
    assert event["type"] == "take.completed" and event["data"]["files"]["video"] == file_url(job, "video")
    assert pipeline.view(studio.store.require(job.id), file_url)["callback"]["attempts"] == 3


def test_an_idempotency_key_outlives_the_process_and_a_refusal_frees_it(studio: Studio, engine) -> None:
    first, _, made = order(Pipeline(studio), {"prompt": "a red kite", "seconds": 4}, key="k-1")
    assert made
    again, _, made_again = order(Pipeline(studio), {"prompt": "a red kite", "seconds": 4}, key="k-1")
    assert (again.id, made_again) == (first.id, False), "a new Pipeline (another process) knows the key"
    with pytest.raises(RequestRefused, match="moderation"):
        order(Pipeline(studio), {"prompt": "gore", "seconds": 4}, key="k-2")
    fixed, _, made_fixed = order(Pipeline(studio), {"prompt": "a calm sea", "seconds": 4}, key="k-2")
    assert made_fixed and fixed.id != first.id
    assert len(engine.engine.book.listed()) == 2
