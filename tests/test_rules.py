"""Pre-flight rules: status words, pricing, budget, moderation and validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from dailies.errors import BudgetExceeded, ValidationError
from dailies.jobs import Job, JobKind, JobRequest, JobStatus, status_from_provider
from dailies.moderation import LocalRules
from dailies.pricing import PriceList, check_budget, spend_since
from dailies.providers.base import Capabilities
from dailies.providers.openai_compat import looks_like_video_model, to_remote
from dailies.tracker import PollPolicy
from dailies.validation import validate_request
from dailies.videos_spec import MODELS, sizes_for


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("queued", JobStatus.QUEUED),
        ("pending", JobStatus.QUEUED),
        ("processing", JobStatus.IN_PROGRESS),
        ("in_progress", JobStatus.IN_PROGRESS),
        ("succeeded", JobStatus.COMPLETED),
        ("completed", JobStatus.COMPLETED),
        ("FAILED", JobStatus.FAILED),
        ("cancelled", JobStatus.FAILED),
        ("warming-up", JobStatus.IN_PROGRESS),
    ],
)
def test_gateway_status_words_map_onto_the_lifecycle(word: str, status: JobStatus) -> None:
    assert status_from_provider(word) is status


def test_a_gateways_video_object_keeps_unknown_fields() -> None:
    remote = to_remote(
        {"id": "v1", "status": "processing", "progress": "42.5", "seconds": "8", "vendor_job": {"region": "eu"}}
    )
    assert remote.status is JobStatus.IN_PROGRESS and remote.progress == 42 and remote.seconds == 8
    assert remote.raw["vendor_job"] == {"region": "eu"}


def test_only_video_models_are_offered_from_a_mixed_list() -> None:
    ids = ["gpt-4o", "text-embedding-3-small", "sora-2", "veo-3.0-generate-preview", "gen4_turbo", "whisper-1"]
    assert [m for m in ids if looks_like_video_model(m)] == ["sora-2", "veo-3.0-generate-preview", "gen4_turbo"]


@pytest.mark.parametrize(
    ("model", "size", "seconds", "dollars"),
    [
        ("sora-2", "720x1280", 4, 0.40),
        ("sora-2", "1280x720", 12, 1.20),
        ("sora-2-pro", "1280x720", 8, 2.40),
        ("sora-2-pro", "1792x1024", 8, 4.00),
        ("sora-2-pro-2025-10-06", "1024x1792", 4, 2.00),
    ],
)
def test_published_rates(model: str, size: str, seconds: int, dollars: float) -> None:
    assert PriceList().estimate(model, size, seconds) == pytest.approx(dollars)


def test_the_local_engine_is_free_and_edited_rates_round_trip() -> None:
    assert PriceList(free=True).estimate("sora-2-pro", "1792x1024", 12) == 0
    table = PriceList().to_table()
    assert table["sora-2-pro@1792x1024"] == 0.5 and table["sora-2"] == 0.1
    edited = PriceList.from_table({**table, "sora-2": 0.2})
    assert edited.estimate("sora-2", "720x1280", 4) == pytest.approx(0.8)
    assert edited.estimate("sora-2-pro", "1024x1792", 4) == pytest.approx(2.0)


def test_budget_refuses_what_would_exceed_it_and_failed_jobs_are_not_billed() -> None:
    jobs = [
        Job(
            id=f"j{i}",
            provider="p",
            model="sora-2",
            prompt="x",
            cost_estimate=1.0,
            created_at=100.0,
            status=JobStatus.FAILED if i == 0 else JobStatus.COMPLETED,
        )
        for i in range(3)
    ]
    assert spend_since(jobs, 50.0) == 2.0 and spend_since(jobs, 150.0) == 0
    check_budget(1.0, 2.0, 3.0)
    with pytest.raises(BudgetExceeded, match=r"\$2.00 of a \$3.00 budget"):
        check_budget(1.01, 2.0, 3.0)
    check_budget(100.0, 2.0, 0)  # no budget set


def test_local_moderation_matches_whole_terms_and_patterns() -> None:
    rules = LocalRules.from_settings(["gore", "brand x"], [r"\bcelebrity\s+\w+"])
    assert rules.check("A gore-tex jacket in rain").allowed is False  # hyphen ends the word: blocked
    assert rules.check("a gorgeous sunrise").allowed
    verdict = rules.check("Brand X logo next to Celebrity Bob")
    assert not verdict.allowed and len(verdict.reasons) == 2
    assert LocalRules.from_settings([], ["(unclosed"]).invalid_patterns()


CAPS = Capabilities(models=MODELS, sizes={m: sizes_for(m) for m in MODELS})


def request(**kwargs) -> JobRequest:
    base = {"prompt": "a lighthouse", "model": "sora-2", "size": "720x1280", "seconds": 4}
    return JobRequest(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "   "}, "empty"),
        ({"prompt": "x" * 4001}, "limit is 4,000"),
        ({"size": "640x480"}, "Choose one of: 720x1280, 1280x720"),
        ({"size": "1792x1024"}, "not offered for sora-2"),
        ({"seconds": 5}, "Choose one of: 4, 8, 12 seconds"),
        ({"model": "gpt-4o"}, "Unknown model"),
        ({"kind": JobKind.REMIX}, "needs a source video"),
        ({"kind": JobKind.EXTEND, "seconds": 7, "source_job_id": "job_1"}, "4, 8, 12, 16, 20"),
    ],
)
def test_invalid_requests_name_the_allowed_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_request(request(**kwargs), CAPS)


def test_reference_files_must_be_real_images(tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    with pytest.raises(ValidationError, match="not an image"):
        validate_request(request(reference_path=str(fake)), CAPS)
    real = tmp_path / "frame.png"
    Image.new("RGB", (64, 36), "orange").save(real)
    validate_request(request(reference_path=str(real)), CAPS)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (21 * 1024 * 1024))
    with pytest.raises(ValidationError, match="limit is 20 MB"):
        validate_request(request(reference_path=str(big)), CAPS)


def test_poll_policy_honours_hints_then_estimates_then_backs_off() -> None:
    policy = PollPolicy(first=1.0, growth=2.0, cap=10.0, floor=0.2)
    assert policy.next_delay(5, hint=0.05) == 0.2
    assert policy.next_delay(5, hint=3.0) == 3.0
    assert policy.next_delay(0, hint=60.0) == 10.0
    assert policy.next_delay(0, eta=2.0) == pytest.approx(2.15)
    assert [policy.next_delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
