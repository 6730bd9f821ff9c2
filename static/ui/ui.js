/* Shared helpers of the integration-center admin pages (no framework): API calls with the
   admin session, and the live debug-events table. */
(function () {
  "use strict";

  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return (input && input.value) || cookie("csrftoken");
  }

  /* fetch JSON from the REST API with the session cookie (DRF SessionAuthentication + CSRF). */
  async function api(method, url, body) {
    const opts = { method, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (!res.ok) {
      const msg = (data && (data.message || data.detail)) || res.statusText;
      throw new Error(res.status + ": " + msg);
    }
    return data;
  }

  function utf8ToBase64(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    bytes.forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin);
  }

  function base64ToUtf8(b64) {
    try {
      const bin = atob(b64);
      return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    } catch (e) { return b64; }
  }

  function fmtTime(ms) {
    if (!ms) return "";
    const d = new Date(ms);
    return d.toISOString().replace("T", " ").replace("Z", "");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c ?? "")));
    return node;
  }

  function pretty(value) {
    if (value === undefined || value === null || value === "") return "";
    if (typeof value === "string") {
      try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
    }
    return JSON.stringify(value, null, 2);
  }

  /* The line a script error names, "... (line 3)" or "line 3:", else null. */
  function errorLine(message) {
    const m = /\bline (\d+)/i.exec(message || "");
    return m ? parseInt(m[1], 10) : null;
  }

  /* ---- live debug events ----------------------------------------------------------------- */
  const PAGE = 20;

  function DebugEvents(root) {
    const entityType = root.dataset.entityType;
    const entityId = root.dataset.entityId;
    const types = JSON.parse(root.dataset.eventTypes);
    const state = { paused: false, queued: [], page: 0, more: true, rows: [] };
    const typeSel = el("select", { class: "ui-input", "data-role": "type" },
      types.map((t) => el("option", { value: t }, t)));
    const errorsOnly = el("input", { type: "checkbox", "data-role": "errors-only" });
    const pauseBtn = el("button", { type: "button", class: "ui-btn", "data-role": "pause" }, "Pause");
    const status = el("span", { class: "ui-muted", "data-role": "status" }, "connecting…");
    const tbody = el("tbody");
    const moreBtn = el("button", { type: "button", class: "ui-btn", "data-role": "older" }, "Load older events");
    root.append(
      el("div", { class: "ui-toolbar" },
        el("label", {}, "Type ", typeSel),
        el("label", {}, errorsOnly, " errors only"),
        pauseBtn, status),
      el("table", { class: "ui-events" },
        el("thead", {}, el("tr", {}, ["Time", "Kind", "In", "Out", "Metadata", "Error"].map((h) => el("th", {}, h)))),
        tbody),
      el("div", { class: "ui-toolbar" }, moreBtn));

    function visible(ev) {
      if (ev.type !== typeSel.value) return false;
      const body = ev.body || {};
      const failed = !!body.error || body.status === "ERROR" || body.status === "Failure";
      return !errorsOnly.checked || failed;
    }

    function cell(text, cls) {
      const s = text === undefined || text === null ? "" : String(text);
      return el("td", { class: cls || "" }, s.length > 80 ? s.slice(0, 80) + "…" : s);
    }

    function row(ev) {
      const b = ev.body || {};
      const input = b.in !== undefined ? b.in : b.message;
      const output = b.out !== undefined ? b.out : (b.event || "");
      const tr = el("tr", { class: "ui-event" + (b.error ? " ui-event-error" : ""), "data-event-id": ev.id && ev.id.id },
        cell(fmtTime(ev.createdTime)), cell(b.type || b.status || ev.type), cell(input, "ui-mono"),
        cell(output, "ui-mono"), cell(b.metadata, "ui-mono"), cell(b.error, "ui-error"));
      const detail = el("tr", { class: "ui-event-detail", hidden: "" },
        el("td", { colspan: "6" }, el("pre", { class: "ui-pre" }, pretty(Object.assign({}, b, {
          in: pretty(b.in), out: pretty(b.out), metadata: pretty(b.metadata) })))));
      tr.addEventListener("click", () => { detail.hidden = !detail.hidden; });
      return [tr, detail];
    }

    function render() {
      tbody.replaceChildren(...state.rows.filter(visible).flatMap(row));
      if (!tbody.children.length) tbody.append(el("tr", {}, el("td", { colspan: "6", class: "ui-muted" }, "No events yet.")));
    }

    function add(events, atTop) {
      const known = new Set(state.rows.map((e) => e.id && e.id.id));
      const fresh = events.filter((e) => !known.has(e.id && e.id.id));
      state.rows = atTop ? fresh.concat(state.rows) : state.rows.concat(fresh);
      state.rows.sort((a, b) => b.createdTime - a.createdTime);
      render();
    }

    async function older(reset) {
      if (reset) { state.page = 0; state.rows = []; state.more = true; }
      if (!state.more) return;
      const filter = { eventType: typeSel.value };
      if (errorsOnly.checked) filter.isError = true;
      try {
        const data = await api("POST", `/api/events/${entityType}/${entityId}?pageSize=${PAGE}&page=${state.page}`, filter);
        state.page += 1;
        state.more = data.hasNext;
        moreBtn.disabled = !data.hasNext;
        add(data.data, false);
      } catch (e) { status.textContent = "could not load events: " + e.message; }
    }

    function connect() {
      const proto = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(`${proto}://${location.host}/ws/events/${entityType}/${entityId}`);
      ws.onopen = () => { status.textContent = "live"; root.dataset.live = "1"; };
      ws.onmessage = (msg) => {
        const ev = JSON.parse(msg.data);
        if (state.paused) { state.queued.push(ev); status.textContent = `paused (${state.queued.length} new)`; }
        else add([ev], true);
      };
      ws.onclose = (e) => {
        root.dataset.live = "";
        status.textContent = e.code >= 4400 ? `closed (${e.code})` : "reconnecting…";
        if (e.code < 4400) setTimeout(connect, 2000);
      };
    }

    pauseBtn.addEventListener("click", () => {
      state.paused = !state.paused;
      pauseBtn.textContent = state.paused ? "Resume" : "Pause";
      if (!state.paused) { add(state.queued, true); state.queued = []; status.textContent = "live"; }
      else status.textContent = "paused";
    });
    typeSel.addEventListener("change", () => older(true));
    errorsOnly.addEventListener("change", () => older(true));
    moreBtn.addEventListener("click", () => older(false));
    older(true);
    connect();
  }

  window.UI = { api, utf8ToBase64, base64ToUtf8, fmtTime, el, pretty, errorLine, csrfToken };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-debug-events]").forEach((root) => DebugEvents(root));
    document.querySelectorAll("[data-copy]").forEach((btn) => btn.addEventListener("click", () => {
      const text = document.querySelector(btn.dataset.copy).textContent.trim();
      (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).then(
        () => { btn.textContent = "Copied"; }, () => { btn.textContent = "Select and copy"; });
    }));
    document.querySelectorAll("[data-until-ms]").forEach((node) => {
      const until = parseInt(node.dataset.untilMs, 10);
      const tick = () => {
        const left = until - Date.now();
        if (left <= 0) { node.textContent = "off (ended)"; return; }
        const m = Math.floor(left / 60000), s = Math.floor((left % 60000) / 1000);
        node.textContent = `on, ${m} min ${s} s left`;
        setTimeout(tick, 1000);
      };
      tick();
    });
  });
})();
