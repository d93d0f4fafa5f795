// The page: submit a link or a file with its options, follow the job, watch, fix and take
// away its clips. Tokens live in this browser's localStorage only; nothing is shared
// between browsers. Every request goes to this server's own API (see /docs).
"use strict";

const STORE = "clips.tokens";
const POLL_MS = 2000;            // the video on screen
const HISTORY_POLL_MS = 5000;    // every other unfinished video, in one batch request
const BATCH_MAX = 50;
const FINAL = new Set(["completed", "failed", "cancelled"]);
const LIVE = new Set(["queued", "running", "retrying"]);
const STEP_NAMES = {download: "Download", transcribe: "Transcribe", classify: "Classify",
                    find_clips: "Find clips", render: "Render"};
const FORMAT_NAMES = {vertical: "Vertical 9:16", square: "Square 1:1", landscape: "Landscape"};
const ASPECT = {vertical: "9 / 16", square: "1 / 1", landscape: "16 / 9"};
const LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "sv", "ru", "uk", "tr", "ar",
                   "hi", "ja", "ko", "zh"];
// What each failure cause means for the person who submitted the video.
const CAUSES = {
  invalid_url: "The link is not a valid web address.",
  unsupported_url: "No video could be found at this link.",
  private_url: "The link points to a private or local address, which this server does not fetch.",
  not_found: "The video was not found at that address (404).",
  forbidden: "The video is private, needs a login, or is not available here.",
  http_4xx: "The site refused to hand over the video.",
  not_a_video: "The file has no sound or picture to work with.",
  corrupt_media: "The file could not be read as a video. It may be damaged or cut short.",
  too_long: "The video is longer than this server accepts.",
  too_large: "The video is larger than this server accepts.",
  no_speech: "No speech was heard in the video, so there is nothing to clip.",
  attempts_exhausted: "A step kept failing, so the job was given up.",
  llm_rejected: "The analysis service refused the request.",
  network: "The network failed while fetching the video.",
  http_5xx: "The site or a service was failing.",
  rate_limited: "The site or a service asked us to slow down.",
  llm_unavailable: "The analysis service was not answering.",
  llm_bad_output: "The analysis service gave an unusable answer.",
  storage_rejected: "The file store refused the files.",
  storage_unavailable: "The file store was not answering.",
  database: "The server's database had a problem.",
  lease_lost: "The worker handling the job stopped.",
  worker_lost: "The worker handling the job stopped.",
  internal_error: "Something went wrong on the server.",
  cancelled: "You cancelled this job.",
};
const HTTP_WORDS = {
  400: "That could not be used. Check the link and the options.",
  404: "The server does not know this video.",
  409: "That cannot be done right now.",
  413: "The file is larger than this server accepts.",
  415: "That file is not a video or audio file this server can read.",
  429: "Too many requests at once. Wait a minute, then try again.",
};

const $ = (id) => document.getElementById(id);
const state = {
  current: null,        // token shown in the job card
  timer: null,
  body: null,           // its last status
  transcript: null,     // {token, segments, words}
  presets: {},          // caption style presets, from /openapi.json
  editing: null,        // {index, first, last} word indexes of the clip being edited
  announced: "",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v; else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function announce(text) {
  if (!text || text === state.announced) return;
  state.announced = text;
  $("announce").textContent = text;
}

function fmtTime(s) {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function fmtPrecise(s) {
  return `${fmtTime(s)}.${Math.floor((s % 1) * 10)}`;
}

// ---- problems: words for people, the raw detail behind a toggle -------------------------

function showProblem(box, words, detail) {
  box.replaceChildren(el("p", {}, words));
  if (detail) {
    box.append(el("details", {}, el("summary", {}, "Details"), el("pre", {tabindex: "0"}, detail)));
  }
  box.classList.remove("hidden");
}

function hideProblem(box) {
  box.replaceChildren();
  box.classList.add("hidden");
}

async function problemOf(resp) {
  let detail = resp.statusText;
  try { detail = (await resp.json()).error || detail; } catch { /* not JSON */ }
  return [HTTP_WORDS[resp.status] || `The server answered ${resp.status}.`, detail];
}

// ---- history: the tokens this browser submitted ------------------------------------------

function history() {
  try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch { return []; }
}

function saveHistory(list) {
  localStorage.setItem(STORE, JSON.stringify(list.slice(0, BATCH_MAX)));
}

function remember(token, entry) {
  saveHistory([{token, ...entry, created: new Date().toISOString()},
               ...history().filter((h) => h.token !== token)]);
}

function updateHistory(token, fields) {
  saveHistory(history().map((h) => (h.token === token ? {...h, ...fields} : h)));
}

function forget(token) {
  saveHistory(history().filter((h) => h.token !== token));
  if (state.current === token) closeJob();
  renderHistory();
  const next = document.querySelector("#history .open");
  (next || $("history-heading")).focus();
}

function sourceLabel(h) {
  if (h.kind === "upload") return "File";
  try { return "Link · " + new URL(h.url).host; } catch { return "Link"; }
}

// What a link is called until the server knows the video's title: its file or page name.
function linkName(url) {
  try {
    const u = new URL(url);
    const last = u.pathname.split("/").filter(Boolean).pop();
    return (last && decodeURIComponent(last)) || u.host;
  } catch { return url; }
}

function badgeText(status, extra) {
  return extra ? `${status} · ${extra}` : status;
}

function renderHistory() {
  const list = history();
  $("history-empty").classList.toggle("hidden", list.length > 0);
  $("history").replaceChildren(...list.map((h) => {
    const name = h.title || h.label;
    const when = new Date(h.created).toLocaleString([], {dateStyle: "short", timeStyle: "short"});
    const status = h.status || "queued";
    const open = el("button", {class: "open", type: "button",
                               "aria-current": h.token === state.current ? "true" : null},
      el("span", {class: "name"}, name),
      el("span", {class: "meta"},
        el("span", {class: "badge " + status}, badgeText(status, h.rendering ? "rendering" : "")),
        ` ${sourceLabel(h)} · ${when}`));
    open.addEventListener("click", () => show(h.token));
    const remove = el("button", {class: "remove secondary small", type: "button",
                                 "aria-label": `Remove ${name} from this list`}, "✕");
    remove.addEventListener("click", () => forget(h.token));
    return el("li", {class: h.token === state.current ? "entry active" : "entry", "data-token": h.token},
      open, remove);
  }));
}

// Every unfinished video's badge, one request for all of them (the rate limit counts
// requests, and a history of 50 polled one by one would spend it).
async function pollHistory() {
  const stale = history().filter((h) => h.token !== state.current && (!FINAL.has(h.status) || h.rendering));
  if (stale.length) {
    try {
      const tokens = stale.map((h) => h.token).slice(0, BATCH_MAX).join(",");
      const resp = await fetch("/public/video/statuses?tokens=" + encodeURIComponent(tokens));
      if (resp.ok) {
        const body = await resp.json();
        for (const v of body.videos) {
          updateHistory(v.token, {status: v.status, title: v.title || undefined, rendering: v.rendering});
        }
        for (const t of body.unknown) updateHistory(t, {status: "gone"});
        renderHistory();
      }
    } catch { /* offline for a moment: the next round tries again */ }
  }
  setTimeout(pollHistory, HISTORY_POLL_MS);
}

// ---- submitting --------------------------------------------------------------------------

function styleChoice() {
  return {preset: $("opt-style").value, size: $("opt-size").value,
          highlight: $("opt-highlight").value.toUpperCase(), position: $("opt-position").value};
}

function chosenOptions() {
  const opts = {format: document.querySelector("input[name=format]:checked").value,
                captions: $("opt-captions").checked, caption_style: styleChoice()};
  const number = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
  for (const [name, id] of [["min_clip_s", "opt-min"], ["max_clip_s", "opt-max"], ["max_clips", "opt-count"]]) {
    if (number(id) !== null) opts[name] = number(id);
  }
  if ($("opt-topic").value.trim()) opts.topic = $("opt-topic").value.trim();
  if ($("opt-language").value) opts.language = $("opt-language").value;
  return opts;
}

async function submitUrl(event) {
  event.preventDefault();
  hideProblem($("submit-error"));
  const url = $("url-input").value.trim();
  if (!url) {
    showProblem($("submit-error"), "Paste the address of a video first.");
    $("url-input").focus();
    return;
  }
  $("url-submit").disabled = true;
  try {
    const resp = await fetch("/public/video", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({video_url: url, ...chosenOptions()})});
    if (!resp.ok) return showProblem($("submit-error"), ...(await problemOf(resp)));
    const {token} = await resp.json();
    remember(token, {label: linkName(url), url, kind: "url"});
    $("url-input").value = "";
    announce("Submitted. Following the new video.");
    show(token);
  } catch (e) {
    showProblem($("submit-error"), "The server could not be reached.", String(e));
  } finally {
    $("url-submit").disabled = false;
  }
}

function uploadFile(file) {
  hideProblem($("submit-error"));
  const box = $("upload-progress");
  const meter = box.querySelector(".progress");
  const bar = box.querySelector(".bar");
  const label = $("upload-label");
  box.classList.remove("hidden");
  box.classList.remove("checking");
  const form = new FormData();
  form.append("file", file);
  for (const [k, v] of Object.entries(chosenOptions())) {
    form.append(k, typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/public/video");
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.floor((e.loaded / e.total) * 100);   // 100 only once every byte is sent
    bar.style.width = percent + "%";
    meter.setAttribute("aria-valuenow", String(percent));
    label.textContent = `Uploading ${file.name}: ${percent}%`;
  };
  xhr.upload.onload = () => {
    // Every byte is sent; the server now checks the file before it answers.
    box.classList.add("checking");
    meter.removeAttribute("aria-valuenow");
    label.textContent = `Checking the file ${file.name}…`;
    announce("Upload finished. Checking the file.");
  };
  xhr.onload = () => {
    box.classList.add("hidden");
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 202) {
      return showProblem($("submit-error"), HTTP_WORDS[xhr.status] || `The upload failed (${xhr.status}).`,
                         body.error);
    }
    remember(body.token, {label: file.name, kind: "upload"});
    show(body.token);
  };
  xhr.onerror = () => {
    box.classList.add("hidden");
    showProblem($("submit-error"), "The upload was interrupted. Try again.");
  };
  xhr.send(form);
}

function setupDrop() {
  const zone = $("drop-zone");
  const input = $("file-input");
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();                 // Space would scroll the page
      input.click();
    }
  });
  input.addEventListener("change", () => { if (input.files[0]) uploadFile(input.files[0]); input.value = ""; });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files[0]) uploadFile(e.dataTransfer.files[0]);
  });
}

// ---- caption styles ----------------------------------------------------------------------

function presetNames() {
  // the house style first, then the others as the server lists them
  return Object.keys(state.presets).sort((a, b) => (b === "classic") - (a === "classic"));
}

function fillStyleSelect(select) {
  select.replaceChildren(...presetNames().map((name) =>
    el("option", {value: name}, name[0].toUpperCase() + name.slice(1))));
}

function applyPreset() {
  const p = state.presets[$("opt-style").value];
  if (!p) return;
  $("opt-size").value = p.size;
  $("opt-highlight").value = p.highlight.toLowerCase();
  $("opt-position").value = p.position;
  drawSample();
}

function drawSample() {
  const sample = $("caption-sample");
  sample.dataset.size = $("opt-size").value;
  sample.dataset.position = $("opt-position").value;
  sample.querySelector(".spoken").style.color = $("opt-highlight").value;
  sample.classList.toggle("off", !$("opt-captions").checked);
}

async function loadPresets() {
  try {
    const doc = await (await fetch("/openapi.json")).json();
    state.presets = doc.components.schemas.CaptionStyleIn["x-presets"] || {};
  } catch { state.presets = {}; }
  if (!presetNames().length) state.presets = {classic: {size: "medium", highlight: "#FFD600", position: "bottom"}};
  fillStyleSelect($("opt-style"));
  fillStyleSelect($("edit-style"));
  if (state.presets.classic) $("opt-style").value = "classic";
  applyPreset();
}

// ---- the job on screen -------------------------------------------------------------------

function closeJob() {
  state.current = null;
  state.body = null;
  clearTimeout(state.timer);
  $("job-card").classList.add("hidden");
}

function show(token) {
  state.current = token;
  state.body = null;
  state.transcript = null;
  clearTimeout(state.timer);
  closeEditor();
  $("job-card").classList.remove("hidden");
  $("clips").replaceChildren();
  delete $("clips").dataset.signature;
  $("transcript-view").classList.add("hidden");
  $("source-player").removeAttribute("src");
  renderHistory();
  poll();
}

function rendering(body) {
  return (body.clips || []).some((c) => c.render && LIVE.has(c.render.status));
}

async function poll() {
  const token = state.current;
  let body;
  try {
    const resp = await fetch("/public/video/status?token=" + encodeURIComponent(token));
    if (resp.status === 404) body = null;
    else if (!resp.ok) { state.timer = setTimeout(poll, POLL_MS * 2); return; }
    else body = await resp.json();
  } catch {
    state.timer = setTimeout(poll, POLL_MS * 2);
    return;
  }
  if (token !== state.current) return;
  if (body === null) {
    $("job-title").textContent = "Unknown video";
    $("job-status").textContent = "gone";
    updateHistory(token, {status: "gone"});
    renderHistory();
    return;
  }
  const before = state.body;
  state.body = body;
  renderJob(body, before);
  updateHistory(token, {status: body.status, title: body.video.title || undefined,
                        rendering: rendering(body) ? 1 : 0});
  renderHistory();
  if (!FINAL.has(body.status) || rendering(body)) state.timer = setTimeout(poll, POLL_MS);
}

function stepRow(step) {
  const bar = el("div", {class: "bar"});
  bar.style.width = Math.round(step.progress * 100) + "%";
  const extra = step.seconds ? ` · ${step.seconds.toFixed(1)} s` : "";
  const name = STEP_NAMES[step.name] || step.name;
  return el("li", {class: "step " + step.state},
    el("span", {class: "step-name"}, name),
    el("div", {class: "progress", role: "progressbar", "aria-label": name, "aria-valuemin": "0",
               "aria-valuemax": "100", "aria-valuenow": String(Math.round(step.progress * 100))}, bar),
    el("span", {class: "step-state"}, step.state + extra));
}

function statusWords(body) {
  if (body.status === "completed") {
    const n = (body.clips || []).length;
    return `Completed: ${n} clip${n === 1 ? "" : "s"} ready.`;
  }
  if (FINAL.has(body.status)) return `The job ${body.status}.`;
  return `${STEP_NAMES[body.pipeline_step] || body.pipeline_step}: ${body.status}.`;
}

function renderJob(body, before) {
  const entry = history().find((h) => h.token === body.token);
  $("job-title").textContent = body.video.title || (entry && entry.label) || "Video";
  $("job-status").textContent = body.status;
  $("job-status").className = "badge " + body.status;
  $("job-source").textContent = body.video.source === "upload" ? "Uploaded file" : body.video.source;
  $("steps").replaceChildren(...body.steps.map(stepRow));
  announce(statusWords(body));
  const failure = $("job-failure");
  if (body.failure_cause && body.status !== "cancelled") {
    showProblem(failure, CAUSES[body.failure_cause] || "The job failed.", body.failure_details);
  } else if (body.status === "retrying") {
    showProblem(failure, "A step failed and will be tried again shortly.", body.failure_details);
  } else if (body.status === "cancelled") {
    showProblem(failure, CAUSES.cancelled);
  } else {
    hideProblem(failure);
  }
  $("cancel-job").classList.toggle("hidden", !LIVE.has(body.status));
  const all = $("download-all");
  all.classList.toggle("hidden", !body.archive_url);
  if (body.archive_url) all.href = body.archive_url;
  renderLinks(body);
  renderClips(body, before);
  if (body.transcript && (!state.transcript || state.transcript.token !== body.token)) loadTranscript(body);
  else if (state.transcript) markTranscript();
}

function renderLinks(body) {
  const links = $("job-links");
  links.replaceChildren();
  if (body.transcript) {
    const dl = (url) => url + "&download=true";
    links.append("Transcript: ",
      el("a", {href: dl(body.transcript.srt)}, "SRT"), " · ",
      el("a", {href: dl(body.transcript.vtt)}, "WebVTT"), " · ",
      el("a", {href: dl(body.transcript.json)}, "JSON"));
  }
  links.classList.toggle("hidden", !body.transcript);
}

async function cancelJob() {
  const token = state.current;
  $("cancel-job").disabled = true;
  try {
    const resp = await fetch("/public/video/cancel", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({token})});
    if (!resp.ok) showProblem($("job-failure"), ...(await problemOf(resp)));
    else announce("The job was cancelled.");
  } catch (e) {
    showProblem($("job-failure"), "The server could not be reached.", String(e));
  } finally {
    $("cancel-job").disabled = false;
  }
  clearTimeout(state.timer);
  if (token === state.current) poll();
}

// ---- clips -------------------------------------------------------------------------------

function clipTitle(clip) {
  return `${clip.index + 1}. ${clip.title}`;
}

function renderState(clip) {
  const r = clip.render;
  if (!r) return "";
  if (r.status === "completed") return `Rendered again ${new Date(r.finished_at).toLocaleTimeString()}.`;
  if (r.status === "failed") return "Rendering again failed: " + (CAUSES[r.failure_cause] || "an error.");
  if (r.status === "retrying") return "Rendering again: a try failed, trying once more…";
  if (r.status === "cancelled") return "Rendering again was cancelled.";
  return `Rendering again… ${Math.round(r.progress * 100)}%`;
}

function fileLinks(clip) {
  const d = clip.downloads || {};
  const links = [["srt", "SRT"], ["vtt", "WebVTT"], ["manifest", "Manifest"], ["thumbnail", "Thumbnail"]]
    .filter(([k]) => d[k])
    .map(([k, name]) => el("a", {href: d[k], download: true,
                                 "aria-label": `${name} of clip ${clip.index + 1}`}, name));
  const out = el("p", {class: "files hint"});
  links.forEach((a, i) => { if (i) out.append(" · "); out.append(a); });
  return out;
}

function clipCard(clip, language) {
  const label = `Clip ${clip.index + 1}: ${clip.title}`;
  const video = el("video", {controls: true, preload: "metadata", src: clip.url,
                             poster: clip.thumbnail_url, "aria-label": label});
  if (clip.vtt_url) {
    // The caption track: burned-in captions already show on vertical and square clips,
    // so the track is on by default only where they are not.
    video.append(el("track", {kind: "captions", src: clip.vtt_url, srclang: language || "en",
                              label: "Captions", default: !clip.captions_burned_in}));
  }
  const frame = el("div", {class: "frame " + (clip.format || "landscape")}, video);
  frame.style.aspectRatio = ASPECT[clip.format] || ASPECT.landscape;
  if (!clip.format || clip.format === "landscape") {
    video.addEventListener("loadedmetadata", () => {
      if (video.videoWidth) frame.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
    });
  }
  const edit = el("button", {type: "button", class: "secondary edit", "aria-label": `Edit clip ${clip.index + 1}`},
                  "Edit");
  edit.addEventListener("click", () => openEditor(clip.index));
  const burned = clip.captions_burned_in ? " · captions burned in" : "";
  return el("article", {class: "clip", "data-index": String(clip.index), "aria-label": label},
    frame,
    el("div", {class: "clip-body"},
      el("div", {class: "clip-head"},
        el("h3", {}, clipTitle(clip)),
        el("span", {class: "score", title: "How good a clip it is judged to be, out of 100"},
           "Score ", el("strong", {}, String(Math.round(clip.score))), "/100")),
      el("p", {class: "hint times"},
         `${fmtTime(clip.start_s)} – ${fmtTime(clip.end_s)} · `,
         el("span", {class: "duration"}, `${clip.duration_s.toFixed(1)} s`),
         ` · ${FORMAT_NAMES[clip.format] || "Landscape"}${burned}`),
      el("p", {class: "reason"}, clip.reason || ""),
      el("p", {class: "render-state hint", role: "status"}, renderState(clip)),
      el("div", {class: "clip-actions"},
        el("a", {class: "button", href: (clip.downloads || {}).video || clip.url, download: true,
                 "aria-label": `Download clip ${clip.index + 1} (MP4)`}, "Download"),
        edit),
      fileLinks(clip)));
}

function renderClips(body, before) {
  const clips = (body.clips || []).filter((c) => c.url);
  // Rebuild only when a clip's file changes, so a playing preview is not interrupted.
  const signature = JSON.stringify(clips.map((c) => [c.index, c.url]));
  if ($("clips").dataset.signature !== signature) {
    $("clips").dataset.signature = signature;
    $("clips").replaceChildren(...clips.map((c) => clipCard(c, body.video.language)));
  }
  for (const clip of clips) {
    const card = document.querySelector(`.clip[data-index="${clip.index}"] .render-state`);
    if (card) card.textContent = renderState(clip);
    const was = before && (before.clips || []).find((c) => c.index === clip.index);
    if (clip.render && was && was.render && LIVE.has(was.render.status) && !LIVE.has(clip.render.status)) {
      announce(`Clip ${clip.index + 1}: ${renderState(clip)} It lasts ${clip.duration_s.toFixed(1)} s.`);
    }
  }
}

// ---- transcript view ---------------------------------------------------------------------

async function loadTranscript(body) {
  const token = body.token;
  state.transcript = {token, segments: [], words: []};
  try {
    const resp = await fetch(body.transcript.json);
    if (!resp.ok) return;
    const t = await resp.json();
    if (state.current !== token) return;
    const words = [];
    for (const s of t.segments) {
      for (const w of s.words || []) if (w.word.trim()) words.push({start: w.start, end: w.end, text: w.word.trim()});
    }
    state.transcript = {token, segments: t.segments, words};
  } catch { return; }
  const player = $("source-player");
  if (body.video.media_url && player.getAttribute("src") !== body.video.media_url) {
    player.src = body.video.media_url;
    player.replaceChildren(el("track", {kind: "captions", src: body.transcript.vtt, srclang: body.video.language || "en",
                                        label: "Transcript"}));
  }
  player.classList.toggle("hidden", !body.video.media_url);
  renderTranscript();
}

function clipAt(t) {
  return ((state.body && state.body.clips) || []).find((c) => c.url && c.start_s <= t && t <= c.end_s);
}

function renderTranscript() {
  const lines = state.transcript.segments.map((s, i) => {
    const button = el("button", {type: "button", class: "line", "data-line": String(i)},
      el("time", {}, fmtTime(s.start)), " ", s.text.trim());
    button.addEventListener("click", () => playLine(s));
    return el("li", {}, button, el("span", {class: "in-clip hint"}));
  });
  $("transcript-lines").replaceChildren(...lines);
  $("transcript-view").classList.toggle("hidden", lines.length === 0);
  markTranscript();
}

function markTranscript() {
  if (!state.transcript) return;
  state.transcript.segments.forEach((s, i) => {
    const item = $("transcript-lines").children[i];
    if (!item) return;
    const clip = clipAt((s.start + s.end) / 2);
    item.classList.toggle("in-clip", !!clip);
    item.querySelector(".in-clip").textContent = clip ? `Clip ${clip.index + 1}` : "";
  });
}

function playLine(segment) {
  const clip = clipAt((segment.start + segment.end) / 2);
  const card = clip && document.querySelector(`.clip[data-index="${clip.index}"] video`);
  const player = card || $("source-player");
  const at = card ? Math.max(0, segment.start - clip.start_s) : segment.start;
  player.scrollIntoView({block: "center", behavior: "smooth"});
  player.currentTime = at;
  player.play().catch(() => { /* the browser may refuse to play: it is seeked anyway */ });
}

// ---- the editor: move a clip's ends word by word, render it again ------------------------

function wordIndexAt(t, fromEnd) {
  const words = state.transcript.words;
  if (fromEnd) {
    for (let i = words.length - 1; i >= 0; i--) if ((words[i].start + words[i].end) / 2 <= t) return i;
    return 0;
  }
  const i = words.findIndex((w) => (w.start + w.end) / 2 >= t);
  return i < 0 ? words.length - 1 : i;
}

function openEditor(index) {
  const clip = state.body.clips.find((c) => c.index === index);
  if (!clip) return;
  $("editor-title").textContent = `Edit clip ${clip.index + 1}: ${clip.title}`;
  if (!state.transcript || !state.transcript.words.length) {
    // Nothing to snap to: the transcript is still loading, or has no word timings.
    state.editing = null;
    $("editor").classList.remove("hidden");
    for (const part of $("editor").querySelectorAll(".words, .bounds, .fields, label.choice, #rerender")) {
      part.classList.add("hidden");
    }
    showProblem($("editor-error"), "This clip cannot be edited yet: its transcript has no word timings. " +
                "Try again in a moment.");
    $("editor").focus();
    return;
  }
  for (const part of $("editor").querySelectorAll(".hidden")) {
    if (part.id !== "editor-error") part.classList.remove("hidden");
  }
  state.editing = {index, first: wordIndexAt(clip.start_s, false), last: wordIndexAt(clip.end_s, true)};
  $("edit-format").value = clip.format || "landscape";
  $("edit-captions").checked = clip.captions !== false;
  const preset = clip.caption_style && clip.caption_style.preset;
  $("edit-style").value = preset && state.presets[preset] ? preset : presetNames()[0];
  hideProblem($("editor-error"));
  $("editor").classList.remove("hidden");
  drawEditor();
  $("editor").focus();
}

function closeEditor() {
  state.editing = null;
  $("editor").classList.add("hidden");
}

function drawEditor() {
  const {first, last} = state.editing;
  const words = state.transcript.words;
  const from = Math.max(0, first - 30);
  const to = Math.min(words.length - 1, last + 30);
  const spans = [];
  for (let i = from; i <= to; i++) {
    const span = el("span", {class: "word" + (i >= first && i <= last ? " in" : "") +
                                    (i === first ? " first" : "") + (i === last ? " last" : "")}, words[i].text);
    span.addEventListener("click", () => chooseWord(i));
    spans.push(span, " ");
  }
  $("editor-words").replaceChildren(...spans);
  const start = words[first].start;
  const end = words[last].end;
  $("edit-start").textContent = fmtPrecise(start);
  $("edit-end").textContent = fmtPrecise(end);
  $("edit-length").textContent = `${(end - start).toFixed(1)} s`;
}

function moveBound(which, by) {
  const e = state.editing;
  const n = state.transcript.words.length;
  if (which === "start") e.first = Math.min(Math.max(0, e.first + by), e.last);
  else e.last = Math.max(Math.min(n - 1, e.last + by), e.first);
  drawEditor();
}

function chooseWord(i) {
  const e = state.editing;
  if (i < e.first) e.first = i;
  else if (i > e.last) e.last = i;
  else if (i - e.first < e.last - i) e.first = i;
  else e.last = i;
  drawEditor();
}

async function rerender() {
  const e = state.editing;
  const words = state.transcript.words;
  const button = $("rerender");
  button.disabled = true;
  hideProblem($("editor-error"));
  const preset = $("edit-style").value;
  try {
    const resp = await fetch("/public/video/clips/render", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: state.current, index: e.index, start_s: words[e.first].start,
                            end_s: words[e.last].end, format: $("edit-format").value,
                            captions: $("edit-captions").checked, caption_style: {preset}})});
    if (!resp.ok) return showProblem($("editor-error"), ...(await problemOf(resp)));
    announce(`Clip ${e.index + 1} is being rendered again.`);
    const card = document.querySelector(`.clip[data-index="${e.index}"]`);
    closeEditor();
    if (card) card.querySelector(".edit").focus();
    clearTimeout(state.timer);
    poll();
  } catch (err) {
    showProblem($("editor-error"), "The server could not be reached.", String(err));
  } finally {
    button.disabled = false;
  }
}

function setupEditor() {
  for (const b of document.querySelectorAll("[data-move]")) {
    b.addEventListener("click", () => moveBound(b.dataset.move, Number(b.dataset.by)));
  }
  $("rerender").addEventListener("click", rerender);
  $("close-editor").addEventListener("click", () => {
    const index = state.editing && state.editing.index;
    closeEditor();
    const card = document.querySelector(`.clip[data-index="${index}"] .edit`);
    if (card) card.focus();
  });
  $("editor").addEventListener("keydown", (e) => { if (e.key === "Escape") $("close-editor").click(); });
}

// ---- start -------------------------------------------------------------------------------

function setupOptions() {
  const names = typeof Intl.DisplayNames === "function"
    ? new Intl.DisplayNames([navigator.language || "en"], {type: "language"}) : null;
  $("opt-language").append(...LANGUAGES.map((code) => el("option", {value: code}, names ? names.of(code) : code)));
  $("opt-style").addEventListener("change", applyPreset);
  for (const id of ["opt-size", "opt-highlight", "opt-position", "opt-captions"]) {
    $(id).addEventListener("input", drawSample);
    $(id).addEventListener("change", drawSample);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("url-form").addEventListener("submit", submitUrl);
  $("cancel-job").addEventListener("click", cancelJob);
  setupDrop();
  setupOptions();
  setupEditor();
  loadPresets();
  renderHistory();
  const latest = history()[0];
  if (latest) show(latest.token);
  pollHistory();
});
