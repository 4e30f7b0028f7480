"""What every vendor's provider does alike, each through its vendor's official SDK against its fake.

A create whose answer is lost is never sent again (the SDKs would retry that POST: fal-client on a 503 with
nginx's body or a dropped connection, Runway's SDK with no idempotency key; the studio looks for the job before
anything is resent); a failed take keeps the vendor's own reason; what a model cannot do is refused before
anything is sent; a missing key names the variable to set.
"""

from __future__ import annotations

import pytest

from dailies.errors import APIConnectionError, APIError, NotSupported, ServerError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.providers._vendor import MissingKey
from dailies.providers.fal import FalProvider
from dailies.providers.replicate import ReplicateProvider
from dailies.providers.runway import RunwayProvider
from tests.providers._helpers import follow
from tests.providers._helpers import request as job_request

CREATES = {
    "fal": (job_request("fal-ai/veo3.1", "1280x720", 8), "/fal-ai/veo3.1"),
    "rep": (job_request("google/veo-3.1", "1280x720", 8), "/predictions"),
    "runway": (job_request("gen4.5", "1280x720", 5), "/v1/text_to_video"),
    "google": (job_request("veo-3.1-fast-generate-001", "1280x720", 8), ":predictLongRunning"),
}
"""Per vendor (its fixture's name): a create it takes, and the path its fake records creates under."""


@pytest.mark.parametrize("vendor", CREATES)
@pytest.mark.parametrize(("how", "error_class"), [("drop", APIConnectionError), ("503", ServerError)])
def test_a_lost_create_answer_is_never_sent_twice(
    vendor: str, how: str, error_class: type[APIError], request: pytest.FixtureRequest
) -> None:
    fake, provider = request.getfixturevalue(vendor)
    sent, path = CREATES[vendor]
    fake.lose_next_create = how
    with pytest.raises(error_class) as raised:
        provider.submit(sent)
    assert _may_have_arrived(raised.value)
    assert len(fake.creates(path)) == 1
    assert len(fake.jobs) == 1


@pytest.mark.parametrize(("vendor", "sent", "reason"), [
    ("fal", job_request("fal-ai/veo3.1", "720x1280", 8), "The prompt breaks the content policy"),
    ("rep", job_request("minimax/hailuo-02", "1280x720", 6), "CUDA out of memory"),
    ("runway", job_request("gen4.5", "720x1280", 2), "The prompt was flagged by moderation"),
])
def test_a_failed_take_keeps_the_vendors_reason(
    vendor: str, sent: JobRequest, reason: str, request: pytest.FixtureRequest
) -> None:
    fake, provider = request.getfixturevalue(vendor)
    fake.fail_next = reason
    created = provider.submit(sent)
    final = follow(provider, created.remote_id)[-1]
    assert final.status is JobStatus.FAILED
    assert final.error and final.error.message == reason


@pytest.mark.parametrize(("vendor", "sent", "refusal"), [
    ("fal", job_request("fal-ai/veo3.1", "960x960", 8), "1280x720 \\(as 16:9\\), 720x1280 \\(as 9:16\\)"),
    ("fal", job_request("fal-ai/kling-video/v2.5-turbo/pro", "1280x720", 4), "5, 10 seconds"),
    ("fal", job_request("fal-ai/veo3.1", "1280x720", 8, kind=JobKind.EXTEND), "extension"),
    ("rep", job_request("minimax/hailuo-02", "720x1280", 6), "1280x720 \\(as 16:9\\)"),
    ("rep", job_request("google/veo-3.1", "1280x720", 5), "4, 6, 8 seconds"),
    ("rep", job_request("wan-video/wan-2.5-t2v", "1280x720", 5, reference_path="ref.png"),
     "does not take a reference image"),
    ("rep", job_request("google/veo-3", "1280x720", 8), "no model 'google/veo-3'"),  # retired: not offered
    ("rep", job_request("sora-2", "1280x720", 4), "no model"),
    ("rep", job_request("google/veo-3.1", "1280x720", 8, kind=JobKind.REMIX), "remix"),
    ("runway", job_request("gen4.5", "1792x1024", 5), "1280x720 \\(as 1280:720\\)"),
    ("runway", job_request("veo3.1", "1280x720", 5), "4, 6, 8 seconds"),
    ("runway", job_request("gen4_turbo", "1280x720", 5), "needs a reference image"),
    ("runway", job_request("gen4.5", "1280x720", 5, kind=JobKind.EXTEND), "extension"),
])
def test_a_refusal_sends_nothing(vendor: str, sent: JobRequest, refusal: str, request: pytest.FixtureRequest) -> None:
    fake, provider = request.getfixturevalue(vendor)
    with pytest.raises(NotSupported, match=refusal):
        provider.submit(sent)
    assert fake.requests == []


@pytest.mark.parametrize(("provider_class", "variable"), [
    (FalProvider, "FAL_KEY"), (ReplicateProvider, "REPLICATE_API_TOKEN"), (RunwayProvider, "RUNWAYML_API_SECRET"),
])
def test_a_missing_key_names_the_variable(provider_class: type, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(MissingKey, match=f"set {variable}"):
        provider_class()
