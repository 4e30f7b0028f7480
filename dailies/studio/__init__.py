"""The studio: the rules of submitting a take and of looking after it once made, behind one façade (`Studio`).

- `studio.py`: `Studio`, built once per process, holding the parts below and handing each verb to its part.
- `settings_admin.py`: the team's settings, the providers built from them, their health, the bucket.
- `submitting.py`: preflight (validation, moderation, cost, budget) and submit, alone or in batches.
- `take_library.py`: the takes once made: reads, review marks, re-running, deleting, cleaning up.
- `request_builders.py`: requests built from requests and from takes: N numbered takes, a take again.

It may import the core (`dailies.*`: jobs, store, tracker, providers, media...), never Streamlit or a page.
"""

from dailies.studio.request_builders import axis_combinations, new_group_id, numbered_takes
from dailies.studio.settings_admin import HEALTH_MAX_AGE_S, SettingsAdmin
from dailies.studio.studio import Studio
from dailies.studio.submitting import LaunchResult, Preflight, Submitter
from dailies.studio.take_library import REVIEW_FIELDS, TakeLibrary

__all__ = [
    "HEALTH_MAX_AGE_S",
    "REVIEW_FIELDS",
    "LaunchResult",
    "Preflight",
    "SettingsAdmin",
    "Studio",
    "Submitter",
    "TakeLibrary",
    "axis_combinations",
    "new_group_id",
    "numbered_takes",
]
