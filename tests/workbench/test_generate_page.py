"""Generate: the form, its checks before anything is sent, and a take arriving."""

from __future__ import annotations

import io

import httpx
import pytest
from page_helpers import no_exception
from PIL import Image

from dailies.jobs import JobRequest

PROMPT = "A lighthouse on a cliff at golden hour"


def remote_count(engine) -> int:
    return len(httpx.get(f"{engine.base_url}/videos", params={"limit": 100}).json()["data"])


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (72, 128), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_form_reads_models_from_the_provider_and_defaults_to_720p(open_page, studio_of) -> None:
    at = no_exception(open_page("generate.py"))
    assert at.selectbox(key="model").options == [f"{m} (local preview renderer)" for m in (
        "dailies-preview", "dailies-preview-pro", "sora-2", "sora-2-pro")]
    assert at.segmented_control(key="size").value == "720x1280"
    assert set(at.segmented_control(key="size").options) == {"720x1280", "1280x720"}
    at.text_area(key="prompt").input("   ").run()
    at.button(key="send").click().run()
    assert any("Write a prompt first" in e.value for e in at.error), "nothing to send without a prompt"
    assert len(studio_of().store) == 0


def test_larger_sizes_need_an_opt_in_that_shows_their_cost(open_page) -> None:
    at = open_page("generate.py")
    at.selectbox(key="model").select("dailies-preview-pro").run()
    opt_in = at.toggle(key="size_high_res")
    assert "1792x1024" in opt_in.label and "$" in opt_in.label
    assert "1792x1024" not in at.segmented_control(key="size").options
    opt_in.set_value(True).run()
    assert "1792x1024" in at.segmented_control(key="size").options


def test_presets_add_to_the_prompt_with_one_click(open_page) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input("A kite over a beach").run()
    at.pills(key="camera_preset_2").set_value("orbit").run()
    at.pills(key="light_preset").set_value("neon").run()
    assert at.text_area(key="prompt").value == "A kite over a beach, orbit, neon"
    assert any("/ 4,000 characters" in c.value for c in at.caption)


def test_a_blocked_prompt_says_why_and_sends_nothing(open_page, studio_of, engine) -> None:
    at = open_page("generate.py")
    settings = studio_of().settings
    settings.moderation_terms = ["forbidden"]
    studio_of().save_settings(settings)
    at.text_area(key="prompt").input("a forbidden shot of a lighthouse").run()
    assert any("forbidden" in e.value for e in at.error)
    assert at.button(key="send").disabled and not at.main.success, "one state: blocked, and nothing to click"
    assert len(studio_of().store) == 0 and remote_count(engine) == 0


def test_a_prompt_over_the_limit_is_one_clear_state_and_cannot_be_sent(open_page, studio_of, engine) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input("a" * 5000 + "\n").run()
    assert any(c.value == "5,000 / 4,000 characters" for c in at.caption), "the counter counts what is sent"
    (error,) = at.main.error
    assert "5,000 characters" in error.value and "4,000" in error.value
    assert not at.main.success, "nothing says all is well beside the error"
    assert at.button(key="send").disabled
    at.run()
    assert len(at.main.error) == 1, "a rerun does not add the error again"
    assert len(studio_of().store) == 0 and remote_count(engine) == 0
    at.text_area(key="prompt").input("a" * 4000 + "  ").run()
    assert any(c.value == "4,000 / 4,000 characters" for c in at.caption)
    assert not at.main.error and not at.button(key="send").disabled


def test_one_prompt_limit_for_the_workbench_and_the_engine() -> None:
    from dailies.engine import api
    from dailies.videos_spec import MAX_PROMPT_CHARS

    assert not hasattr(api, "MAX_PROMPT"), "the engine uses the one limit"
    assert api.MAX_PROMPT_CHARS is MAX_PROMPT_CHARS


def test_a_reference_that_is_not_an_image_is_refused_before_any_submit(open_page, studio_of, engine) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input(PROMPT).run()
    at.file_uploader(key="reference").upload("fake.png", b"this is not a picture", "image/png").run()
    (message,) = [e.value for e in at.error]
    assert message.startswith("'fake.png' is not an image"), message
    assert "PNG, JPEG or WebP" in message
    assert "ref_" not in message and "Error" not in message, "no temp file, no exception class"
    assert at.button(key="send").disabled
    assert not list((studio_of().home / "uploads").glob("*")), "the refused file is not kept"
    assert remote_count(engine) == 0


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_take_is_sent_then_plays_with_its_files(open_page, studio_of) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input(PROMPT).run()
    at.file_uploader(key="reference").upload("opening.png", png_bytes(), "image/png").run()
    assert not at.error
    assert at.metric[0].value == "$0.00"
    at.button(key="send").click().run()
    no_exception(at)
    assert [t.value for t in at.toast] == ["Sent: 1 take rendering, shown on the right"]
    (job,) = studio_of().store.all()
    assert job.prompt == PROMPT and job.size == "720x1280" and job.params.get("reference_name")
    assert studio_of().tracker.run_until_idle(timeout=60)
    at.run()
    assert studio_of().store.require(job.id).status == "completed"
    assert at.get("video"), "the finished take plays on the page"
    finished = studio_of().store.require(job.id)
    (download,) = [b for b in at.get("link_button") if b.proto.label == "Download"]
    digest = finished.files["video"].sha256[:12]
    assert download.proto.url == f"/app/static/takes/{job.id}/video.mp4?v={digest}&download=1"


def test_several_takes_become_a_group(open_page, studio_of) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input(PROMPT).run()
    at.number_input(key="takes").set_value(3).run()
    assert at.button(key="send").label == "Generate 3 takes"
    at.button(key="send").click().run()
    jobs = studio_of().store.all()
    assert len(jobs) == 3 and len({j.group_id for j in jobs}) == 1
    assert sorted(j.axes["take"] for j in jobs) == ["1", "2", "3"]
    assert [t.value for t in at.toast] == ["Sent: 3 takes rendering, shown on the right"]
    at.button(key="review_group").click().run()
    no_exception(at)
    assert at.title[0].value == "Variants", "the takes open as a grid"
    assert at.selectbox(key="v_group").value == jobs[0].group_id


@pytest.mark.slow
def test_a_finished_take_offers_more_takes_as_a_grid(open_page, studio_of) -> None:
    at = open_page("generate.py")
    at.text_area(key="prompt").input(PROMPT).run()
    at.button(key="send").click().run()
    (job,) = studio_of().store.all()
    assert studio_of().tracker.run_until_idle(timeout=60)
    at.run()
    assert len(at.image) == 2, "the thumbnail and the spritesheet are shown with the video"
    at.multiselect(key=f"tags_{job.id}").set_value(["round 2", "client-a"]).run()
    assert studio_of().store.require(job.id).tags == ["client-a", "round 2"]
    at.number_input(key=f"takes_n_{job.id}").set_value(3)
    next(b for b in at.button if b.label == "Send takes").click().run()
    takes = [j for j in studio_of().store.all() if j.id != job.id]
    assert len(takes) == 3 and len({t.group_id for t in takes}) == 1
    assert {t.prompt for t in takes} == {PROMPT} and sorted(t.axes["take"] for t in takes) == ["1", "2", "3"]
    assert at.title[0].value == "Variants", "the new takes open as a grid"



@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_sound_is_a_choice_shown_with_both_prices_and_sent_as_chosen(
    open_page, studio_of, monkeypatch, tmp_path
) -> None:
    """On Veo 3.1 (sound costs double), the form offers sound off with both prices; the estimate follows the
    choice, and the take is sent and kept with sound off."""
    from tests.fakes.google import LOCATION, PROJECT, FakeVertexVeo, service_account_file
    from tests.server_side import variables

    with FakeVertexVeo() as fake:
        for name, value in {**variables("veo", "google", fake.base_url), "DAILIES_PROVIDER_VEO_PROJECT": PROJECT,
                            "DAILIES_PROVIDER_VEO_LOCATION": LOCATION, "DAILIES_PROVIDER": "veo",
                            "DAILIES_PROVIDER_VEO_CREDENTIALS_FILE": str(service_account_file(fake, tmp_path))}.items():
            monkeypatch.setenv(name, value)
        at = no_exception(open_page("generate.py"))
        at.selectbox(key="model").select("veo-3.1-generate-001").run()
        at.segmented_control(key="seconds").set_value(8).run()
        at.segmented_control(key="size").set_value("1280x720").run()
        assert "$3.20 with sound, $1.60 without" in at.toggle(key="sound").label
        cost = lambda: next(m.value for m in at.metric if m.label == "Estimated cost")  # noqa: E731
        assert cost() == "$3.20"
        at.toggle(key="sound").set_value(False).run()
        assert cost() == "$1.60"
        at.text_area(key="prompt").input(PROMPT).run()
        at.button(key="send").click().run()
        no_exception(at)
        (job,) = studio_of().store.all()
        assert job.params["audio"] is False and job.cost_estimate == pytest.approx(1.60)
        assert fake.creates(":predictLongRunning")[0].body["parameters"]["generateAudio"] is False

        # "Run again with changes" of a silent take made with two subject references: the same again.
        shared = studio_of()
        pictures = []
        for n in range(2):
            pictures.append(str(tmp_path / f"mara-{n}.png"))
            Image.new("RGB", (64, 48), (90 * n, 40, 120)).save(pictures[-1])
        made = shared.submit(JobRequest(PROMPT, "veo-3.1-generate-001", "1280x720", 8, reference_images=pictures,
                                        audio=False))
        assert shared.tracker.run_until_idle(timeout=60)
        at.session_state["my_jobs"] = [made.id]
        at.run()
        at.button(key=f"rerun_{made.id}").click().run()
        no_exception(at)
        assert at.toggle(key="sound").value is False and cost() == "$1.60"
        assert any("2 subject reference images" in c.value for c in at.caption)
        at.text_area(key="prompt").input(PROMPT + ", closer").run()
        at.button(key="send").click().run()
        no_exception(at)
        (again,) = [j for j in shared.store.all() if j.prompt.endswith("closer")]
        assert again.params["reference_images"] == pictures and again.params["audio"] is False
        sent = fake.creates(":predictLongRunning")[-1].body
        assert len(sent["instances"][0]["referenceImages"]) == 2 and sent["parameters"]["generateAudio"] is False
