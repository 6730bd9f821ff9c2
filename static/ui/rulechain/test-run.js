/* "Test this chain": a sample message (type, metadata, data) through the chain as it is on the
   canvas (POST /api/ruleChain/{id}/test; nothing is stored), its path listed node by node in the
   side panel and highlighted on the canvas. window.RC.testRun.open(...) / .clear(graph) */
(function () {
  "use strict";
  const RC = (window.RC = window.RC || {});
  const { el, api, pretty } = window.UI;
  const TYPES = ["POST_TELEMETRY_REQUEST", "POST_ATTRIBUTES_REQUEST", "ATTRIBUTES_UPDATED", "RPC_CALL_FROM_SERVER_TO_DEVICE",
    "TO_SERVER_RPC_REQUEST", "CONNECT_EVENT", "DISCONNECT_EVENT", "ACTIVITY_EVENT", "INACTIVITY_EVENT"];
  const last = { msgType: TYPES[0], metadata: '{\n  "deviceName": "Test device",\n  "deviceType": "default"\n}',
    data: '{\n  "temperature": 25\n}', originator: "" };
  let marked = [];

  function clear(graph) {
    graph.disableHistory();
    marked.forEach(([cell, path, value]) => cell.attr(path, value));
    graph.enableHistory();
    marked = [];
  }

  function mark(graph, cell, path, value) {
    marked.push([cell, path, cell.attr(path)]);
    cell.attr(path, value);
  }

  function highlight(graph, steps) {
    clear(graph);
    const nodes = graph.getNodes().filter((n) => !RC.graph.isInput(n));
    graph.disableHistory();
    const input = graph.getCellById(RC.graph.INPUT_ID);
    if (steps.length && input) (graph.getOutgoingEdges(input) || []).forEach((e) => mark(graph, e, "line/stroke", "#2563eb"));
    steps.forEach((s) => {
      const node = s.index === null ? null : nodes[s.index];
      if (!node) return;
      mark(graph, node, "body/strokeWidth", 3);
      mark(graph, node, "body/stroke", s.error ? "#dc2626" : "#2563eb");
      if (s.direction !== "OUT") return;
      (graph.getOutgoingEdges(node) || []).filter((e) => (e.getData()?.relations || []).includes(s.relationType))
        .forEach((e) => { mark(graph, e, "line/stroke", "#2563eb"); mark(graph, e, "line/strokeWidth", 3); });
    });
    graph.enableHistory();
  }

  function showPath(side, result) {
    const list = result.steps.map((s, i) => {
      const what = s.direction === "IN" ? `in${s.relationType ? " by " + s.relationType : ""}`
        : `out by ${s.relationType}${s.simulated ? " (simulated: not run in a test)" : ""}`;
      const row = el("div", { class: "rc-step" + (s.error ? " rc-step-error" : ""), "data-step": i,
        "data-node-index": s.index === null ? "" : s.index, "data-direction": s.direction, "data-relation": s.relationType },
        el("strong", {}, `${i + 1}. ${s.name || s.shortType}`), ` ${what}`,
        s.duration !== null && s.duration !== undefined ? el("span", { class: "ui-muted" }, ` · ${s.duration} ms`) : "",
        s.error ? el("div", { class: "ui-error" }, s.error) : "");
      const detail = el("pre", { class: "ui-pre", hidden: "" }, pretty({ msgType: s.msgType, data: pretty(s.data),
        metadata: pretty(s.metadata) }));
      row.addEventListener("click", () => { detail.hidden = !detail.hidden; });
      return [row, detail];
    });
    const r = result.report;
    side.replaceChildren(el("h2", { class: "ui-h2" }, "Test run"),
      el("p", { class: "ui-muted", "data-role": "test-summary" },
        result.steps.length ? `${r.node_runs} node runs, ${r.failures} failures. Nothing was stored or sent.`
          : "The chain has no first node: connect the Input to a node."),
      el("div", { "data-role": "test-path" }, list.flat()));
  }

  /* Asks for a sample message, runs it through `metadata`, shows the path. */
  function open(dialog, side, graph, chainId, metadata) {
    const type = el("input", { class: "ui-input", list: "rc-msg-types", "data-field": "msgType", value: last.msgType });
    const types = el("datalist", { id: "rc-msg-types" }, TYPES.map((t) => el("option", { value: t })));
    const originator = el("input", { class: "ui-input", "data-field": "originator", value: last.originator,
      placeholder: "a device id (empty: an unknown device)", style: "width:100%" });
    const meta = el("textarea", { class: "ui-input", "data-field": "metadata", rows: 5 });
    const data = el("textarea", { class: "ui-input", "data-field": "data", rows: 8 });
    meta.value = last.metadata;
    data.value = last.data;
    const error = el("div", { class: "ui-error", "data-role": "test-error" });
    const run = el("button", { type: "button", class: "ui-btn ui-btn-primary", "data-role": "run-test" }, "Run");
    const cancel = el("button", { type: "button", class: "ui-btn" }, "Close");
    cancel.addEventListener("click", () => dialog.close());
    run.addEventListener("click", async () => {
      let metadataObj;
      try { metadataObj = JSON.parse(meta.value || "{}"); } catch (e) { error.textContent = "metadata: " + e.message; return; }
      Object.assign(last, { msgType: type.value, metadata: meta.value, data: data.value, originator: originator.value.trim() });
      const msg = { msgType: type.value || TYPES[0], metadata: metadataObj, data: data.value };
      if (last.originator) msg.originator = { entityType: "DEVICE", id: last.originator };
      run.disabled = true;
      error.textContent = "running…";
      try {
        const result = await api("POST", `/api/ruleChain/${chainId}/test`, { metadata, msg });
        dialog.close();
        showPath(side, result);
        highlight(graph, result.steps);
      } catch (e) {
        error.textContent = e.message;
      } finally { run.disabled = false; }
    });
    dialog.replaceChildren(el("h2", { class: "ui-h2" }, "Test this chain"),
      el("p", { class: "ui-muted" }, "The message goes through the chain as it is on the canvas, saved or not. Nodes that "
        + "store or send (save, alarm, REST, MQTT, Kafka, RabbitMQ, downlink, delay) are not run: they pass it on by Success."),
      el("div", { class: "rc-field" }, el("label", {}, "Message type"), el("div", {}, type, types)),
      el("div", { class: "rc-field" }, el("label", {}, "Originator"), originator),
      el("div", { class: "rc-field" }, el("label", {}, "Metadata (JSON)"), meta),
      el("div", { class: "rc-field" }, el("label", {}, "Data"), data), error,
      el("div", { class: "ui-toolbar" }, run, cancel));
    dialog.showModal();
  }

  RC.testRun = { open, clear, highlight };
})();
