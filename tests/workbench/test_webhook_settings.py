"""Settings → Webhooks: register our endpoint at the engine, see it and its test delivery, remove it."""

from __future__ import annotations

import json

from hook_receiver import hook_receiver
from page_helpers import no_exception

from dailies.client import VideosClient


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

        at.button(key="webhook_remove_engine").click().run()
        no_exception(at)
        assert VideosClient(engine.base_url).list_webhook_endpoints() == []
        assert not any("/hooks/" in c.value for c in at.code)
