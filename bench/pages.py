"""Pages: how long each page takes to show its content in headless Chromium, and what idle tabs cost.

Run: `.venv/bin/python -m bench.pages` (1,000 / 10,000 / 100,000 jobs; `--quick` stops at 10,000).
For each size a store of synthetic finished jobs is written (through `JobStore`, as the app writes
it), the app is started as `scripts/start` starts it (`streamlit run app.py`, embedded engine), and:
- "first interactive" is from starting the server to the Generate button on screen, in a tab the
  browser had open before the start (as a person's browser is): once in a browser that has never
  opened Dailies (nothing cached), and once after a restart on the same address, in the same browser
  (it has Streamlit's frontend cached, as a team member's browser does after the first day; the
  tabs of the first start are closed, so that one person's first page is measured, not three tabs
  reconnecting at once): the median of five restarts, each in a blank tab opened a second before;
- each page is opened from the sidebar, as people do: "first" is its first open after the start
  (nothing cached yet), "warm" the median of three later opens. A page counts as shown when its
  content is on screen (History: the table and its job count; Generate: the Generate button;
  others: the heading) and the script run has finished;
- "shown" is the moment the page's own DOM first meets that condition, stamped in the page by a
  MutationObserver (`Date.now()`, the machine's clock, as is the start's): Playwright's `expect`
  re-checks after 100, 250, 500 and 1,000 ms, so its return alone would add up to half a second
  that nobody waited for. Playwright's wait stays the gate; the stamp is read after it;
- "sidebar figures" is when, after the first page is interactive, the sidebar's spend and running
  count are on screen too (a large store is still loading when the first page is drawn);
- where a restart's time goes: the tab's main thread busy until interactive (Chromium's own
  `TaskDuration`, through the DevTools protocol: Streamlit's frontend running and drawing) and the
  server's CPU seconds from launch until then (from /proc); and a fresh tab on the warm server
  (a warm script run, the studio long settled: nearly all of it the frontend);
- a one-button Streamlit app (a title and a button) is started and opened the same way in the same
  run, as the floor Streamlit and this machine set: the first-page figures are also given as a ratio
  to it, which a slower or busier machine changes less than the seconds;
- idle tabs: eight tabs of one page with no job running, and the server's own CPU seconds (from
  /proc) over a 60 s window (one period of the idle tabs' check), per page, with the server's
  memory before and after (2,000 jobs, as the issue measured them); first the same window with no
  tab open, the server's own housekeeping, which every row includes.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.process import cpu_seconds, rss_mb, stop, wait_answering, wake_ups
from bench.report import cli, table, write
from bench.store import synthetic_jobs
from dailies.engine.server import free_port
from dailies.jobs import FileRecord, Job, JobStatus
from dailies.media import sha256_file
from dailies.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SIZES_FULL = (1_000, 10_000, 100_000)
SIZES_QUICK = (1_000, 10_000)
PAGES = ("History", "Variants", "Compare", "Settings", "Generate")
WARM_REPEATS = 3
RESTARTS = 5
IDLE_JOBS = 2_000
IDLE_TABS = 8
IDLE_SECONDS = 60.0  # one whole period of the idle tabs' once-a-minute check (components/refresh.py)
TIMEOUT_MS = 180_000
TAB_SETTLE_S = 1.0


def finished_jobs(count: int, media: Path) -> list[Job]:
    """The store benchmark's synthetic jobs, none running, each finished one with its files on disk.

    A finished job whose files are missing is sent back to download when the app starts, and a
    store full of downloads is not an idle one; so every finished take gets a real video and
    thumbnail (hard links to two small files, a fresh pair every 50,000 takes: a file system allows
    only so many links to one file).
    """
    jobs = []
    for n, job in enumerate(synthetic_jobs(count)):
        if n % 50_000 == 0:
            video, thumbnail = _sample_files(media, n)
            records = {"video": (video, "mp4"), "thumbnail": (thumbnail, "webp")}
        if job.status is not JobStatus.COMPLETED:
            jobs.append(dataclasses.replace(job, status=JobStatus.FAILED, files={}))
            continue
        folder = media / job.id
        folder.mkdir()
        files = {}
        for variant, (source, ext) in records.items():
            os.link(source, folder / f"{variant}.{ext}")
            files[variant] = FileRecord(f"{job.id}/{variant}.{ext}", source.stat().st_size, sha256_file(source))
        jobs.append(dataclasses.replace(job, files=files))
    return jobs


@functools.cache
def _sample_bytes() -> tuple[bytes, bytes]:
    """A one-second 160x90 H.264 MP4 and a WebP thumbnail, made once per run."""
    import av
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "take.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=24)
            stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
            for n in range(24):
                frame = av.VideoFrame.from_image(Image.new("RGB", (160, 90), (20 + 8 * n, 90, 160)))
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
        video = path.read_bytes()
    thumb = io.BytesIO()
    Image.new("RGB", (160, 90), (200, 120, 40)).save(thumb, "WEBP")
    return video, thumb.getvalue()


def _sample_files(media: Path, n: int) -> tuple[Path, Path]:
    media.mkdir(parents=True, exist_ok=True)
    video_bytes, thumb_bytes = _sample_bytes()
    video, thumbnail = media.parent / f"sample-{n}.mp4", media.parent / f"sample-{n}.webp"
    video.write_bytes(video_bytes)
    thumbnail.write_bytes(thumb_bytes)
    return video, thumbnail


def make_home(folder: Path, count: int) -> tuple[Path, float]:
    """A DAILIES_HOME with `count` jobs in its store and their files; returns it and the seconds it took."""
    home = folder / f"home-{count}"
    home.mkdir()
    started = time.perf_counter()
    store = JobStore(home / "jobs.json")
    with store.batch():
        store.insert_many(finished_jobs(count, home / "media"))
    store.close()
    return home, time.perf_counter() - started


@contextmanager
def running_app(home: Path, log: Path, port: int | None = None,
                script: str = "app.py") -> Iterator[tuple[subprocess.Popen, str, float]]:
    """The app as `scripts/start` runs it (or another `script`, with the same settings); yields the process, its
    URL and when it was started (wall clock, which the pages' stamps are read against)."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_"))}
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": str(ROOT)})
    started = time.time()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "streamlit"), "run", script, "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(process, f"{url}/_stcore/health", log, "the app", timeout_s=180, interval_s=0.02)
        yield process, url, started
    finally:
        stop(process, grace_s=20)


SHOWN_WATCH = """
window.__dailiesAt = {};
window.__dailiesWatch = (title, jobs) => {
  delete window.__dailiesAt[title];
  const visible = (el) => el !== null && el.checkVisibility();
  const isShown = () => {
    if (document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']") === null) return false;
    if (![...document.querySelectorAll("h1")].some((h) => h.textContent.trim() === title && visible(h))) return false;
    if (title === "History") {
      const metric = [...document.querySelectorAll("[data-testid='stMetric']")]
        .find((m) => m.textContent.includes("Jobs"));
      const value = metric && metric.querySelector("[data-testid='stMetricValue']");
      return visible(document.querySelector("[data-testid='stDataFrame']")) && value !== null
        && value.textContent.trim() === jobs.toLocaleString("en-US");
    }
    if (title === "Generate") {
      return [...document.querySelectorAll("button p")].some((p) => p.textContent.trim() === "Generate" && visible(p));
    }
    return true;
  };
  const observer = new MutationObserver(() => {
    if (isShown()) { window.__dailiesAt[title] = Date.now(); observer.disconnect(); }
  });
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
};
window.__dailiesSidebar = () => {
  const observer = new MutationObserver(() => {
    const metrics = [...document.querySelectorAll("[data-testid='stSidebar'] [data-testid='stMetricValue']")];
    if (metrics.length >= 2 && metrics.every((m) => /\\d/.test(m.textContent))) {
      window.__dailiesAt.sidebar = Date.now(); observer.disconnect();
    }
  });
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
};
window.__dailiesWatch("Generate", 0);
window.__dailiesSidebar();
"""
"""Installed in every document of the measuring browser: it stamps when a page's condition first holds (the
first page load watches Generate and the sidebar's figures; a sidebar click asks for the page it opens)."""


def stamp(page: Any, name: str) -> float:
    """The wall-clock second the page stamped `name` (after Playwright's wait has seen it)."""
    page.wait_for_function("(name) => window.__dailiesAt[name] !== undefined", arg=name, timeout=TIMEOUT_MS)
    return page.evaluate("(name) => window.__dailiesAt[name]", name) / 1000


def shown(page: Any, title: str, jobs: int) -> None:
    """Wait until `title`'s content is on screen and its script run has finished."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=TIMEOUT_MS)
    if title == "History":
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=TIMEOUT_MS)
        count = page.locator("[data-testid='stMetric']", has_text="Jobs").locator("[data-testid='stMetricValue']")
        expect(count).to_have_text(f"{jobs:,}", timeout=TIMEOUT_MS)
    elif title == "Generate":
        expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_have_count(
        1, timeout=TIMEOUT_MS)


def open_from_sidebar(page: Any, title: str, jobs: int) -> float:
    page.evaluate("([title, jobs]) => window.__dailiesWatch(title, jobs)", [title, jobs])
    started = time.time()
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    shown(page, title, jobs)
    return stamp(page, title) - started


def idle_tab(context: Any) -> Any:
    """A blank tab that has settled: a person's browser is open and idle before the app starts, not busy
    starting a tab's renderer at that very moment (which took 0.3 s of the server's start on 2 cores)."""
    tab = context.new_page()
    tab.wait_for_load_state()
    time.sleep(TAB_SETTLE_S)
    return tab


@dataclasses.dataclass(frozen=True)
class FirstPage:
    """One first page after a start: when it was interactive, and what it cost each side until then."""

    interactive_s: float
    browser_busy_s: float
    """The tab's main thread busy (Chromium's `TaskDuration`, read just after the stamp): the frontend's own work."""
    server_cpu_s: float
    """The server's CPU seconds from its launch (Streamlit's own start included) to just after the stamp."""
    sidebar_s: float | None = None


def first_page(page: Any, url: str, started: float, jobs: int, server_pid: int,
               sidebar: bool = True) -> FirstPage:
    """The Generate page from `started` (wall clock) to interactive; then, with `sidebar`, to the sidebar's figures."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("Performance.enable")
    page.goto(url)
    shown(page, "Generate", jobs)
    interactive = stamp(page, "Generate") - started
    server_cpu = cpu_seconds(server_pid)
    metrics = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
    devtools.detach()
    return FirstPage(interactive, metrics["TaskDuration"], server_cpu,
                     stamp(page, "sidebar") - started if sidebar else None)


def measure_pages(browser: Any, count: int, folder: Path) -> dict[str, Any]:
    home, write_s = make_home(folder, count)
    row: dict[str, Any] = {"jobs": count, "store_write_s": write_s}
    port = free_port()
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_init_script(SHOWN_WATCH)
    tab = idle_tab(context)  # the browser is open before the app starts, as a person's is
    with running_app(home, folder / f"app-{count}.log", port) as (process, url, started):
        row["server_up_s"] = time.time() - started
        first = first_page(tab, url, started, count, process.pid)
        row["first_interactive_s"], row["first_sidebar_s"] = first.interactive_s, first.sidebar_s
        for title in PAGES:
            row[f"{title}_first_s"] = open_from_sidebar(tab, title, count)
        warm: dict[str, list[float]] = {title: [] for title in PAGES}
        for _ in range(WARM_REPEATS):
            for title in PAGES:
                warm[title].append(open_from_sidebar(tab, title, count))
        for title in PAGES:
            row[f"{title}_warm_s"] = statistics.median(warm[title])
        # What any fresh tab costs on a warm server (the browser loading Streamlit), for reading the first one.
        row["fresh_tab_s"] = first_page(context.new_page(), url, time.time(), count, process.pid,
                                        sidebar=False).interactive_s
        row["server_rss_mb"] = rss_mb(process.pid)
    # Restarts on the same address, each opened in the same browser (its cache holds Streamlit's frontend);
    # the median of several, since one start on a shared 2-core machine varies by a few tenths of a second.
    ups, restarts = [], []
    for _ in range(RESTARTS):
        for page in context.pages:
            page.close()
        again = idle_tab(context)
        with running_app(home, folder / f"app-{count}.log", port) as (process, url, started):
            ups.append(time.time() - started)
            restarts.append(first_page(again, url, started, count, process.pid))
    row["restart_server_up_s"] = statistics.median(ups)
    for field in ("interactive_s", "sidebar_s", "browser_busy_s", "server_cpu_s"):
        row[f"restart_{field}"] = statistics.median(getattr(r, field) for r in restarts)
    row["restart_interactive_all_s"] = [r.interactive_s for r in restarts]
    context.close()
    return row


REFERENCE_APP = """import streamlit as st

st.title("Generate")
st.button("Generate", type="primary")
"""
"""The least a Streamlit app can be on this machine and in this browser: a title and a button."""


def measure_reference(browser: Any, folder: Path) -> dict[str, float]:
    """A one-button Streamlit app started and opened exactly as Dailies is, in the same run: the floor that
    Streamlit and this machine set, against which the first-page figures can be read as a ratio."""
    script = folder / "reference_app.py"
    script.write_text(REFERENCE_APP)
    home, _ = make_home(folder, 0)
    port = free_port()
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_init_script(SHOWN_WATCH)
    starts = []
    for n in range(RESTARTS + 1):  # the first with nothing cached, then restarts as for Dailies
        for page in context.pages:
            page.close()
        tab = idle_tab(context)
        with running_app(home, folder / "reference.log", port, script=str(script)) as (process, url, started):
            starts.append(first_page(tab, url, started, 0, process.pid, sidebar=False))
            if n == RESTARTS:  # as for Dailies: what a fresh tab costs on the warm server, all frontend
                fresh = first_page(context.new_page(), url, time.time(), 0, process.pid, sidebar=False)
                for page in context.pages:
                    page.close()
                idle = _idle_window(process.pid, "one-button Streamlit app, no tab open", 0)
    context.close()
    restarts = starts[1:]
    return {"first_interactive_s": starts[0].interactive_s,
            "restart_interactive_s": statistics.median(r.interactive_s for r in restarts),
            "restart_browser_busy_s": statistics.median(r.browser_busy_s for r in restarts),
            "restart_server_cpu_s": statistics.median(r.server_cpu_s for r in restarts),
            "fresh_tab_s": fresh.interactive_s, "idle": idle}


def measure_idle(browser: Any, folder: Path) -> list[dict[str, Any]]:
    """Eight idle tabs per page: the server's CPU over the window, and its memory."""
    home, _ = make_home(folder, IDLE_JOBS)
    rows = []
    with running_app(home, folder / "app-idle.log") as (process, url, _):
        warmup = browser.new_context()
        first = warmup.new_page()
        first.goto(url)
        shown(first, "Generate", IDLE_JOBS)
        warmup.close()
        # First the server's own housekeeping with no tab open (its pollers, the store's follower), against
        # which the tabs' share is read.
        rows.append(_idle_window(process.pid, "(no tab open)", 0))
        for title, path in (("Generate", ""), ("Variants", "variants"), ("History", "history"),
                            ("Compare", "compare"), ("Settings", "settings")):
            rss_before = rss_mb(process.pid)
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            tabs = [context.new_page() for _ in range(IDLE_TABS)]
            for tab in tabs:
                tab.goto(f"{url}/{path}")
            for tab in tabs:
                shown(tab, title, IDLE_JOBS)
            rows.append(_idle_window(process.pid, title, IDLE_TABS, rss_before))
            context.close()
    return rows


def _idle_window(pid: int, page: str, tabs: int, rss_before: float | None = None) -> dict[str, Any]:
    """The server's CPU over one idle window (the measuring window itself: nothing waits on it)."""
    rss_before = rss_mb(pid) if rss_before is None else rss_before
    cpu_before, wakes_before, window_started = cpu_seconds(pid), wake_ups(pid), time.perf_counter()
    time.sleep(IDLE_SECONDS)
    window, cpu = time.perf_counter() - window_started, cpu_seconds(pid) - cpu_before
    return {"page": page, "tabs": tabs, "window_s": window, "server_cpu_s": cpu, "core_share_pct": 100 * cpu / window,
            "wake_ups_per_s": (wake_ups(pid) - wakes_before) / window,
            "rss_before_mb": rss_before, "rss_with_tabs_mb": rss_mb(pid)}


def run(quick: bool = False) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        reference = measure_reference(browser, Path(tmp))
        rows = [measure_pages(browser, count, Path(tmp)) for count in (SIZES_QUICK if quick else SIZES_FULL)]
        idle = measure_idle(browser, Path(tmp))
        browser.close()
    for row in rows:
        row["restart_vs_one_button_app"] = row["restart_interactive_s"] / reference["restart_interactive_s"]
    print(pages_table(rows))
    print(f"A one-button Streamlit app, started and opened the same way in this run: restart → interactive "
          f"{reference['restart_interactive_s']:.2f} s (median of {RESTARTS}), first start "
          f"{reference['first_interactive_s']:.2f} s, a fresh tab on its warm server {reference['fresh_tab_s']:.2f} s; "
          "until interactive after a restart the tab's main thread was busy "
          f"{reference['restart_browser_busy_s']:.2f} s "
          f"and the server used {reference['restart_server_cpu_s']:.2f} s of CPU; "
          "Dailies' restart is " + " / ".join(f"{r['restart_vs_one_button_app']:.2f}x" for r in rows) + " of it.")
    idle_headers = list(idle[0])
    print(table(f"Idle tabs: {IDLE_TABS} tabs per page, {IDLE_JOBS:,} jobs, nothing running; server CPU in the window "
                "(last: the one-button Streamlit app's server, for comparison)",
                idle_headers, [[r[h] for h in idle_headers] for r in (*idle, reference["idle"])]))
    goals = goals_met(rows, idle)
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT met'}: {goal}")
    result = {"rows": rows, "idle": idle, "one_button_app": reference, "goals": goals, "goal_met": all(goals.values()),
              "goal": "; ".join(goals), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"wrote {write('pages', result)}")
    return result


def pages_table(rows: list[dict[str, Any]]) -> str:
    """One line per page, first and warm open side by side for each store size."""
    headers = ["page", *(f"{r['jobs']:,} jobs {w}" for r in rows for w in ("first", "warm"))]
    lines = [["start → Generate interactive (browser cache empty)",
              *(x for r in rows for x in (r["first_interactive_s"], ""))],
             ["restart → Generate interactive (browser has been here; median of 5)",
              *(x for r in rows for x in (r["restart_interactive_s"], ""))],
             ["(slowest of the 5)", *(x for r in rows for x in (max(r["restart_interactive_all_s"]), ""))],
             ["(of which: start → server answers)", *(x for r in rows for x in (r["restart_server_up_s"], ""))],
             ["(the tab's main thread busy until then: the frontend's own work)",
              *(x for r in rows for x in (r["restart_browser_busy_s"], ""))],
             ["(the server's CPU from launch until then)", *(x for r in rows for x in (r["restart_server_cpu_s"], ""))],
             ["restart → the sidebar's spend and running count on screen too",
              *(x for r in rows for x in (r["restart_sidebar_s"], ""))],
             ["(a fresh tab on the warm server)", *(x for r in rows for x in (r.get("fresh_tab_s", ""), ""))]]
    lines += [[title, *(r[f"{title}_{w}_s"] for r in rows for w in ("first", "warm"))] for title in PAGES]
    lines.append(["(store written in, s)", *(x for r in rows for x in (r["store_write_s"], ""))])
    lines.append(["(server memory after, MB)", *(x for r in rows for x in (r["server_rss_mb"], ""))])
    return table("Pages: seconds to content on screen, headless Chromium at 1440x1000 (first open; warm: median of "
                 f"{WARM_REPEATS})", headers, lines)


def goals_met(rows: list[dict[str, Any]], idle: list[dict[str, Any]]) -> dict[str, bool]:
    """Issue 13's goals, each checked on the sizes this run measured."""
    by_size = {r["jobs"]: r for r in rows}
    goals = {}
    if 10_000 in by_size:
        goals["History warm < 1 s at 10,000 jobs"] = by_size[10_000]["History_warm_s"] < 1
    if 100_000 in by_size:
        goals["History warm < 3 s at 100,000 jobs"] = by_size[100_000]["History_warm_s"] < 3
    goals["every other page warm < 1 s at every size"] = all(
        r[f"{t}_warm_s"] < 1 for r in rows for t in PAGES if t != "History")
    goals["first page interactive < 2 s after a start (median of 5), browser cache holding the frontend, at every "
          "size"] = all(r["restart_interactive_s"] < 2 for r in rows)
    goals[f"{IDLE_TABS} idle tabs on any page < 3% of a core"] = all(r["core_share_pct"] < 3 for r in idle)
    return goals


if __name__ == "__main__":
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: the page benchmark needs Debian's chromium")
    cli(run, __doc__)
