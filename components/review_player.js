// The reviewer's player (components/review_player.py): one to four takes on one timeline, frame steps,
// J/K/L and Space, notes pinned to the target take's frame (or an in/out range), drawings on the paused frame,
// and compare modes (side by side, wipe, difference, overlay). Every frame number comes from the rule the core
// uses (`Clock.frame_at_time`: floor(t * fps), and `Clock.seek_time`: the middle of the frame); the frame rate and
// the timecode base come from the core with the data. People's text is only ever set as textContent.
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const host = parentElement;
  let p = host.__reviewPlayer;
  const shape = JSON.stringify({ takes: data.takes.map(t => [t.url, t.offset]), mode: data.mode, target: data.target });
  if (!p || p.shape !== shape || !p.root.isConnected) {
    const keep = p ? p.frame() : null;
    if (p) p.destroy();
    p = build(host, data, setTriggerValue);
    p.shape = shape;
    host.__reviewPlayer = p;
    if (keep !== null) p.whenReady(() => p.seekTarget(keep));
  }
  p.update(data);
  return undefined;
}

const SVG = "http://www.w3.org/2000/svg";
const END = 0.01;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function timecode(frame, base) {
  const pad = n => String(n).padStart(2, "0");
  const ff = frame % base, s = Math.floor(frame / base);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}:${pad(ff)}`;
}

function build(host, data, setTriggerValue) {
  let state = data;
  // numbers as numbers, whatever the transport made of them ("5" + 11 would be "511")
  // A take whose file is not on the server (only in the team's bucket) has no frame rate from the core: it plays
  // by time, kept in step at the rate of a take that has one, and shows no frame numbers.
  const rate = Number((data.takes.find(t => Number(t.fps) > 0) || {}).fps) || 1000;
  const takes = data.takes.map(t => { const known = Number(t.fps) > 0;
    return { ...t, known, fps: known ? Number(t.fps) : rate, base: known ? Number(t.base) : 0,
             frames: known ? Number(t.frames) : Infinity, offset: Number(t.offset) || 0 }; });
  const target = Number(data.target) || 0, mode = data.mode;
  const stacked = mode !== "side" && takes.length >= 2;
  const root = el("div", { class: "rp synced", "data-testid": "review-player", "data-mode": stacked ? mode : "side",
                           tabindex: "0" });
  root.dataset.offsets = takes.map(t => t.offset).join(",");
  const stage = el("div", { class: stacked ? "rp-stack" : "rp-row", "data-role": "stage" });
  const videos = [], readouts = [];
  const overlay = svgEl("svg", { class: "rp-overlay", "data-role": "overlay" });
  const saved = svgEl("g", { "data-layer": "saved" }), draft = svgEl("g", { "data-layer": "draft" });
  overlay.append(saved, draft);
  const video = (take, i) => {
    const v = el("video", { "data-testid": "synced-video", "data-side": String(i), src: take.url, preload: "auto",
                            muted: "", playsinline: "" });
    v.muted = true;
    videos.push(v);
    return v;
  };
  if (stacked) {
    const box = el("div", { class: "rp-box" });
    const under = video(takes[0], 0), over = video(takes[1], 1);
    over.classList.add("rp-top");
    box.append(under, over, overlay);
    if (mode === "wipe") {
      const handle = el("div", { class: "rp-wipe", "data-role": "wipe", title: "Drag to move the split" });
      box.append(handle);
      let split = 50;
      const place = () => { over.style.clipPath = `inset(0 0 0 ${split}%)`; handle.style.left = `${split}%`;
                            root.dataset.split = String(Math.round(split)); };
      const drag = e => { const r = box.getBoundingClientRect();
                          split = Math.min(100, Math.max(0, ((e.clientX - r.left) / r.width) * 100)); place(); };
      handle.addEventListener("pointerdown", e => { handle.setPointerCapture(e.pointerId); drag(e); });
      handle.addEventListener("pointermove", e => { if (handle.hasPointerCapture(e.pointerId)) drag(e); });
      place();
    } else if (mode === "difference") {
      over.style.mixBlendMode = "difference";
    } else {
      over.dataset.role = "overlaid";
    }
    stage.append(box);
    const caps = el("div", { class: "rp-caps" });
    takes.slice(0, 2).forEach((t, i) => {
      const cap = el("div", { class: "rp-cap" });
      cap.append(el("b", {}, t.label));
      const r = el("span", { "data-role": "side-frame", "data-side": String(i) });
      readouts.push(r);
      cap.append(document.createTextNode(" "), r);
      caps.append(cap);
    });
    stage.append(caps);
  } else {
    takes.forEach((t, i) => {
      const fig = el("figure", {});
      const box = el("div", { class: "rp-box" });
      box.append(video(t, i));
      if (i === target) box.append(overlay);
      fig.append(box);
      const cap = el("figcaption", {});
      cap.append(el("b", {}, t.label));
      if (t.caption) cap.append(el("br"), document.createTextNode(t.caption));
      const r = el("span", { "data-role": "side-frame", "data-side": String(i) });
      readouts.push(r);
      cap.append(el("br"), r);
      fig.append(cap);
      stage.append(fig);
    });
  }
  const lead = videos[Math.min(target, videos.length - 1)];
  const leadTake = takes[videos.indexOf(lead)];

  // -- the control bar ------------------------------------------------------------------------------
  const bar = el("div", { class: "rp-bar bar" });
  const btn = (role, label, title) => el("button", { type: "button", "data-role": role, title }, label);
  const back = btn("back", "◀ 1", "One frame back (← or ,)"), play = btn("play", "Play", "Play / pause (Space, L / K)");
  const fwd = btn("fwd", "1 ▶", "One frame forward (→ or .)");
  const frameOut = el("span", { "data-role": "frame", class: "rp-read" });
  const tcOut = el("span", { "data-role": "timecode", class: "rp-read" });
  const inOut = el("span", { "data-role": "in-out", class: "rp-read" });
  const seek = el("input", { type: "range", min: "0", max: "1000", value: "0", "data-role": "seek", "aria-label": "Seek" });
  const clock = el("span", { "data-role": "clock", class: "rp-read" }, "0.00s");
  const speed = el("select", { "data-role": "speed", "aria-label": "Speed" });
  for (const r of ["0.25", "0.5", "1.0", "1.5", "2.0"]) {
    const o = el("option", { value: r }, `${Number(r)}×`);
    o.selected = r === "1.0";
    speed.append(o);
  }
  const loopBox = el("input", { type: "checkbox", "data-role": "loop" });
  const loopLabel = el("label", {}); loopLabel.append(loopBox, document.createTextNode(" Loop"));
  const shorter = el("select", { "data-role": "shorter", "aria-label": "Shorter clips" });
  shorter.append(el("option", { value: "hold" }, "hold last frame"), el("option", { value: "loop" }, "loop"));
  const shorterLabel = el("label", {}, "Shorter clips ");
  shorterLabel.append(shorter);
  bar.append(back, play, fwd, seek, tcOut, frameOut, inOut, clock, speed, loopLabel);
  if (takes.length > 1) bar.append(shorterLabel);
  if (mode === "overlay" && stacked) {
    const label = el("label", {}, "Opacity ");
    const opacity = el("input", { type: "range", min: "0", max: "100", value: String(Math.round(data.opacity * 100)),
                                  "data-role": "opacity", "aria-label": "Opacity of the second take" });
    const apply = () => { videos[1].style.opacity = String(opacity.value / 100); };
    opacity.addEventListener("input", apply);
    apply();
    label.append(opacity);
    bar.append(label);
  }

  // -- drawing tools ----------------------------------------------------------------------------------
  const tools = el("div", { class: "rp-tools" });
  let tool = "none", colour = Object.keys(data.palette)[0];
  const toolButtons = [["none", "Point"], ["line", "Line"], ["arrow", "Arrow"], ["rect", "Rectangle"],
                       ["ellipse", "Ellipse"], ["text", "Text"]].map(([kind, label]) => {
    const b = el("button", { type: "button", "data-tool": kind, "aria-pressed": String(kind === "none") }, label);
    b.addEventListener("click", () => {
      tool = kind;
      toolButtons.forEach(x => x.setAttribute("aria-pressed", String(x === b)));
      overlay.classList.toggle("rp-drawing", kind !== "none");
      if (kind !== "none") pauseAll();
    });
    return b;
  });
  const colours = el("select", { "data-role": "colour", "aria-label": "Colour" });
  for (const name of Object.keys(data.palette)) colours.append(el("option", { value: name }, name));
  colours.addEventListener("change", () => { colour = colours.value; });
  const shapeText = el("input", { type: "text", "data-role": "shape-text", placeholder: "text to place",
                                  maxlength: "200", "aria-label": "Text to place on the frame" });
  const clear = el("button", { type: "button", "data-role": "clear-drawing" }, "Clear drawing");
  tools.append(el("span", {}, "Draw: "), ...toolButtons, colours, shapeText, clear);

  // -- the note form and the notes list ---------------------------------------------------------------
  const form = el("div", { class: "rp-form" });
  const noteText = el("textarea", { "data-role": "note-text", rows: "2", maxlength: "4000",
                                    placeholder: "A note at this frame (i / o set an in/out range)",
                                    "aria-label": "Note" });
  const add = el("button", { type: "button", "data-role": "add-note" }, "Add note");
  form.append(noteText, add);
  const list = el("ol", { class: "rp-notes", "data-role": "notes" });
  root.append(stage, bar, tools, form, list);
  host.append(root);
  // opaque in the theme's colour: the bar sticks to the bottom of the window, over the players
  bar.style.background = getComputedStyle(document.querySelector(".stApp") || document.body).backgroundColor;

  // -- the clock --------------------------------------------------------------------------------------
  const dur = v => (isFinite(v.duration) && v.duration > 0) ? v.duration : 0;
  const takeOf = v => takes[videos.indexOf(v)];
  const frameOf = v => { const t = takeOf(v), last = t.known ? t.frames - 1 : Math.floor(dur(v) * t.fps);
                         return Math.min(last, Math.max(0, Math.floor(v.currentTime * t.fps + 1e-6))); };
  const seekTime = (t, f) => (f + 0.5) / t.fps;  // Clock.seek_time
  const offset = v => takeOf(v).offset || 0;
  let playing = false, shuttle = null, inFrame = null, outFrame = null, drafts = [];

  const show = () => {
    const f = frameOf(lead);
    frameOut.textContent = leadTake.known ? `frame ${f} / ${leadTake.frames - 1}` : "frame rate unknown here";
    tcOut.textContent = leadTake.known ? timecode(f, leadTake.base) : "";
    root.dataset.frame = String(f);
    videos.forEach((v, i) => { const fi = frameOf(v), t = takeOf(v);
                               if (readouts[i]) readouts[i].textContent = t.known ? `frame ${fi} · ${timecode(fi, t.base)}` : "";
                               v.dataset.frame = String(fi); });
    inOut.textContent = inFrame === null ? "" : `in ${inFrame}` + (outFrame === null ? "" : ` · out ${outFrame}`);
    drawSaved(f);
    showClock();
  };
  // The lead take's frame `f` on every player: each side at f plus its own offset, at the middle of its frame.
  // Frame `shared` of the common timeline on every player (each at its own offset; a shorter one holds its last).
  const seekShared = shared => {
    for (const v of videos) {
      const t = takeOf(v), fi = Math.max(0, shared + offset(v));
      v.currentTime = t.known ? seekTime(t, Math.min(t.frames - 1, fi)) : Math.max(0, Math.min(seekTime(t, fi), dur(v) - END));
    }
    show();
  };
  const seekTarget = f => seekShared(f - offset(lead));
  const driver = () => videos.reduce((a, b) => dur(b) > dur(a) ? b : a, videos[0]);
  // where the common timeline stands: the driving (longest) clip's frame less its offset
  const sharedFrame = () => { const d = driver(); return frameOf(d) - offset(d); };
  const wantsLoop = v => dur(driver()) - dur(v) < 0.05 ? loopBox.checked : shorter.value === "loop";
  const showClock = () => {
    const d = driver(), t = d.currentTime, len = dur(d);
    if (len) seek.value = String(Math.round((t / len) * 1000));
    clock.textContent = `${(t || 0).toFixed(2)}s / ${len.toFixed(2)}s`;
    root.dataset.leader = String(videos.indexOf(d));
  };
  const pauseAll = () => {
    playing = false;
    if (shuttle) { clearInterval(shuttle); shuttle = null; }
    videos.forEach(v => { v.pause(); v.playbackRate = Number(speed.value); });
    play.textContent = "Play";
    // come to rest on the middle of the frame showing, so a note lands where the eye is
    setTimeout(() => seekShared(sharedFrame()), 0);
  };
  // Every other clip where the driver's clock says (plus its offset); past its end a shorter one holds its last
  // frame, or loops if so chosen; never told to play past its end (a browser restarts an ended video from 0).
  const follow = force => {
    const d = driver(), shared = d.currentTime * takeOf(d).fps - offset(d), looping = shorter.value === "loop";
    for (const v of videos) {
      if (v === d || !dur(v)) continue;
      const len = dur(v), raw = Math.max(0, (shared + offset(v)) / takeOf(v).fps), past = raw >= len - END;
      const want = past ? (looping ? raw % len : len - END) : raw;
      v.loop = wantsLoop(v);
      if (force || Math.abs(v.currentTime - want) > 0.1) v.currentTime = want;
      if (playing && !(past && !looping)) { if (v.paused) v.play().catch(() => {}); } else if (!v.paused) v.pause();
    }
  };
  const playAll = rate => {
    if (shuttle) { clearInterval(shuttle); shuttle = null; }
    const d = driver();
    if (d.ended || d.currentTime >= dur(d) - END) d.currentTime = 0;  // the end: play again
    playing = true;
    videos.forEach(v => { v.playbackRate = rate; v.loop = wantsLoop(v); });
    follow(true);
    d.play().catch(() => {});
    play.textContent = "Pause";
  };
  const step = d => { if (playing || shuttle) pauseAll(); seekShared(sharedFrame() + d); };
  const reverse = () => {  // J: a browser does not play backwards, so step back a frame at a time
    if (playing) { playing = false; videos.forEach(v => v.pause()); play.textContent = "Play"; }
    if (shuttle) return;
    shuttle = setInterval(() => { const f = sharedFrame(); if (f <= 0) { pauseAll(); return; } seekShared(f - 1); },
                          1000 / leadTake.fps);
  };
  play.addEventListener("click", () => (playing ? pauseAll() : playAll(Number(speed.value))));
  seek.addEventListener("input", () => {
    const d = driver(), len = dur(d);
    d.currentTime = Math.min((seek.value / 1000) * len, Math.max(0, len - END));
    follow(true); show();
  });
  speed.addEventListener("change", () => videos.forEach(v => { v.playbackRate = Number(speed.value); }));
  loopBox.addEventListener("change", () => videos.forEach(v => { v.loop = wantsLoop(v); }));
  shorter.addEventListener("change", () => follow(true));
  back.addEventListener("click", () => step(-1));
  fwd.addEventListener("click", () => step(1));
  videos.forEach(v => {
    v.addEventListener("timeupdate", () => { if (v === driver()) { show(); if (playing) follow(false); } });
    v.addEventListener("seeked", show);
    v.addEventListener("ended", () => {
      if (v !== driver() || loopBox.checked) return;
      playing = false; videos.forEach(x => x.pause()); play.textContent = "Play"; show();
    });
  });

  const typing = e => { const t = e.composedPath ? e.composedPath()[0] : e.target;
                        return t && (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable); };
  // Several players on one page (a round's takes, a guest's): the keys drive the one last clicked or focused.
  const claim = () => { window.__dailiesKeyPlayer = root; };
  root.addEventListener("pointerdown", claim);
  root.addEventListener("focusin", claim);
  const mine = () => document.querySelectorAll("[data-testid='review-player']").length < 2
                     || window.__dailiesKeyPlayer === root;
  const onKey = e => {
    if (!root.isConnected || typing(e) || e.ctrlKey || e.metaKey || e.altKey || !mine()) return;
    const k = e.key;
    if (k === " ") { playing ? pauseAll() : playAll(1); }
    else if (k === "k" || k === "K") pauseAll();
    else if (k === "l" || k === "L") playAll(playing ? Math.min(4, driver().playbackRate * 2) : 1);
    else if (k === "j" || k === "J") reverse();
    else if (k === "ArrowLeft" || k === ",") step(-1);
    else if (k === "ArrowRight" || k === ".") step(1);
    else if (k === "i" || k === "I") { inFrame = frameOf(lead); outFrame = null; show(); }
    else if (k === "o" || k === "O") { const f = frameOf(lead);
                                       if (inFrame !== null && f > inFrame) outFrame = f; show(); }
    else return;
    e.preventDefault();
  };
  document.addEventListener("keydown", onKey);

  // -- drawings: normalised 0..1 coordinates, drawn in the overlay's pixels --------------------------
  const px = ([x, y]) => [x * overlay.clientWidth, y * overlay.clientHeight];
  const draw = (g, s) => {
    const c = state.palette[s.colour] || "#ff3b30", line = { stroke: c, "stroke-width": 3, fill: "none" };
    if (s.kind === "rect" || s.kind === "ellipse") {
      const [x0, y0] = px([s.box[0], s.box[1]]), [x1, y1] = px([s.box[2], s.box[3]]);
      g.append(s.kind === "rect"
        ? svgEl("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, ...line })
        : svgEl("ellipse", { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: (x1 - x0) / 2, ry: (y1 - y0) / 2, ...line }));
    } else if (s.kind === "line") {
      g.append(svgEl("polyline", { points: s.points.map(q => px(q).join(",")).join(" "), ...line,
                                   "stroke-linecap": "round", "stroke-linejoin": "round" }));
    } else if (s.kind === "arrow") {
      const [a, b] = s.points.map(px), ang = Math.atan2(b[1] - a[1], b[0] - a[0]), h = 14;
      const wing = d => [b[0] - h * Math.cos(ang + d), b[1] - h * Math.sin(ang + d)].join(",");
      const arrow = svgEl("g", { "data-kind": "arrow" });
      arrow.append(svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], ...line }),
                   svgEl("polygon", { points: `${b.join(",")} ${wing(0.45)} ${wing(-0.45)}`, fill: c }));
      g.append(arrow);
    } else if (s.kind === "text") {
      const [x, y] = px(s.points[0]);
      const t = svgEl("text", { x, y, fill: c, "font-size": 18, "font-weight": 600, "dominant-baseline": "hanging" });
      t.textContent = s.text;
      g.append(t);
    }
  };
  const drawSaved = f => {
    saved.replaceChildren();
    for (const n of state.notes) {
      const last = n.end_frame === null ? n.frame : n.end_frame;
      if (n.drawing && n.drawing.length && f >= n.frame && f <= last) n.drawing.forEach(s => draw(saved, s));
    }
    saved.dataset.frame = String(f);
  };
  const drawDrafts = (extra) => { draft.replaceChildren(); [...drafts, ...(extra ? [extra] : [])].forEach(s => draw(draft, s)); };
  const norm = e => { const r = overlay.getBoundingClientRect();
                      const c = v => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
                      return [c((e.clientX - r.left) / r.width), c((e.clientY - r.top) / r.height)]; };
  let current = null;
  overlay.addEventListener("pointerdown", e => {
    if (tool === "none") return;
    e.preventDefault();
    const at = norm(e);
    if (tool === "text") {
      const words = shapeText.value.trim();
      if (words) { drafts.push({ kind: "text", colour, points: [at], text: words }); drawDrafts(); }
      return;
    }
    overlay.setPointerCapture(e.pointerId);
    current = tool === "line" || tool === "arrow" ? { kind: tool, colour, points: [at, at] }
                                                  : { kind: tool, colour, box: [...at, ...at] };
    drawDrafts(current);
  });
  overlay.addEventListener("pointermove", e => {
    if (!current) return;
    const at = norm(e);
    if (current.kind === "line") { if (current.points.length < 2000) current.points.push(at); }
    else if (current.kind === "arrow") current.points[1] = at;
    else current.box = [current.box[0], current.box[1], ...at];
    drawDrafts(current);
  });
  const finish = () => {
    if (!current) return;
    const s = current; current = null;
    const far = s.box ? Math.abs(s.box[2] - s.box[0]) + Math.abs(s.box[3] - s.box[1])
                      : Math.abs(s.points.at(-1)[0] - s.points[0][0]) + Math.abs(s.points.at(-1)[1] - s.points[0][1]);
    if (far > 0.005) drafts.push(s);
    drawDrafts();
    root.dataset.drafts = String(drafts.length);
  };
  overlay.addEventListener("pointerup", finish);
  overlay.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => { drafts = []; drawDrafts(); root.dataset.drafts = "0"; });
  const resize = new ResizeObserver(() => { drawDrafts(); drawSaved(frameOf(lead)); });
  resize.observe(overlay);

  add.addEventListener("click", () => {
    const f = inFrame !== null && outFrame !== null ? inFrame : frameOf(lead);
    const end = inFrame !== null && outFrame !== null ? outFrame : null;
    setTriggerValue("note", { frame: f, end_frame: end, text: noteText.value, drawing: drafts });
    noteText.value = ""; drafts = []; inFrame = outFrame = null; drawDrafts(); show();
  });

  const renderNotes = () => {
    list.replaceChildren();
    for (const n of state.notes) {
      const item = el("li", {});
      const b = el("button", { type: "button", "data-role": "note", "data-frame": String(n.frame) });
      const where = n.end_timecode ? `${n.timecode}–${n.end_timecode}` : n.timecode;
      b.append(el("span", { class: "rp-tc" }, where), el("span", { class: "rp-fr" }, ` #${n.frame} `));
      b.append(el("span", { "data-role": "note-body" }, `${n.author}: ${n.text}`));
      if (n.drawing && n.drawing.length) b.append(el("span", { class: "rp-fr" }, " ✎"));
      if (n.done) b.append(el("span", { class: "rp-fr", "data-role": "note-done-mark" }, ` (done, ${n.done_by || ""})`));
      b.addEventListener("click", () => { pauseAll(); setTimeout(() => seekTarget(n.frame), 0); });
      item.append(b);
      // replies as text, then (where notes may be written) a reply box and done / reopen for this note
      for (const r of (n.replies || [])) item.append(el("div", { class: "rp-reply", "data-role": "reply" }, `↳ ${r.author}: ${r.text}`));
      if (state.writable) {
        const row = el("div", { class: "rp-note-actions" });
        const text = el("input", { type: "text", maxlength: "4000", "data-role": "reply-text", placeholder: "Reply",
                                   "aria-label": "Reply to this note" });
        const send = el("button", { type: "button", "data-role": "reply-send" }, "Reply");
        send.addEventListener("click", () => {
          if (!text.value.trim()) return;
          setTriggerValue("note", { action: "reply", id: n.id, text: text.value });
          text.value = "";
        });
        const done = el("button", { type: "button", "data-role": "note-done" }, n.done ? "Reopen" : "Done");
        done.addEventListener("click", () => setTriggerValue("note", { action: "done", id: n.id, done: !n.done }));
        row.append(text, send, done);
        item.append(row);
      }
      list.append(item);
    }
    form.hidden = !state.writable;
    tools.hidden = !state.writable;
  };

  const ready = [];
  const whenReady = fn => { if (videos.every(v => v.readyState >= 1)) fn(); else ready.push(fn); };
  videos.forEach(v => v.addEventListener("loadedmetadata", () => {
    v.loop = wantsLoop(v);
    if (videos.every(x => x.readyState >= 1)) { ready.splice(0).forEach(fn => fn()); if (!playing) seekTarget(frameOf(lead)); }
  }));
  let lastSeek = null;
  return {
    root,
    frame: () => frameOf(lead),
    seekTarget,
    whenReady,
    update(next) {
      state = next;
      renderNotes();
      if (next.seek && next.seek.nonce !== lastSeek) {
        lastSeek = next.seek.nonce;
        whenReady(() => seekTarget(next.seek.frame));
      }
      show();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      resize.disconnect();
      if (shuttle) clearInterval(shuttle);
      videos.forEach(v => v.pause());
      root.remove();
    },
  };
}
