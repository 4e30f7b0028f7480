"""A take made on a self-hosted GPU server (docs/local-gpu.md: vLLM-Omni, stood in for by an engine serving
only its model and answering remix, extensions and edits as routes it lacks): a remix or extension is tried
once, refused in the server's words with nothing made, and from then on the take's card says it is not offered."""

from __future__ import annotations

import httpx
import pytest
from page_helpers import no_exception

from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.errors import NotSupported
from dailies.jobs import JobKind, JobRequest, JobStatus
from tests.until import wait_until

MODEL = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
REFUSED = ("remix", "extend", "edit", "characters")


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_cards_remix_and_extend_say_the_gpu_server_does_not_offer_them(open_page, studio_of, tmp_path) -> None:
    config = EngineConfig(data_dir=tmp_path / "gpu-box", served_models=(MODEL,),
                          faults=Faults(refuse_operations=REFUSED))
    with serve_engine(config) as gpu:
        no_exception(open_page("settings.py"))
        shared = studio_of()
        shared.add_provider("wan", gpu.base_url)  # as Settings → Add a provider does
        assert shared.capabilities("wan").models == (MODEL,)
        job = shared.submit(JobRequest("a paper boat on a pond at dawn", MODEL, "1280x720", 4), "wan")
        wait_until(lambda: shared.store.require(job.id).status is JobStatus.COMPLETED, 60, "the take to finish")

        for kind in (JobKind.REMIX, JobKind.EXTEND):  # tried once (from a card, the CLI or the API): refused
            with pytest.raises(NotSupported, match="does not offer"):
                shared.submit(shared.request_from(job.id, kind, "the same boat at night", 4), "wan")
        assert len(httpx.get(f"{gpu.base_url}/videos", timeout=5).json()["data"]) == 1, "nothing was made"

        again = open_page("generate.py")
        again.session_state["my_jobs"] = [job.id]
        no_exception(again.run())
        for kind, word in (("remix", "remixes"), ("extend", "extensions")):
            no_exception(again.button(key=f"pop_{kind}_{job.id}").click().run())
            said = [t.value for t in again.text]
            assert any(f"does not offer {word}" in text for text in said), said
