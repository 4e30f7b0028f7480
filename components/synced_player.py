"""Players side by side that move as one: play, pause, seek, speed and loop for all of them at once.

Streamlit's `st.video` players are independent, which is useless for judging a remix against its
source frame by frame. This is a small HTML component (`st.html` with its script allowed): one
control bar drives every `<video>`; the first is the leader and the others follow it, corrected
when they drift more than a twentieth of a second. The page's text (labels, ids) is escaped, so a
prompt holding HTML shows as text.
"""

from __future__ import annotations

import difflib
import html
import json
import uuid
from dataclasses import dataclass

import streamlit as st

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class Clip:
    label: str
    url: str
    caption: str = ""


_SCRIPT = """
(() => {
  const root = document.getElementById(%(id)s);
  if (!root || root.dataset.wired) return;
  root.dataset.wired = "1";
  const videos = [...root.querySelectorAll("video")];
  const leader = videos[0];
  const play = root.querySelector("[data-role=play]");
  const seek = root.querySelector("[data-role=seek]");
  const clock = root.querySelector("[data-role=clock]");
  const speed = root.querySelector("[data-role=speed]");
  const loop = root.querySelector("[data-role=loop]");
  const longest = () => Math.max(...videos.map(v => v.duration || 0));
  const fmt = t => (t || 0).toFixed(2) + "s";
  const follow = () => {
    for (const v of videos.slice(1)) {
      const want = Math.min(leader.currentTime, (v.duration || Infinity) - 0.01);
      if (Math.abs(v.currentTime - want) > 0.05) v.currentTime = Math.max(0, want);
    }
  };
  const all = f => videos.forEach(f);
  play.addEventListener("click", () => {
    if (leader.paused) { follow(); all(v => v.play().catch(() => {})); play.textContent = "Pause"; }
    else { all(v => v.pause()); follow(); play.textContent = "Play"; }
  });
  seek.addEventListener("input", () => {
    const t = (seek.value / 1000) * longest();
    all(v => { v.currentTime = Math.min(t, Math.max(0, (v.duration || t) - 0.01)); });
  });
  speed.addEventListener("change", () => all(v => { v.playbackRate = Number(speed.value); }));
  loop.addEventListener("change", () => all(v => { v.loop = loop.checked; }));
  leader.addEventListener("timeupdate", () => {
    const d = longest();
    if (d) seek.value = Math.round((leader.currentTime / d) * 1000);
    clock.textContent = fmt(leader.currentTime) + " / " + fmt(d);
    if (!leader.paused) follow();
  });
  leader.addEventListener("ended", () => { if (!loop.checked) { all(v => v.pause()); play.textContent = "Play"; } });
  leader.addEventListener("loadedmetadata", () => { clock.textContent = fmt(0) + " / " + fmt(longest()); });
})();
"""

_STYLE = """
<style>
.synced {display:flex; flex-direction:column; gap:.5rem; font-family:inherit;}
.synced .row {display:grid; grid-template-columns:repeat(%(n)d, minmax(0, 1fr)); gap:.75rem;}
.synced figure {margin:0;}
.synced video {width:100%%; border-radius:.5rem; background:#000;}
.synced figcaption {font-size:.85rem; opacity:.8; margin-top:.25rem; white-space:pre-wrap;}
.synced .bar {display:flex; gap:.75rem; align-items:center; flex-wrap:wrap;}
.synced .bar input[type=range] {flex:1; min-width:10rem;}
.synced button {padding:.25rem .9rem; border-radius:.5rem; border:1px solid rgba(128,128,128,.5);
                background:transparent; color:inherit; cursor:pointer;}
</style>
"""


def synced_player_html(clips: list[Clip], *, element_id: str | None = None) -> str:
    """The component's markup: the players, the control bar and the script that ties them."""
    element_id = element_id or f"synced-{uuid.uuid4().hex[:8]}"
    figures = "".join(
        f'<figure><video data-testid="synced-video" src="{html.escape(clip.url, quote=True)}" preload="metadata" '
        f'muted playsinline></video><figcaption><b>{html.escape(clip.label)}</b>'
        f"{'<br>' + html.escape(clip.caption) if clip.caption else ''}</figcaption></figure>"
        for clip in clips
    )
    speeds = "".join(f'<option value="{s}"{" selected" if s == 1.0 else ""}>{s:g}×</option>' for s in SPEEDS)
    controls = (
        '<div class="bar"><button type="button" data-role="play">Play</button>'
        '<input type="range" data-role="seek" min="0" max="1000" value="0" aria-label="Seek">'
        '<span data-role="clock">0.00s</span>'
        f'<label>Speed <select data-role="speed">{speeds}</select></label>'
        '<label><input type="checkbox" data-role="loop"> Loop</label></div>'
    )
    return (
        _STYLE % {"n": max(1, len(clips))}
        + f'<div class="synced" id="{element_id}"><div class="row">{figures}</div>{controls}</div>'
        + f"<script>{_SCRIPT % {'id': json.dumps(element_id)}}</script>"
    )


def synced_player(clips: list[Clip], *, key: str) -> None:
    """Show the clips side by side with one set of controls."""
    if not clips:
        st.info("Nothing to play yet.")
        return
    st.html(synced_player_html(clips, element_id=f"synced-{key}"), unsafe_allow_javascript=True)


def prompt_diff_html(before: str, after: str) -> str:
    """Word-level difference of two prompts: removed words struck through, added words marked."""
    a, b = before.split(), after.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f'<del style="color:#d9534f">{html.escape(" ".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            parts.append(f'<ins style="color:#2e8b57">{html.escape(" ".join(b[j1:j2]))}</ins>')
        if op == "equal":
            parts.append(html.escape(" ".join(a[i1:i2])))
    return '<p data-testid="prompt-diff" style="line-height:1.6">' + " ".join(parts) + "</p>"
