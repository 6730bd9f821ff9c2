/* The side panel's debug events of one saved rule node: the latest page from the events API,
   then live over /ws/events/RULE_NODE/{id} (the same stream and capped policy as integrations).
   window.RC.debugPanel.show(root, nodeData) / .close() */
(function () {
  "use strict";
  const RC = (window.RC = window.RC || {});
  const { el, api, fmtTime, pretty } = window.UI;
  const PAGE = 30, KEEP = 200;
  let socket = null;

  function close() {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
  }

  function cell(text, cls) {
    const s = text === undefined || text === null ? "" : String(text);
    return el("td", { class: cls || "" }, s.length > 60 ? s.slice(0, 60) + "…" : s);
  }

  function rows(ev) {
    const b = ev.body || {};
    const tr = el("tr", { class: "ui-event" + (b.error ? " ui-event-error" : ""), "data-direction": b.type || "" },
      cell(fmtTime(ev.createdTime).slice(11)), cell(b.type), cell(b.relationType), cell(b.msgType),
      cell(b.data, "ui-mono"), cell(b.error, "ui-error"), cell(b.duration === undefined ? "" : b.duration + " ms"));
    const detail = el("tr", { hidden: "" }, el("td", { colspan: "7" }, el("pre", { class: "ui-pre" },
      pretty({ ...b, data: pretty(b.data), metadata: pretty(b.metadata) }))));
    tr.addEventListener("click", () => { detail.hidden = !detail.hidden; });
    return [tr, detail];
  }

  function status(settings) {
    if (!settings) return "off";
    if (settings.allEnabled) return settings.allEnabledUntil ? `all messages until ${fmtTime(settings.allEnabledUntil)}` : "all messages";
    return settings.failuresEnabled ? "failures only" : "off";
  }

  /* Shows the events of node `data` (unsaved nodes have none yet) in `root`. */
  function show(root, data) {
    close();
    const head = el("div", {}, el("h2", { class: "ui-h2" }, data.name || RC.graph.shortType(data.type)),
      el("p", { class: "ui-muted" }, `${RC.graph.shortType(data.type)} · debug: ${status(data.debugSettings)}`));
    if (!data.id) {
      root.replaceChildren(head, el("p", { class: "ui-muted" }, "Save the chain to see this node's debug events."));
      return;
    }
    const state = el("span", { class: "ui-muted", "data-role": "debug-live" }, "connecting…");
    const tbody = el("tbody");
    const events = [];
    const render = () => {
      tbody.replaceChildren(...events.flatMap(rows));
      if (!events.length) tbody.append(el("tr", {}, el("td", { colspan: "7", class: "ui-muted" }, "No events yet.")));
    };
    const add = (list, top) => {
      const known = new Set(events.map((e) => e.id && e.id.id));
      const fresh = list.filter((e) => !known.has(e.id && e.id.id));
      if (top) events.unshift(...fresh); else events.push(...fresh);
      events.sort((a, b) => b.createdTime - a.createdTime);
      events.length = Math.min(events.length, KEEP);
      render();
    };
    root.replaceChildren(head, el("div", { class: "ui-toolbar" }, el("strong", {}, "Debug events"), state),
      el("table", { class: "ui-events rc-events", "data-role": "node-events", "data-node-id": data.id },
        el("thead", {}, el("tr", {}, ["Time", "Dir", "Relation", "Type", "Data", "Error", "Took"].map((h) => el("th", {}, h)))),
        tbody));
    render();
    api("POST", `/api/events/RULE_NODE/${data.id}?pageSize=${PAGE}&page=0`, { eventType: "DEBUG_RULE_NODE" })
      .then((page) => add(page.data, false), (e) => { state.textContent = "could not load events: " + e.message; });
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/events/RULE_NODE/${data.id}`);
    socket = ws;
    ws.onopen = () => { state.textContent = "live"; root.dataset.live = data.id; };
    ws.onmessage = (msg) => add([JSON.parse(msg.data)], true);
    ws.onclose = (e) => { root.dataset.live = ""; state.textContent = `closed (${e.code})`; };
  }

  RC.debugPanel = { show, close };
})();
