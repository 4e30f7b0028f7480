"""Through LiteLLM's real proxy, a create whose answer is lost ends in "needs a look", not queued forever.

The engine behind the proxy makes the job and drops the answer; LiteLLM passes the failure on, and
refuses `GET /videos` (400), so the job cannot be found by listing. Before, it stayed "queued 0%"
for ever. The proxy runs from `.venv-litellm` (scripts/ensure-litellm, which scripts/test calls).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.jobs import JobRequest, JobStatus
from dailies.tracker import PollPolicy
from tests.gateway.litellm_proxy import litellm_proxy, studio_through

MASTER_KEY = "sk-dailies-gateway-test-lost-create-0123"


@pytest.fixture
def losing_gateway(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """LiteLLM's proxy on loopback in front of an engine that loses every create's answer."""
    faults = Faults(rate_lost_create=1.0)
    # By default its router re-sends a create whose answer was lost: 3 videos.
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as engine, \
            litellm_proxy(tmp_path, engine.base_url, MASTER_KEY, router="  num_retries: 0\n") as url:
        yield url, engine


@pytest.mark.slow
def test_a_lost_create_through_litellm_needs_a_look_within_the_deadline(losing_gateway, isolated_home) -> None:
    gateway, engine = losing_gateway
    studio = studio_through(gateway, isolated_home, MASTER_KEY)
    studio.tracker.policy = PollPolicy(first=0.2, cap=0.5, deadline=60.0)
    job = studio.submit(JobRequest(prompt="a red kite over a beach", model="sora-2", size="1280x720", seconds=4))
    assert job.remote_id is None and job.error.code == "unconfirmed", "kept, not deleted: the engine made it"
    assert len(engine.engine.book.listed()) == 1

    assert studio.tracker.run_until_idle(timeout=90), "it left the queue within its deadline"
    looked = studio.store.require(job.id)
    assert looked.status is JobStatus.NEEDS_LOOK and "list" in looked.error.message, looked.error
    assert len(engine.engine.book.listed()) == 1, "never sent again"
    studio.close()
