"""Batch: a file of prompts previewed with its price and each refused row's reason, launched as one group."""

from __future__ import annotations

import json

import pytest
from page_helpers import no_exception

from dailies.config import Settings, SettingsFile

CSV = (b"prompt,seconds,size,tags\n"
       b"a paper boat on a pond,4,720x1280,\"cms,spring\"\n"
       b"gore on a beach,4,720x1280,\n"
       b"a kite over dunes,five,720x1280,\n"
       b"a lantern rising,4,999x999,\n"
       b"a tram in the rain,,,\n")


@pytest.mark.slow
def test_a_csv_is_previewed_with_refusals_explained_and_launched_as_one_group(open_page, studio_of) -> None:
    at = no_exception(open_page("batch.py"))
    at.get("file_uploader")[0].upload("prompts.csv", CSV, "text/csv").run()
    no_exception(at)
    preview = at.dataframe[0].value
    reasons = dict(zip(preview["line"], preview["refused because"], strict=True))
    assert reasons[2] == "" and reasons[6] == ""
    assert "moderation" in reasons[3]
    assert "whole number" in reasons[4]
    assert "999x999" in reasons[5]
    assert at.metric[0].label == "2 takes to launch"
    assert any("3 rows refused" in w.value for w in at.warning)

    at.button(key="batch_launch").click().run()
    no_exception(at)
    jobs = studio_of().store.all()
    assert sorted(j.prompt for j in jobs) == ["a paper boat on a pond", "a tram in the rain"]
    assert len({j.group_id for j in jobs}) == 1 and jobs[0].group_id
    assert next(j for j in jobs if j.prompt.startswith("a paper")).tags == ["cms", "spring"]


def test_a_batch_over_budget_launches_nothing_and_says_so(open_page, studio_of, isolated_home, engine,
                                                          monkeypatch) -> None:
    """A priced provider (the engine behind a `remote` URL, with published rates) and a $1 budget."""
    monkeypatch.setenv("OPENAI_BASE_URL", engine.base_url)
    SettingsFile(isolated_home / "settings.json").save(Settings(daily_budget_usd=1.0, active_provider="remote",
                                                                rates={"dailies-preview": 0.1}))
    rows = b"\n".join(json.dumps({"prompt": f"take {n} of a red kite", "seconds": 4}).encode() for n in range(5))
    at = no_exception(open_page("batch.py"))
    at.get("file_uploader")[0].upload("prompts.jsonl", rows, "application/jsonl").run()
    no_exception(at)
    assert at.metric[0].value == "$2.00"
    assert any("budget" in e.value for e in at.error)
    assert at.button(key="batch_launch").disabled
    assert studio_of().store.all() == []


def test_a_file_that_is_not_a_batch_is_refused_plainly(open_page) -> None:
    at = no_exception(open_page("batch.py"))
    at.get("file_uploader")[0].upload("prompts.csv", b"text,colour\nhello,red\n", "text/csv").run()
    assert any("'prompt' column" in e.value for e in at.error)
