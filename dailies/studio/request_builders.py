"""Requests built from other requests and from takes already made: N numbered takes of one request, the same
take sent again (a retry, a take that waited, more takes of it), a remix or extension of a finished take.

What a take was made with beyond its prompt, model, size and length is kept on the job's `params`
(`params_of`) so that each of these sends the same references, asset, seed and sound choice (`inputs_of`).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Mapping
from typing import Any

from dailies.errors import ValidationError
from dailies.jobs import Job, JobKind, JobRequest

TAKE_AXIS = "take"
"""The axis that numbers the takes of one request in its variant group ("1", "2", ...)."""


def new_group_id() -> str:
    return f"grp_{uuid.uuid4().hex[:12]}"


def numbered_takes(request: JobRequest, count: int, group_id: str | None = None) -> list[JobRequest]:
    """`count` takes of `request` as one variant group, numbered on the `take` axis; the only place takes are made.

    The group is `group_id`, else the request's own, else a new one. One take with no group asked for is the
    request as it is: alone, it is not a group. A request with a seed gives take n the seed + n - 1, so a run of
    takes can be repeated exactly.
    """
    if count == 1 and group_id is None:
        return [request]
    group = group_id or request.group_id or new_group_id()
    return [
        dataclasses.replace(request, group_id=group, axes={**request.axes, TAKE_AXIS: str(n + 1)},
                            seed=None if request.seed is None else request.seed + n, tags=list(request.tags),
                            reference_images=list(request.reference_images),
                            library_asset=dict(request.library_asset))
        for n in range(count)
    ]


def again(job: Job) -> JobRequest:
    """The request that makes `job` again, as it was sent (a retry, or a take that waited being sent now)."""
    return JobRequest(
        prompt=job.prompt, model=job.model, size=job.size, seconds=job.seconds, kind=job.kind,
        source_job_id=job.source_job_id, group_id=job.group_id, axes=dict(job.axes),
        seed=job.params.get("seed"), tags=list(job.tags), **inputs_of(job),
    )


def more_takes(job: Job, count: int) -> list[JobRequest]:
    """`count` new takes of a generated job (same request, fresh seeds) as one new variant group."""
    if job.kind is not JobKind.GENERATE:
        raise ValidationError(f"Takes are made of generated clips; {job.id} is a {job.kind}.")
    request = JobRequest(prompt=job.prompt, model=job.model, size=job.size, seconds=job.seconds,
                         tags=list(job.tags), **inputs_of(job))
    return numbered_takes(request, count, new_group_id())


def derived(source: Job, kind: JobKind, prompt: str, seconds: int | None = None) -> JobRequest:
    """A remix, extension or edit of a finished job."""
    return JobRequest(
        prompt=prompt,
        model=source.model,
        size=source.size,
        seconds=seconds if seconds is not None else source.seconds,
        kind=kind,
        source_job_id=source.id,
        group_id=None,
        tags=list(source.tags),
    )


def params_of(request: JobRequest) -> dict[str, Any]:
    """What a take was made with beyond its prompt, model, size and length, kept on the job so "run again",
    a retry and a take that waited send the same: the opening frame and subject references by path and by the
    name a person reads (never their bytes), the library asset they came from, the seed, and the sound choice
    when it was off. `inputs_of` reads them back."""
    params: dict[str, Any] = {}
    if request.reference_path:
        params["reference_path"] = request.reference_path
        params["reference_name"] = os.path.basename(request.reference_path)
    if request.reference_images:
        params["reference_images"] = list(request.reference_images)
        params["reference_image_names"] = [os.path.basename(path) for path in request.reference_images]
    if request.library_asset:
        params["library_asset_id"] = request.library_asset.get("id", "")
        params["library_asset_name"] = request.library_asset.get("name", "")
    if request.seed is not None:
        params["seed"] = request.seed
    if not request.audio:
        params["audio"] = False
    return params


def inputs_of(job: Job) -> dict[str, Any]:
    """The `JobRequest` inputs `params_of` kept on `job`, to send the same take again (a retry, a take that
    waited, more takes of it): its references, the library asset they came from and its sound choice."""
    params = job.params
    asset = {"id": params["library_asset_id"], "name": params.get("library_asset_name", "")} \
        if params.get("library_asset_id") else {}
    return {"reference_path": params.get("reference_path"),
            "reference_images": list(params.get("reference_images") or ()), "library_asset": asset,
            "audio": bool(params.get("audio", True))}


def axis_combinations(axes: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of axis values, in a stable order (the first axis varies slowest)."""
    combos: list[dict[str, str]] = [{}]
    for name, values in axes.items():
        clean = [v for v in dict.fromkeys(v.strip() for v in values) if v]
        if not clean:
            continue
        combos = [{**combo, name: value} for combo in combos for value in clean]
    return combos
