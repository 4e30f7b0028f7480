"""The pipeline API and the webhook receiver of a real app process (`streamlit run app.py`), over real HTTP.

The app runs on an engine served by this test (`DAILIES_ENGINE_URL`), so that the test can register the
engine's webhook endpoint to the app's receiver and count the status requests the app's tracker sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from hook_receiver import hook_receiver
from running_app import ApiApp, running, start_streamlit
from until import wait_until

from dailies.client import VideosClient
from dailies.engine import EngineConfig, RunningEngine, serve_engine
from dailies.webhooks import WebhookBook, register

TOKEN = "pipeline-token-for-tests-0123456789"
SECRET = "whsec_" + "dGVzdC1jYWxsYmFjay1zZWNyZXQtMDEyMzQ1Njc4OWFi"
ENGINE_KEY = "engine-key-for-the-test-engine"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class App(ApiApp):
    home: Path
    engine: RunningEngine


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("pipeline")
    with serve_engine(EngineConfig(data_dir=folder / "engine", api_key=ENGINE_KEY, min_job_s=2.0)) as engine:
        env = {"DAILIES_ENGINE_URL": engine.base_url, "DAILIES_ENGINE_KEY": ENGINE_KEY,
               "DAILIES_API_TOKEN": TOKEN, "DAILIES_CALLBACK_SECRET": SECRET,
               # The test's callback receivers are on this machine, named as a team names its own CMS host;
               # by name, so that the app's own address (127.0.0.1) stays refused.
               "DAILIES_CALLBACK_ALLOW_HOSTS": "localhost"}
        with running(folder / "home", lambda home, log: start_streamlit(home, log, env=env)) as started:
            yield App(started.url, TOKEN, 30, folder / "home", engine)


def takes(app: App) -> list[dict]:
    return app.api("GET", "/takes").json()["data"]


def test_no_token_or_a_wrong_one_is_refused_and_nothing_is_sent(app: App) -> None:
    body = {"prompt": "a red kite over dunes", "seconds": 4}
    assert httpx.post(f"{app.url}/api/v1/takes", json=body).status_code == 401
    wrong = httpx.post(f"{app.url}/api/v1/takes", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    browser = app.api("POST", "/takes", json=body, headers={"Origin": "https://evil.example"})
    assert browser.status_code == 403
    assert app.api("GET", "/takes", headers={"Host": "evil.example"}).status_code == 421
    assert not app.engine.engine.book.listed()


@pytest.mark.parametrize(
    ("send", "said"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        ({"json": ["a", "list"]}, "JSON object"),
        ({"json": {"seconds": 4}}, "prompt is required"),
        ({"json": {"prompt": "a kite", "seconds": "four"}}, "whole number"),
        ({"json": {"prompt": "a kite", "colour": "red"}}, "Unknown field"),
        ({"json": {"prompt": "a kite", "provider": "nowhere"}}, "Unknown provider"),
        ({"json": {"prompt": "a kite", "callback_url": "http://hooks.example.com/x"}}, "https"),
        ({"json": {"prompt": "a kite", "callback_url": "https://169.254.169.254/latest"}}, "not a public address"),
        ({"json": {"prompt": "a kite", "reference_url": "data:image/png;base64,aGVsbG8="}}, "not an image"),
        ({"content": b"prompt=x", "headers": {"Content-Type": "text/plain"}}, "as JSON"),
    ],
)
def test_a_malformed_order_gets_a_clear_400_and_nothing_is_sent(app: App, send: dict, said: str) -> None:
    answer = app.api("POST", "/takes", **send)
    assert answer.status_code == 400, answer.text
    assert said in answer.json()["error"]["message"]
    assert not app.engine.engine.book.listed()


def test_the_pages_rules_apply_with_every_reason_and_the_price(app: App) -> None:
    answer = app.api("POST", "/takes", json={"prompt": "gore on a beach", "seconds": 5, "size": "720x1280"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert any("moderation" in p for p in error["problems"]) and any("seconds" in p.lower() for p in error["problems"])
    assert error["estimate_usd"] == 0.0, "the price is in the answer (the local engine's previews are free)"
    assert not app.engine.engine.book.listed()


def test_an_idempotent_retry_returns_the_first_take_and_a_callback_arrives_signed(app: App) -> None:
    with hook_receiver() as receiver:
        order = {"prompt": "a paper lantern rising, slow tilt up", "seconds": 4, "size": "720x1280",
                 "tags": ["cms", "spring"], "callback_url": receiver.url.replace("127.0.0.1", "localhost")}
        first = app.api("POST", "/takes", json=order, headers={"Idempotency-Key": "order-17"})
        assert first.status_code == 201, first.text
        made = first.json()
        assert made["estimate_usd"] == 0.0 and made["tags"] == ["cms", "spring"]
        again = app.api("POST", "/takes", json=order, headers={"Idempotency-Key": "order-17"})
        assert (again.status_code, again.json()["id"]) == (200, made["id"])
        other = app.api("POST", "/takes", json={**order, "prompt": "something else"},
                        headers={"Idempotency-Key": "order-17"})
        assert other.status_code == 409
        assert len(app.engine.engine.book.listed()) == 1, "one paid take, whatever the retries"

        wait_until(lambda: receiver.received, 90, "the take's callback")
        got = receiver.received[0]
        openai.OpenAI(api_key="x").webhooks.verify_signature(got.body, got.headers, secret=SECRET)
        event = json.loads(got.body)
        assert event["type"] == "take.completed" and event["data"]["id"] == made["id"]
        video = httpx.get(event["data"]["files"]["video"], headers=AUTH)
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        assert httpx.get(event["data"]["files"]["video"]).status_code == 401
        looked = app.api("GET", f"/takes/{made['id']}").json()
        assert looked["status"] == "completed" and looked["callback"]["state"] == "sent"
        assert [t["id"] for t in app.api("GET", "/takes", params={"tag": "cms"}).json()["data"]] == [made["id"]]
        assert app.api("GET", "/takes", params={"tag": "autumn"}).json()["data"] == []
        assert app.api("GET", "/takes/job_missing").status_code == 404


def test_a_callback_to_the_app_itself_or_a_private_network_is_refused(app: App) -> None:
    for url in (f"{app.url}/engine/v1/videos", f"{app.url.replace('http:', 'https:')}/engine/v1/videos",
                "https://10.1.2.3/hook", "https://[::ffff:127.0.0.1]/hook"):
        answer = app.api("POST", "/takes", json={"prompt": "a kite", "seconds": 4, "callback_url": url})
        assert answer.status_code == 400, (url, answer.text)
        assert answer.json()["error"]["field"] == "callback_url"
        assert "DAILIES_CALLBACK_ALLOW_HOSTS" in answer.json()["error"]["message"]
    assert not [t for t in takes(app) if t["prompt"] == "a kite"], "nothing stored"


def test_the_openapi_description_is_served(app: App) -> None:
    described = httpx.get(f"{app.url}/api/v1/openapi.json").json()
    assert set(described["paths"]) >= {"/api/v1/takes", "/api/v1/takes/{take_id}"}
    assert described["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_a_take_completes_by_webhook_with_one_status_request(app: App) -> None:
    client = VideosClient(app.engine.base_url, ENGINE_KEY)
    registration = register(WebhookBook(app.home), "engine", client, app.url)
    assert registration.url == f"{app.url}/hooks/engine"
    assert client.test_webhook_endpoint(registration.endpoint_id)["status_code"] == 200
    made = app.api("POST", "/takes", json={"prompt": "a tram at night, rain", "seconds": 4}).json()
    done = wait_until(lambda: (t := app.api("GET", f"/takes/{made['id']}").json())["status"] == "completed" and t,
                      90, "the take to complete")
    assert app.engine.engine.api.status_requests[done["provider_video_id"]] == 1, "asked once, when told"
    last = json.loads((app.home / "webhooks.json").read_text())["deliveries"]["engine"]
    assert last["event_type"] == "video.completed" and last["job_id"] == made["id"]


def test_the_receiver_refuses_bad_deliveries(app: App) -> None:
    hooks = f"{app.url}/hooks/engine"
    headers = {"webhook-id": "evt_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}
    assert httpx.post(hooks, content=b"{}", headers=headers).status_code == 401
    assert httpx.post(hooks, content=b"{}", headers={**headers, "Origin": "https://evil.example"}).status_code == 403
    assert httpx.post(hooks, content=b"{}", headers={**headers, "Host": "evil.example"}).status_code == 421
    assert httpx.post(f"{app.url}/hooks/nobody", content=b"{}", headers=headers).status_code == 404


def png(size=(720, 1280)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_reference_image_goes_as_an_upload_or_a_data_url(app: App) -> None:
    import base64

    before = len(app.engine.engine.book.listed())
    uploaded = app.api("POST", "/takes", data={"prompt": "the blue card, slowly zooming", "seconds": "4",
                                               "size": "720x1280", "tags": "ref"},
                       files={"reference": ("card.png", png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    inline = "data:image/png;base64," + base64.b64encode(png()).decode()
    by_url = app.api("POST", "/takes", json={"prompt": "the blue card, panning", "seconds": 4, "size": "720x1280",
                                              "reference_url": inline})
    assert by_url.status_code == 201, by_url.text
    made = app.engine.engine.book.listed()
    assert len(made) == before + 2
    assert all(job.reference_path for job in made if job.prompt.startswith("the blue card"))
    local = app.api("POST", "/takes", json={"prompt": "x", "seconds": 4, "reference_url": "https://127.0.0.1/a.png"})
    assert local.status_code == 400 and "private network" in local.json()["error"]["message"]


def test_a_refused_order_with_an_uploaded_image_leaves_nothing_in_uploads(app: App) -> None:
    folder = app.home / "uploads"
    before = set(folder.iterdir()) if folder.exists() else set()
    refused = app.api("POST", "/takes", data={"prompt": "gore on a beach", "seconds": "4", "size": "720x1280"},
                      files={"reference": ("card.png", png(), "image/png")})
    assert refused.status_code == 400 and "moderation" in refused.text
    assert (set(folder.iterdir()) if folder.exists() else set()) == before


def test_a_linked_file_in_a_takes_folder_is_not_served_by_the_api(app: App, tmp_path) -> None:
    made = app.api("POST", "/takes", json={"prompt": "a lighthouse at dusk, slow push in", "seconds": 4}).json()
    wait_until(lambda: app.api("GET", f"/takes/{made['id']}").json()["status"] == "completed", 90, "the take")
    assert app.api("GET", f"/takes/{made['id']}/files/video").status_code == 200
    secret = tmp_path / "id_ed25519"
    secret.write_text("a key file outside the media folder")
    video = next((app.home / "media").glob(f"{made['id']}/video.*"))
    video.unlink()
    video.symlink_to(secret)  # someone with a shell links a take's file to something else
    answer = app.api("GET", f"/takes/{made['id']}/files/video")
    assert answer.status_code == 404 and "key file" not in answer.text
