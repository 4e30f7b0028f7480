"""Webhooks from providers: registering our endpoint with them, and verifying and acting on what they send.

What lives here:
- `receiver`: `WebhookBook` (registrations, last deliveries, ids seen), `WebhookReceiver` (one entry point:
  verify, dedupe, tell the tracker), `register` / `unregister` with a provider.
- `schemes`: one signature check per signing scheme (OpenAI-style and Replicate's Standard Webhooks, fal's
  Ed25519), each saying what a verified delivery means.
The HTTP route is `dailies/web/hooks.py`; the engine's own sender is `dailies/engine/webhooks.py`.
May import: config, errors, the store's interface; never Streamlit, the studio or the tracker (the receiver is
handed what it nudges).
"""

from dailies.webhooks.receiver import (
    HOOKS_PREFIX,
    MAX_BODY,
    LastDelivery,
    Registration,
    WebhookBook,
    WebhookReceiver,
    receiver_url,
    register,
    register_vendor,
    registered_url,
    unregister,
)

__all__ = [
    "HOOKS_PREFIX",
    "MAX_BODY",
    "LastDelivery",
    "Registration",
    "WebhookBook",
    "WebhookReceiver",
    "receiver_url",
    "register",
    "register_vendor",
    "registered_url",
    "unregister",
]
