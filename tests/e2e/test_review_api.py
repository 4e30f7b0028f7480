"""The review routes of the pipeline API on a real app process (`streamlit run app.py`), over real HTTP:
comments at frames, approvals, the OTIO/EDL/CSV/ZIP exports, and every refusal."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import httpx
import opentimelineio as otio
import pytest
from running_app import ApiApp, running, start_streamlit
from until import wait_until

TOKEN = "review-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiApp]:
    folder = tmp_path_factory.mktemp("review-api")
    with running(folder / "home", lambda home, log: start_streamlit(home, log, env={"DAILIES_API_TOKEN": TOKEN})
                 ) as started:
        yield ApiApp(started.url, TOKEN, 60)


def finished_take(app: ApiApp, prompt: str) -> dict:
    made = app.api("POST", "/takes", json={"prompt": prompt, "seconds": 4})
    assert made.status_code == 201, made.text
    return wait_until(lambda: (t := app.api("GET", f"/takes/{made.json()['id']}").json())["status"] == "completed"
                      and t, 120, "the take to finish")


@pytest.fixture(scope="module")
def take(app: ApiApp) -> dict:
    return finished_take(app, "a red kite over dunes at dusk")


def test_comments_are_pinned_to_frames_and_listed_in_frame_order(app: ApiApp, take: dict) -> None:
    tid = take["id"]
    later = app.api("POST", f"/takes/{tid}/comments",
                    json={"frame": 37, "end_frame": 48, "text": "kite too small", "author": "Ann"})
    assert later.status_code == 201, later.text
    body = later.json()
    assert {k: body[k] for k in ("frame", "end_frame", "timecode", "text", "author")} == {
        "frame": 37, "end_frame": 48, "timecode": "00:00:01:13", "text": "kite too small", "author": "Ann"}
    assert body["id"].startswith("note_") and body["created_at"] > 0
    earlier = app.api("POST", f"/takes/{tid}/comments", json={
        "timecode": "00:00:00:12", "text": "<b>hold</b> this", "author": "Ben",
        "drawing": [{"kind": "ellipse", "colour": "yellow", "box": [0.2, 0.2, 0.4, 0.5]}]})
    assert earlier.status_code == 201 and earlier.json()["frame"] == 12
    listed = app.api("GET", f"/takes/{tid}/comments").json()["data"]
    assert [c["frame"] for c in listed][:2] == [12, 37] and listed[0]["text"] == "<b>hold</b> this"
    assert listed[0]["drawing"][0]["box"] == [0.2, 0.2, 0.4, 0.5]


def test_a_comment_gets_replies_and_is_marked_done(app: ApiApp, take: dict) -> None:
    tid = take["id"]
    made = app.api("POST", f"/takes/{tid}/comments", json={"frame": 80, "text": "flicker here", "author": "Cy"}).json()
    replied = app.api("POST", f"/takes/{tid}/comments/{made['id']}/replies", json={"text": "fixed in v2",
                                                                                  "author": "Ann"})
    assert replied.status_code == 201 and replied.json()["replies"][0]["text"] == "fixed in v2"
    done = app.api("POST", f"/takes/{tid}/comments/{made['id']}/done", json={"author": "Cy"})
    assert done.status_code == 200 and done.json()["done"] and done.json()["done_by"] == "Cy"
    listed = {c["id"]: c for c in app.api("GET", f"/takes/{tid}/comments").json()["data"]}
    assert listed[made["id"]]["done"] and listed[made["id"]]["replies"][0]["author"] == "Ann"
    assert app.api("POST", f"/takes/{tid}/comments/note_nope/done", json={"author": "Cy"}).status_code == 404
    assert app.api("POST", f"/takes/job_nope/comments/{made['id']}/done", json={"author": "Cy"}).status_code == 404
    assert app.api("POST", f"/takes/{tid}/comments/{made['id']}/done", json={"author": "Cy", "done": "yes"}
                   ).status_code == 400
    reopened = app.api("POST", f"/takes/{tid}/comments/{made['id']}/done", json={"author": "Cy", "done": False})
    assert reopened.status_code == 200 and not reopened.json()["done"]


@pytest.mark.parametrize(("send", "status", "said"), [
    ({"json": {"frame": 96, "text": "x", "author": "Ann"}}, 400, "frame 96 is not in this take"),
    ({"json": {"frame": -1, "text": "x", "author": "Ann"}}, 400, "not in this take"),
    ({"json": {"frame": 3, "text": "x"}}, 400, "needs an author"),
    ({"json": {"frame": 3, "text": "x", "author": "Ann", "colour": "red"}}, 400, "Unknown field"),
    ({"json": {"frame": 3, "text": "x", "author": "Ann", "drawing": [{"kind": "star"}]}}, 400, "kind must be"),
    ({"json": ["a", "list"]}, 400, "JSON object"),
    ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
    ({"content": b"frame=3", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400, "as JSON"),
    ({"json": {"frame": 3, "text": "x" * 2_000_000, "author": "Ann"}}, 413, "over 1 MB"),
])
def test_a_bad_comment_is_refused_with_a_reason_and_nothing_stored(app: ApiApp, take: dict, send: dict, status: int,
                                                                     said: str) -> None:
    before = len(app.api("GET", f"/takes/{take['id']}/comments").json()["data"])
    answer = app.api("POST", f"/takes/{take['id']}/comments", **send)
    assert answer.status_code == status and said in answer.json()["error"]["message"], answer.text
    assert len(app.api("GET", f"/takes/{take['id']}/comments").json()["data"]) == before


def test_the_routes_refuse_strangers_unknown_takes_and_pages(app: ApiApp, take: dict) -> None:
    body = {"frame": 3, "text": "x", "author": "Ann"}
    for path in (f"/takes/{take['id']}/comments", f"/takes/{take['id']}/approvals"):
        assert httpx.post(f"{app.url}/api/v1{path}", json=body).status_code == 401
        assert app.api("POST", path, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert app.api("POST", path, json=body, headers={"Origin": "https://evil.example"}).status_code == 403
        assert app.api("GET", path, headers={"Host": "evil.example"}).status_code == 421
    assert httpx.get(f"{app.url}/api/v1/takes/{take['id']}/notes.otio").status_code == 401
    assert app.api("POST", "/takes/job_nope/comments", json=body).status_code == 404
    assert app.api("GET", "/takes/job_nope/comments").status_code == 404
    assert app.api("POST", "/takes/job_nope/approvals", json={"decision": "approved", "author": "A"}).status_code == 404
    assert app.api("GET", "/takes/job_nope/notes.otio").status_code == 404
    assert app.api("GET", f"/takes/{take['id']}/notes.pdf").status_code == 404
    comments = app.api("GET", f"/takes/{take['id']}/comments").json()["data"]
    assert all(c["author"] != "x" for c in comments)


def test_approvals_follow_the_machine_and_show_on_the_take(app: ApiApp) -> None:
    tid = finished_take(app, "a lighthouse in fog")["id"]
    assert app.api("GET", f"/takes/{tid}").json()["approval"]["status"] == "in_review"
    illegal = app.api("POST", f"/takes/{tid}/approvals", json={"decision": "final", "author": "Ann"})
    assert illegal.status_code == 409 and "cannot go to final" in illegal.json()["error"]["message"]
    unknown = app.api("POST", f"/takes/{tid}/approvals", json={"decision": "maybe", "author": "Ann"})
    assert unknown.status_code == 400 and "decision must be one of" in unknown.json()["error"]["message"]
    asked = app.api("POST", f"/takes/{tid}/approvals",
                    json={"decision": "changes_requested", "author": "Ben", "text": "more fog"})
    assert asked.status_code == 201 and asked.json()["approval"]["status"] == "changes_requested"
    for who in ("Ann", "Ben"):
        assert app.api("POST", f"/takes/{tid}/approvals", json={"decision": "approved", "author": who}).status_code \
            == 201
    assert app.api("POST", f"/takes/{tid}/approvals", json={"decision": "final", "author": "Ann"}).status_code == 201
    approval = app.api("GET", f"/takes/{tid}").json()["approval"]
    assert approval["status"] == "final" and approval["locked"]
    assert {r["author"]: r["decision"] for r in approval["reviewers"]} == {"Ben": "approved", "Ann": "final"}
    locked = app.api("POST", f"/takes/{tid}/comments", json={"frame": 3, "text": "late", "author": "Ben"})
    assert locked.status_code == 409 and "locked" in locked.json()["error"]["message"]
    history = app.api("GET", f"/takes/{tid}/approvals").json()["history"]
    assert [h["decision"] for h in history] == ["changes_requested", "approved", "approved", "final"]
    assert history[0]["text"] == "more fog"
    reopened = app.api("POST", f"/takes/{tid}/approvals", json={"decision": "reopen", "author": "Ben"})
    assert reopened.status_code == 201 and reopened.json()["approval"]["status"] == "in_review"


def test_the_notes_export_as_otio_with_markers_at_their_frames_and_as_edl_csv_zip(app: ApiApp, take: dict) -> None:
    tid = take["id"]
    comments = app.api("GET", f"/takes/{tid}/comments").json()["data"]
    assert comments, "the comments test ran first"
    otio_answer = app.api("GET", f"/takes/{tid}/notes.otio")
    assert otio_answer.status_code == 200 and "attachment" in otio_answer.headers["content-disposition"]
    timeline = otio.adapters.read_from_string(otio_answer.text, "otio_json")
    clip = next(iter(timeline.find_clips()))
    assert clip.media_reference.target_url.endswith(f"/api/v1/takes/{tid}/files/video")
    at = {m.metadata["dailies"]["note_id"]: m.marked_range.start_time.to_frames() for m in clip.markers}
    assert at == {c["id"]: c["frame"] for c in comments}
    fcp = otio.adapters.read_from_string(app.api("GET", f"/takes/{tid}/notes.fcpxml").text, "fcpx_xml")
    assert sorted(m.marked_range.start_time.to_frames() for c in fcp.find_clips() for m in c.markers) == sorted(
        c["frame"] for c in comments)
    edl = app.api("GET", f"/takes/{tid}/notes.edl").text
    assert "FCM: NON-DROP FRAME" in edl and "00:00:01:13 00:00:01:14" not in edl  # a range: 37 to 48 inclusive
    assert "00:00:01:13 00:00:02:01 00:00:01:13 00:00:02:01" in edl and "|M:Ann: kite too small |D:12" in edl
    rows = list(csv.DictReader(io.StringIO(app.api("GET", f"/takes/{tid}/notes.csv").text)))
    assert [(r["timecode"], r["frame"], r["author"]) for r in rows][:2] == [("00:00:00:12", "12", "Ben"),
                                                                         ("00:00:01:13", "37", "Ann")]
    archive = zipfile.ZipFile(io.BytesIO(app.api("GET", f"/takes/{tid}/notes.zip").content))
    assert "notes.txt" in archive.namelist() and len(archive.namelist()) == len(comments) + 1


def test_the_openapi_description_names_the_review_routes(app: ApiApp) -> None:
    spec = httpx.get(f"{app.url}/api/v1/openapi.json").json()
    for path in ("/api/v1/takes/{take_id}/comments", "/api/v1/takes/{take_id}/approvals",
                 "/api/v1/takes/{take_id}/notes.{format}"):
        assert path in spec["paths"]
    assert "CommentIn" in spec["components"]["schemas"] and "approval" in spec["components"]["schemas"]["Take"][
        "properties"]
