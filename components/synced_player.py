"""Players side by side that move as one: play, pause, seek, speed and loop for all of them at once.

Streamlit's `st.video` players are independent, which is useless for judging a remix against its
source frame by frame. This is a small HTML component (`st.html` with its script allowed): one
control bar drives every `<video>`. The longest clip leads (an extension runs past its source), and
the others follow its clock, corrected when they drift more than a twentieth of a second; past its
own end a shorter clip holds its last frame, or loops if the team chose so. Seeking and playing go
on from where the clock stands, never from 0, and a clip is never told to play past its end (a
browser restarts an ended video from 0). Players are sized to the window's height and the control
bar sticks to the bottom of the window, so portrait takes never push the controls off screen. The
page's text (labels, ids) is escaped, so a prompt holding HTML shows as text.
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
  const play = root.querySelector("[data-role=play]");
  const seek = root.querySelector("[data-role=seek]");
  const clock = root.querySelector("[data-role=clock]");
  const speed = root.querySelector("[data-role=speed]");
  const loop = root.querySelector("[data-role=loop]");
  const shorter = root.querySelector("[data-role=shorter]");
  const bar = root.querySelector(".bar");  // opaque in the theme's colour: it sticks over the players
  bar.style.background = getComputedStyle(document.querySelector(".stApp") || document.body).backgroundColor;
  const END = 0.01;  // how far before its end a held clip waits: its last frame, and never "ended"
  const dur = v => (isFinite(v.duration) && v.duration > 0) ? v.duration : 0;
  const longest = () => Math.max(0, ...videos.map(dur));
  const leader = () => videos.reduce((a, b) => dur(b) > dur(a) ? b : a, videos[0]);
  const fmt = t => (t || 0).toFixed(2) + "s";
  let playing = false;
  // A clip as long as the leader loops with it (Loop); a shorter one loops on its own if so chosen.
  const wantsLoop = v => dur(leader()) - dur(v) < 0.05 ? loop.checked : shorter.value === "loop";
  const show = () => {
    const d = longest(), t = leader().currentTime;
    if (d) seek.value = Math.round((t / d) * 1000);
    clock.textContent = fmt(t) + " / " + fmt(d);
    root.dataset.leader = String(videos.indexOf(leader()));
  };
  // Put every follower where the leader's clock says; play it only while that is inside the clip.
  const follow = (force) => {
    const lead = leader(), t = lead.currentTime, looping = shorter.value === "loop";
    for (const v of videos) {
      if (v === lead) continue;
      const d = dur(v);
      if (!d) continue;
      const past = t >= d - END;
      const want = past ? (looping ? t %% d : d - END) : t;
      v.loop = wantsLoop(v);
      if (force || Math.abs(v.currentTime - want) > 0.05) v.currentTime = want;
      if (playing && !(past && !looping)) { if (v.paused) v.play().catch(() => {}); }
      else if (!v.paused) v.pause();
    }
  };
  play.addEventListener("click", () => {
    const lead = leader();
    if (!playing) {
      if (lead.ended || lead.currentTime >= dur(lead) - END) lead.currentTime = 0;  // the end: play again
      playing = true; follow(true); lead.play().catch(() => {}); play.textContent = "Pause";
    } else {
      playing = false; videos.forEach(v => v.pause()); follow(true); play.textContent = "Play";
    }
  });
  seek.addEventListener("input", () => {
    const lead = leader(), d = dur(lead);
    lead.currentTime = Math.min((seek.value / 1000) * d, Math.max(0, d - END));
    follow(true); show();
  });
  speed.addEventListener("change", () => videos.forEach(v => { v.playbackRate = Number(speed.value); }));
  loop.addEventListener("change", () => videos.forEach(v => { v.loop = wantsLoop(v); }));
  shorter.addEventListener("change", () => follow(true));
  for (const v of videos) {
    v.addEventListener("timeupdate", () => { if (v === leader()) { show(); if (playing) follow(false); } });
    v.addEventListener("ended", () => {
      if (v !== leader() || loop.checked) return;
      playing = false; videos.forEach(x => x.pause()); play.textContent = "Play"; show();
    });
    v.addEventListener("loadedmetadata", () => {
      videos.forEach(x => { x.loop = wantsLoop(x); });
      show();
    });
  }
})();
"""

_STYLE = """
<style>
.synced {display:flex; flex-direction:column; gap:.5rem; font-family:inherit;}
.synced .row {display:flex; gap:.75rem; justify-content:center; align-items:flex-start;}
.synced figure {margin:0; flex:1 1 0; min-width:0; display:flex; flex-direction:column; align-items:center;}
.synced video {display:block; max-width:100%; max-height:calc(100vh - 24rem); border-radius:.5rem;
               background:#000;}
.synced figcaption {font-size:.85rem; opacity:.8; margin-top:.25rem; white-space:pre-wrap; align-self:stretch;}
.synced .bar {display:flex; gap:.75rem; align-items:center; flex-wrap:wrap; position:sticky; bottom:0; z-index:1;
              padding:.4rem 0;}
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
        '<label><input type="checkbox" data-role="loop"> Loop</label>'
        '<label>Shorter clips <select data-role="shorter"><option value="hold" selected>hold last frame</option>'
        '<option value="loop">loop</option></select></label></div>'
    )
    return (
        _STYLE
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
