// The page: submit a link or a file, follow the job, watch and download its clips.
// Tokens live in this browser's localStorage only; nothing is shared between users.
"use strict";

const STORE = "clips.tokens";
const POLL_MS = 2000;
const FINAL = new Set(["completed", "failed", "cancelled"]);
const STEP_NAMES = {download: "Download", transcribe: "Transcribe", classify: "Classify",
                    find_clips: "Find clips", render: "Render"};
const CAUSES = {
  invalid_url: "The link is not a valid web address.",
  unsupported_url: "No video could be found at this link.",
  private_url: "The link points to a private or local address, which is not allowed.",
  too_large: "The video is larger than this server accepts.",
  too_long: "The video is longer than this server accepts.",
  not_found: "The video was not found (404).",
  forbidden: "The video is private or needs a login.",
  corrupt_media: "The file could not be read as a video.",
  not_a_video: "The file has no sound to transcribe.",
  no_speech: "No speech was heard in the video.",
  network: "The network failed while fetching the video.",
  attempts_exhausted: "A step kept failing, so the job was given up.",
  internal_error: "Something went wrong on the server.",
};

const $ = (id) => document.getElementById(id);
let current = null;      // token shown in the job card
let timer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function history() {
  try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch { return []; }
}

function remember(token, label) {
  const list = history().filter((h) => h.token !== token);
  list.unshift({token, label, created: new Date().toISOString()});
  localStorage.setItem(STORE, JSON.stringify(list.slice(0, 50)));
}

function updateHistory(token, fields) {
  const list = history().map((h) => (h.token === token ? {...h, ...fields} : h));
  localStorage.setItem(STORE, JSON.stringify(list));
}

function renderHistory() {
  const list = history();
  $("history-empty").classList.toggle("hidden", list.length > 0);
  $("history").replaceChildren(...list.map((h) => {
    const item = el("li", {class: h.token === current ? "active" : ""},
      el("span", {class: "name"}, h.title || h.label),
      el("span", {class: "badge " + (h.status || "queued")}, h.status || "queued"));
    item.dataset.token = h.token;
    item.tabIndex = 0;
    item.addEventListener("click", () => show(h.token));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") show(h.token); });
    return item;
  }));
}

function showError(text) {
  $("submit-error").textContent = text;
  $("submit-error").classList.toggle("hidden", !text);
}

async function readError(resp) {
  try { return (await resp.json()).error || resp.statusText; } catch { return resp.statusText; }
}

async function submitUrl(event) {
  event.preventDefault();
  showError("");
  const url = $("url-input").value.trim();
  $("url-submit").disabled = true;
  try {
    const resp = await fetch("/public/video", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({video_url: url})});
    if (!resp.ok) return showError(await readError(resp));
    const {token} = await resp.json();
    remember(token, url);
    $("url-input").value = "";
    show(token);
  } catch (e) {
    showError("The server could not be reached.");
  } finally {
    $("url-submit").disabled = false;
  }
}

function uploadFile(file) {
  showError("");
  const box = $("upload-progress");
  const bar = box.querySelector(".bar");
  const label = box.querySelector(".label");
  box.classList.remove("hidden");
  const form = new FormData();
  form.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/public/video");
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const share = e.loaded / e.total;
    bar.style.width = (share * 100).toFixed(1) + "%";
    label.textContent = `Uploading ${file.name}: ${Math.round(share * 100)}%`;
  };
  xhr.onload = () => {
    box.classList.add("hidden");
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 202) return showError(body.error || `Upload failed (${xhr.status}).`);
    remember(body.token, file.name);
    show(body.token);
  };
  xhr.onerror = () => { box.classList.add("hidden"); showError("The upload was interrupted."); };
  xhr.send(form);
}

function show(token) {
  current = token;
  clearTimeout(timer);
  $("job-card").classList.remove("hidden");
  $("clips").replaceChildren();
  delete $("clips").dataset.signature;
  renderHistory();
  poll();
}

async function poll() {
  const token = current;
  let body;
  try {
    const resp = await fetch("/public/video/status?token=" + encodeURIComponent(token));
    if (resp.status === 404) { body = null; } else if (!resp.ok) {
      timer = setTimeout(poll, POLL_MS * 2);
      return;
    } else { body = await resp.json(); }
  } catch {
    timer = setTimeout(poll, POLL_MS * 2);
    return;
  }
  if (token !== current) return;
  if (body === null) {
    $("job-title").textContent = "Unknown video";
    $("job-status").textContent = "gone";
    return;
  }
  renderJob(body);
  updateHistory(token, {status: body.status, title: body.video.title || undefined});
  renderHistory();
  if (!FINAL.has(body.status)) timer = setTimeout(poll, POLL_MS);
}

function stepRow(step) {
  const bar = el("div", {class: "bar"});
  bar.style.width = Math.round(step.progress * 100) + "%";
  const extra = step.seconds ? ` · ${step.seconds.toFixed(1)} s` : "";
  return el("li", {class: "step " + step.state},
    el("span", {class: "step-name"}, STEP_NAMES[step.name] || step.name),
    el("div", {class: "progress"}, bar),
    el("span", {class: "step-state"}, step.state + extra));
}

function fmtTime(s) {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function clipCard(clip) {
  const video = el("video", {controls: "", preload: "metadata", src: clip.url || ""});
  if (clip.thumbnail_url) video.setAttribute("poster", clip.thumbnail_url);
  const download = el("a", {class: "button", href: clip.url || "#", download: ""}, "Download");
  return el("article", {class: "clip"},
    video,
    el("div", {class: "clip-body"},
      el("div", {class: "clip-head"},
        el("h3", {}, clip.title),
        el("span", {class: "score", title: "How insightful the clip is judged to be (0–100)"},
           String(Math.round(clip.score)))),
      el("p", {class: "hint"}, `${fmtTime(clip.start_s)} – ${fmtTime(clip.end_s)} · ${clip.duration_s.toFixed(0)} s`),
      el("p", {class: "reason"}, clip.reason || ""),
      download));
}

function renderJob(body) {
  $("job-title").textContent = body.video.title || "Video";
  $("job-status").textContent = body.status;
  $("job-status").className = "badge " + body.status;
  $("job-source").textContent = body.video.source === "upload" ? "Uploaded file" : body.video.source;
  $("steps").replaceChildren(...body.steps.map(stepRow));
  const failure = $("job-failure");
  if (body.failure_cause) {
    const words = CAUSES[body.failure_cause] || "The job failed.";
    failure.textContent = body.failure_details ? `${words} (${body.failure_details})` : words;
  } else if (body.status === "retrying") {
    failure.textContent = "A step failed and will be tried again shortly.";
  }
  failure.classList.toggle("hidden", !(body.failure_cause || body.status === "retrying"));
  const links = $("job-links");
  links.replaceChildren();
  if (body.transcript) {
    links.append("Transcript: ",
      el("a", {href: body.transcript.srt}, "SRT"), " · ",
      el("a", {href: body.transcript.vtt}, "WebVTT"), " · ",
      el("a", {href: body.transcript.json}, "JSON"));
  }
  links.classList.toggle("hidden", !body.transcript);
  // Rebuild the clips only when they change, so a playing preview is not interrupted.
  const signature = JSON.stringify((body.clips || []).map((c) => [c.index, c.url]));
  if ($("clips").dataset.signature !== signature) {
    $("clips").dataset.signature = signature;
    $("clips").replaceChildren(...(body.clips || []).filter((c) => c.url).map(clipCard));
  }
}

function setupDrop() {
  const zone = $("drop-zone");
  const input = $("file-input");
  zone.addEventListener("click", (e) => { if (e.target === zone) input.click(); });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter") input.click(); });
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

document.addEventListener("DOMContentLoaded", () => {
  $("url-form").addEventListener("submit", submitUrl);
  setupDrop();
  renderHistory();
  const latest = history()[0];
  if (latest) show(latest.token);
});
