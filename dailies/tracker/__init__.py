"""The tracker: a scheduler (`Tracker`) that drives small workers, one per step of a job's life after its send.

- `scheduler.py`  `Tracker`: the loop, the pool, leases across processes, which worker takes a job's next step
- `poll.py`       `Poller`: asking the provider about a sent job and applying its answer; waiting takes
- `fetch.py`      `Fetcher`: downloading a completed job's files
- `upload.py`     `Uploader`: copies in the team's bucket, retried with backoff (a durable `RetryQueue` in the store)
- `reconcile.py`  `Reconciler`: jobs whose create never answered, found among the provider's videos
- `resume.py`     `Resumer`: what survives a restart (unfinished jobs, missing files, pending uploads)
- `safety_net.py` `SafetyNet`: webhook deliveries first, polling behind them
- `context.py`    `TrackerContext`, `Schedule`, `TrackerStats`: what the workers share; `policy.py`: `PollPolicy`

Workers import only `context`, `policy` and each other below them (poll → fetch → upload; resume → upload),
never the scheduler; the package imports the core (store interface, providers' seam, media, bucket, send queue)
and never Streamlit.
"""

from dailies.tracker.context import Schedule, TrackerContext, TrackerStats
from dailies.tracker.fetch import Fetcher, WrongContent
from dailies.tracker.policy import PollPolicy
from dailies.tracker.poll import Poller
from dailies.tracker.reconcile import Reconciler
from dailies.tracker.resume import Resumer
from dailies.tracker.safety_net import SafetyNet
from dailies.tracker.scheduler import Tracker
from dailies.tracker.upload import UPLOAD_RETRY_CAP, Uploader

__all__ = [
    "UPLOAD_RETRY_CAP",
    "Fetcher",
    "PollPolicy",
    "Poller",
    "Reconciler",
    "Resumer",
    "SafetyNet",
    "Schedule",
    "Tracker",
    "TrackerContext",
    "TrackerStats",
    "Uploader",
    "WrongContent",
]
