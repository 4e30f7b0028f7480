"""Settings → Webhooks: register our endpoint at the engine, see it and its test delivery, remove it."""

from __future__ import annotations

import json

from hook_receiver import hook_receiver
from page_helpers import no_exception

from dailies.client import VideosClient
from tests.fakes.replicate import KEY as REPLICATE_KEY
from tests.fakes.replicate import FakeReplicate
from tests.server_side import define


def test_register_test_and_remove_the_webhook_endpoint(open_page, studio_of, engine) -> None:
    with hook_receiver("/hooks/engine") as receiver:
        base = receiver.url.rsplit("/hooks/", 1)[0]
        at = no_exception(open_page("settings.py"))
        assert at.selectbox(key="webhook_provider").options == ["engine"]
        at.text_input(key="webhook_base_engine").input("http://hooks.example.com").run()
        at.button(key="webhook_register").click().run()
        assert any("https" in e.value for e in at.error), "a public URL must be https"
        assert VideosClient(engine.base_url).list_webhook_endpoints() == []

        at.text_input(key="webhook_base_engine").input(base).run()
        at.button(key="webhook_register").click().run()
        no_exception(at)
        listed = VideosClient(engine.base_url).list_webhook_endpoints()
        assert [e["url"] for e in listed] == [f"{base}/hooks/engine"]
        sample = json.loads(receiver.received[0].body)
        assert sample["type"] == "video.completed", "registering sends a test event"
        assert [c.value for c in at.code if "/hooks/" in c.value] == [f"{base}/hooks/engine"]
        assert any("No delivery yet" in c.value for c in at.caption)
        secret = (studio_of().home / "webhooks.json").read_text()
        registration = json.loads(secret)["registrations"]["engine"]
        shown = "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption),
                           *(c.value for c in at.code)])
        assert registration["secret"] not in shown, "the signing secret is never shown"

        studio_of().tracker.delivery_arrived("engine")  # as the app's receiver does for each verified delivery
        assert studio_of().tracker.pushing("engine")
        at.button(key="webhook_remove_engine").click().run()
        no_exception(at)
        assert VideosClient(engine.base_url).list_webhook_endpoints() == []
        assert not studio_of().tracker.pushing("engine"), "with no endpoint left, polling is back to normal at once"
        assert not any("/hooks/" in c.value for c in at.code)


def test_a_replicate_provider_is_offered_and_registered_with_its_accounts_secret(
    open_page, studio_of, monkeypatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", REPLICATE_KEY)
    with FakeReplicate() as fake:
        define(studio_of(), "rep", "replicate", fake.base_url)
        at = no_exception(open_page("settings.py"))
        assert at.selectbox(key="webhook_provider").options == ["engine", "rep"]
        at.selectbox(key="webhook_provider").select("rep").run()
        assert any("Replicate signs with your account's secret" in c.value for c in at.caption)
        base = at.text_input(key="webhook_base_rep").value
        assert base.startswith("http://127.0.0.1:"), "a provider on this machine reaches the app on loopback"
        at.button(key="webhook_register").click().run()
        no_exception(at)
        assert [c.value for c in at.code if "/hooks/" in c.value] == [f"{base}/hooks/rep"]
        assert any("Replicate signs with your account's secret" in c.value for c in at.caption)
        assert not [b for b in at.button if b.key == "webhook_test_rep"], "Replicate has no test event to send"
        shown = "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption),
                           *(c.value for c in at.code)])
        assert fake.secret not in shown and fake.secret.split("_", 1)[1] not in shown
        assert json.loads((studio_of().home / "webhooks.json").read_text())["registrations"]["rep"]["kind"] \
            == "replicate"

        at.button(key="webhook_remove_rep").click().run()
        no_exception(at)
        assert not any("/hooks/" in c.value for c in at.code)
