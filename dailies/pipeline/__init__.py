"""The pipeline API's rules: takes ordered by scripts and CMS hooks, and the callbacks that tell them.

What lives here:
- `orders`: `Pipeline`, an order under the same `Studio` rules as the pages, idempotency keys, signed
  callbacks sent when a take finishes.
- `callbacks`: where a callback may be sent (public https hosts, or hosts the team names on purpose).
The HTTP routes that speak for it are in `dailies/web/` (api.py, review.py).
May import: `dailies.studio` and what it speaks (jobs, errors, store, validation); never Streamlit or HTTP routes.
"""

from dailies.pipeline.orders import (
    CALLBACK_SCHEDULE,
    CALLBACK_SECRET_VAR,
    CALLBACK_TABLE,
    TOKEN_VAR,
    Conflict,
    Pipeline,
    Refusal,
    body_digest,
    fetch_public_image,
    token_matches,
)

__all__ = [
    "CALLBACK_SCHEDULE",
    "CALLBACK_SECRET_VAR",
    "CALLBACK_TABLE",
    "TOKEN_VAR",
    "Conflict",
    "Pipeline",
    "Refusal",
    "body_digest",
    "fetch_public_image",
    "token_matches",
]
