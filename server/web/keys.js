// The API key panel: with a key entered (kept in this browser's localStorage only), the
// page lists that key's videos from GET /public/videos, page by page, and sends the key
// with the page's own requests to /public/, so what is submitted here is the key's too.
// Separate from app.js on purpose: it only calls app.js's show(token) to open a video.
"use strict";

(() => {
  const KEY_STORE = "clips.apiKey";
  const REFRESH_MS = 10000;
  const $ = (id) => document.getElementById(id);
  let cursor = null;
  let timer = null;

  const storedKey = () => localStorage.getItem(KEY_STORE) || "";
  const sameOriginPublic = (url) => {
    try {
      const u = new URL(url, location.href);
      return u.origin === location.origin && u.pathname.startsWith("/public/");
    } catch { return false; }
  };

  // The page's requests to /public/ carry the key: fetch...
  const plainFetch = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const key = storedKey();
    if (key && sameOriginPublic(url)) {
      const headers = new Headers(init.headers || (typeof input === "string" ? {} : input.headers));
      if (!headers.has("Authorization")) headers.set("Authorization", "Bearer " + key);
      init = {...init, headers};
      // A submission from the page shows up in the key's list soon after.
      if ((init.method || "GET").toUpperCase() === "POST") {
        return plainFetch(input, init).then((resp) => { schedule(500); return resp; });
      }
    }
    return plainFetch(input, init);
  };
  // ... and XMLHttpRequest (uploads, for their progress events).
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.clipsPublic = sameOriginPublic(url);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    const key = storedKey();
    if (key && this.clipsPublic) this.setRequestHeader("Authorization", "Bearer " + key);
    this.addEventListener("load", () => { if (key) schedule(1000); });
    return send.call(this, body);
  };

  function say(text, isError = false) {
    $("key-status").textContent = text;
    $("key-status").classList.toggle("error", isError);
  }

  // A video without a title yet goes by the last part of its link.
  function shortName(source) {
    try {
      const u = new URL(source);
      return decodeURIComponent(u.pathname.split("/").filter(Boolean).pop() || u.hostname);
    } catch { return source; }
  }

  function item(video) {
    const name = video.video.title || shortName(video.video.source);
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.title = video.video.source;
    li.dataset.token = video.token;
    const label = document.createElement("span");
    label.className = "name";
    label.textContent = name;
    const badge = document.createElement("span");
    badge.className = "badge " + video.status;
    badge.textContent = video.status;
    li.append(label, badge);
    const open = () => { if (typeof show === "function") show(video.token); };
    li.addEventListener("click", open);
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    return li;
  }

  async function load(more = false) {
    clearTimeout(timer);
    const key = storedKey();
    $("key-videos-box").classList.toggle("hidden", !key);
    $("key-forget").classList.toggle("hidden", !key);
    if (!key) { say("No key: videos are kept in this browser only."); return; }
    const params = new URLSearchParams({limit: "20"});
    if ($("key-filter").value) params.set("status", $("key-filter").value);
    if (more && cursor) params.set("cursor", cursor);
    let resp;
    try {
      resp = await fetch("/public/videos?" + params);
    } catch {
      say("The server could not be reached.", true);
      schedule(REFRESH_MS * 3);
      return;
    }
    if (!resp.ok) {
      let text = resp.statusText;
      try { text = (await resp.json()).error || text; } catch { /* not JSON */ }
      say(resp.status === 401 ? "This key was not accepted: " + text : text, true);
      if (resp.status === 429) schedule(1000 * (Number(resp.headers.get("Retry-After")) || 10));
      return;
    }
    const page = await resp.json();
    const list = $("key-videos");
    const items = page.videos.map(item);
    if (more) list.append(...items); else list.replaceChildren(...items);
    cursor = page.next_cursor;
    $("key-more").classList.toggle("hidden", !cursor);
    const n = list.children.length;
    say(n ? `${n} video${n === 1 ? "" : "s"} of this key${cursor ? " so far" : ""}.`
          : "This key has no videos yet.");
    if (!more) schedule(REFRESH_MS);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(() => load(false), ms);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("key-input").value.trim();
      if (!key) return;
      localStorage.setItem(KEY_STORE, key);
      $("key-input").value = "";
      load(false);
    });
    $("key-forget").addEventListener("click", () => {
      localStorage.removeItem(KEY_STORE);
      $("key-videos").replaceChildren();
      load(false);
    });
    $("key-more").addEventListener("click", () => load(true));
    $("key-filter").addEventListener("change", () => load(false));
    load(false);
  });
})();
