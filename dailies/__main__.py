"""`python -m dailies`: the studio without the browser, for scripts, sweeps and crash drills.

It uses the same store, tracker and rules as the workbench, on the same data folder, so a sweep
started here shows up in History, and a process killed midway resumes when started again.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from dailies.config import Environment, SettingsFile
from dailies.errors import DailiesError
from dailies.jobs import ACTIVE_STATUSES, Job, JobRequest, JobStatus
from dailies.studio import Studio, new_group_id, numbered_takes
from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE


@contextlib.contextmanager
def open_studio(args: argparse.Namespace) -> Iterator[Studio]:
    """A studio on the configured provider; with no server configured, on the engine of this data folder.

    When an app (or another CLI) already runs the engine of this data folder, that engine is used:
    two engines never share one folder. Otherwise an engine is started in this process.
    """
    env = Environment.load()
    engine_url, engine_key = args.engine_url, None
    if not engine_url and not env.base_url:
        engine_url, engine_key = running_engine_url(env.home / "engine")
    if engine_url or env.base_url:
        studio = Studio(env, engine_base_url=engine_url, engine_api_key=engine_key)
        try:
            yield studio
        finally:
            studio.close()
        return
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=env.home / "engine")) as running:
        studio = Studio(env, engine_base_url=running.base_url)
        try:
            yield studio
        finally:
            studio.close()


def running_engine_url(folder: Path) -> tuple[str | None, str | None]:
    """The URL of the engine another process runs on `folder` and the key it wants, or None when none
    runs there.

    Raises `DailiesError`, saying why, when one runs there but cannot be used from here.
    """
    from dailies.engine.folder import running_engine

    running, url, key = running_engine(folder)
    if not running:
        return None, None
    if not url:
        raise DailiesError(
            f"An engine is running on {folder} but has not said where it answers (it may be starting). "
            "Try again in a moment, or pass --engine-url."
        )
    try:
        answer = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=5.0)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise DailiesError(
            f"The engine running on {folder} says it answers at {url}, but it does not ({exc}). "
            "Pass --engine-url, or stop that process."
        ) from exc
    print(f"dailies: using the engine already running on this data folder at {url}", file=sys.stderr)
    return url, key


def cmd_submit(args: argparse.Namespace) -> int:
    with open_studio(args) as studio:
        args.model = args.model or studio.capabilities(args.provider).default_model
        request = JobRequest(prompt=args.prompt, model=args.model, size=args.size, seconds=args.seconds,
                             seed=args.seed, audio=args.sound)
        requests = numbered_takes(request, args.takes)
        result = studio.launch(requests, concurrency=args.concurrency, provider=args.provider)
        for job in result.jobs:
            print(json.dumps({"job": job.id, "remote_id": job.remote_id, "status": str(job.status)}))
        for _, error in result.errors:
            print(f"refused: {error}", file=sys.stderr)
        if args.wait:
            studio.tracker.run_until_idle(timeout=args.timeout)
            _print_jobs(studio, [j.id for j in result.jobs])
        return 1 if result.errors else 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Resume every unfinished job and follow them to the end."""
    with open_studio(args) as studio:
        active = studio.tracker.resume()
        print(f"resuming {active} job(s)", flush=True)
        done = studio.tracker.run_until_idle(timeout=args.timeout)
        _print_jobs(studio, [j.id for j in studio.store.all()])
        return 0 if done else 2


def cmd_sweep(args: argparse.Namespace) -> int:
    """Submit N takes of one prompt and follow them to the end (the crash drill's workload)."""
    with open_studio(args) as studio:
        args.model = args.model or studio.capabilities(args.provider).default_model
        group = new_group_id()
        takes = numbered_takes(JobRequest(prompt=args.prompt, model=args.model, size=args.size, seconds=args.seconds),
                               args.count, group)
        requests = [dataclasses.replace(take, prompt=f"{take.prompt}, take {take.axes['take']}") for take in takes]
        started = time.perf_counter()
        result = studio.launch(requests, concurrency=args.concurrency, provider=args.provider)
        waiting = [j for j in result.jobs if j.status is JobStatus.WAITING]
        print(json.dumps({"group": group, "submitted": len(result.jobs), "waiting": len(waiting),
                          "refused": len(result.errors)}), flush=True)
        for request, error in result.errors:
            print(json.dumps({"refused": request.axes.get("take"), "reason": str(error)}), flush=True)
        studio.start()
        said_waiting = {j.id: j.wait_reason for j in waiting}
        _say_waiting(waiting)
        while active := studio.store.query(group_id=group, status=ACTIVE_STATUSES):
            now_waiting = [j for j in active if j.status is JobStatus.WAITING]
            if {j.id: j.wait_reason for j in now_waiting} != said_waiting:
                said_waiting = {j.id: j.wait_reason for j in now_waiting}
                _say_waiting(now_waiting)
            if time.perf_counter() - started > args.timeout:
                return 2
            time.sleep(0.2)
        jobs = studio.store.group(group)
        _print_jobs(studio, [j.id for j in jobs])
        not_made = [j for j in jobs if j.status is not JobStatus.COMPLETED]
        if not_made or result.errors:
            print(f"{len(not_made) + len(result.errors)} of {args.count} take(s) were not made "
                  "(the reasons are above)", file=sys.stderr)
            return 1
        return 0


def _say_waiting(waiting: Sequence[Job]) -> None:
    """One line for the takes that wait for their provider, and why (they are sent when it allows)."""
    if waiting:
        reasons = sorted({j.wait_reason for j in waiting})
        print(json.dumps({"waiting": len(waiting), "why": reasons}), flush=True)


def cmd_providers(args: argparse.Namespace) -> int:
    """One line per configured provider: its kind, where its key comes from, and (with --test) its answer."""
    from dailies.providers import registry

    with open_studio(args) as studio:
        added = {p.name: p for p in studio.settings.extra_providers}
        failed = False
        for name in studio.providers.names():
            provider = studio.provider(name)
            line: dict[str, object] = {"provider": name, "kind": studio.providers.kind_of(name),
                                       "label": provider.label}
            described = studio.env.providers.get(name) or added.get(name)
            if described is not None:
                line["defined"] = "server" if name in studio.env.providers else "settings"
                line["key_from"] = list(registry.key_variables(described, added=name not in studio.env.providers))
                line.update(registry.setup_of(described))  # Google's project, location, key file path: not secrets
            if isinstance(provider, registry.Unavailable):
                line["problem"] = str(provider.why)
                failed = True
            if args.test:
                health = registry.connection_test(provider)
                line.update(ok=health.ok, answer=health.message)
                failed = failed or not health.ok
            print(json.dumps(line))
        return 1 if failed and args.test else 0


def cmd_add_provider(args: argparse.Namespace) -> int:
    """Add a provider as Settings does: a key-less server by its base URL, or a vendor on its own API.

    A provider that carries a key to a base URL of its own is defined where keys live (`[providers.<name>]`
    in `.streamlit/secrets.toml`); asked for one here, the CLI refuses, saying what to put there.
    """
    with open_studio(args) as studio:
        studio.add_provider(args.name, args.base_url or "", args.key_from or "", kind=args.kind)
        print(json.dumps({"added": args.name, "kind": args.kind}))
        return 0


def cmd_status(args: argparse.Namespace) -> int:
    env = Environment.load()
    from dailies.store import open_configured_store, store_name
    from dailies.team_settings import settings_source, unshared_media_warning

    store = open_configured_store(env)
    counts: dict[str, int] = {}
    for job in store.all():
        counts[str(job.status)] = counts.get(str(job.status), 0) + 1
    warnings = list(store.warnings)
    with contextlib.suppress(DailiesError):  # a database that cannot be reached is already said above
        team = settings_source(store, SettingsFile(env.home / "settings.json")).load()
        unshared = unshared_media_warning(store, team)
        if unshared:
            warnings.append(unshared)
    print(json.dumps({"home": str(env.home), "store": store_name(env), "jobs": len(store), "by_status": counts,
                      "warnings": warnings}))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy this data folder's journal to a PostgreSQL database (`--to`), or a database's records into the
    data folder's journal (`--from`); counts verified, the source only read, a second run writes nothing."""
    from dailies.store import open_store
    from dailies.store.copying import copy_store
    from dailies.store.postgres_db import redacted
    from dailies.team_settings import copy_team_settings

    env = Environment.load()
    url = args.to or args.from_
    database = open_store(env.home, url, follow=False)
    journal = open_store(env.home, None, follow=False)
    source, target = (journal, database) if args.to else (database, journal)
    try:
        copied = copy_store(source, target)
        settings = copy_team_settings(database, SettingsFile(env.home / "settings.json"), to_database=bool(args.to))
    finally:
        database.close()
        journal.close()
    folder = str(env.home / "jobs.journal")
    print(json.dumps({"from": folder if args.to else redacted(url), "to": redacted(url) if args.to else folder,
                      "records": copied.records, "written": copied.written, "settings": settings,
                      "verified": True}))
    return 0


def cmd_notes(args: argparse.Namespace) -> int:
    """`notes list <take>` prints the take's notes (JSON lines, frame order); `notes export <take>` writes them
    for an editor (otio, fcpxml, edl, csv or zip) to `--out` or standard output. Reads the configured store
    (the data folder's journal, or `DAILIES_DATABASE_URL`) directly, without starting a tracker."""
    from dailies.media import MediaLibrary
    from dailies.review import ReviewDesk
    from dailies.store import open_configured_store

    env = Environment.load()
    store = open_configured_store(env)
    try:
        desk = ReviewDesk(store, MediaLibrary(env.home / "media"))
        if args.action == "list":
            for view in desk.note_views(args.take):
                print(json.dumps(view))
            return 0
        data = desk.export(args.take, args.format, timeline_start=args.timeline_start)
        if args.out:
            Path(args.out).write_bytes(data)
            print(json.dumps({"take": args.take, "format": args.format, "written": args.out, "bytes": len(data)}))
        elif args.format == "zip":
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data.decode())
        return 0
    finally:
        store.close()


def _print_jobs(studio: Studio, ids: Sequence[str]) -> None:
    for job_id in ids:
        job = studio.store.require(job_id)
        print(
            json.dumps(
                {
                    "job": job.id,
                    "status": str(job.status),
                    "files": sorted(job.files),
                    "error": job.error.to_dict() if job.error else None,
                }
            )
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dailies", description=__doc__.splitlines()[0])
    parser.add_argument("--engine-url", help="base URL of a running engine to use as the 'engine' provider")
    sub = parser.add_subparsers(dest="command", required=True)

    def job_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--provider", default=None,
                       help="a configured provider's name (python -m dailies providers); default: the active one")
        p.add_argument("--model", default=None, help="default: the provider's first video model")
        p.add_argument("--size", default=DEFAULT_SIZE)
        p.add_argument("--seconds", type=int, default=DEFAULT_SECONDS)
        p.add_argument("--concurrency", type=int, default=4)
        p.add_argument("--timeout", type=float, default=600.0)

    submit = sub.add_parser("submit", help="submit takes of a prompt")
    submit.add_argument("prompt")
    submit.add_argument("--takes", type=int, default=1)
    submit.add_argument("--seed", type=int)
    submit.add_argument("--no-sound", dest="sound", action="store_false",
                        help="no sound, on a model that renders it (Veo 3.1 costs half without); sent as chosen")
    submit.add_argument("--wait", action="store_true")
    job_options(submit)
    submit.set_defaults(func=cmd_submit)

    sweep = sub.add_parser("sweep", help="submit N takes and follow them to completion")
    sweep.add_argument("--count", type=int, default=10)
    sweep.add_argument("--prompt", default="a lighthouse at golden hour, slow pan left")
    job_options(sweep)
    sweep.set_defaults(func=cmd_sweep)

    watch = sub.add_parser("watch", help="resume unfinished jobs and follow them to the end")
    watch.add_argument("--timeout", type=float, default=600.0)
    watch.set_defaults(func=cmd_watch)

    providers = sub.add_parser("providers", help="list the configured providers, their kinds and keys")
    providers.add_argument("--test", action="store_true", help="also run each provider's connection test")
    providers.set_defaults(func=cmd_providers)

    from dailies.providers.registry import KINDS

    add = sub.add_parser("add-provider", help="add a provider by kind, as Settings does")
    add.add_argument("name")
    add.add_argument("--kind", choices=list(KINDS), default="openai_compat")
    add.add_argument("--base-url", help="a key-less OpenAI-compatible server's URL (required for openai_compat and "
                                        "litellm); a vendor's proxy is defined in .streamlit/secrets.toml instead")
    add.add_argument("--key-from", help="refused: a provider with a key is defined in .streamlit/secrets.toml "
                                        "([providers.NAME] kind, base_url, key_from); the refusal shows the table")
    add.set_defaults(func=cmd_add_provider)

    status = sub.add_parser("status", help="count jobs by status")
    status.set_defaults(func=cmd_status)

    migrate = sub.add_parser("migrate", help="copy the data folder's store to a PostgreSQL database, or back")
    direction = migrate.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", metavar="postgresql://…", help="copy DAILIES_HOME's journal into this database")
    direction.add_argument("--from", dest="from_", metavar="postgresql://…",
                           help="copy this database's records into DAILIES_HOME's journal")
    migrate.set_defaults(func=cmd_migrate)

    notes = sub.add_parser("notes", help="a take's review notes: list them, or export them for an editor")
    notes.add_argument("action", choices=["list", "export"])
    notes.add_argument("take", help="the take's id (job_...)")
    notes.add_argument("--format", choices=["otio", "fcpxml", "edl", "csv", "zip"], default="otio")
    notes.add_argument("--out", help="write to this file (default: standard output)")
    notes.add_argument("--timeline-start", default="00:00:00:00",
                       help="the EDL's first timecode (01:00:00:00 for a Resolve timeline that starts there)")
    notes.set_defaults(func=cmd_notes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DailiesError as exc:
        print(f"dailies: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
