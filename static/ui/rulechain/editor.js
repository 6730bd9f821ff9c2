/* The rule chain page: loads the chain, its metadata and the node types, wires the canvas
   (graph.js), palette, forms, debug panel and test runs, and saves the whole chain in one
   POST /api/ruleChain/metadata carrying the version it was opened at (a chain changed elsewhere
   is refused with 409 and the canvas keeps the edits). window.ruleChainEditor is for tests. */
(function () {
  "use strict";
  const RC = window.RC;
  const { api } = window.UI;
  const root = document.querySelector("[data-rule-chain-editor]");
  if (!root) return;
  const chainId = root.dataset.chainId;
  const $ = (role) => root.querySelector(`[data-role=${role}]`);
  const state = { chain: null, version: null, kinds: [], byType: {}, savedSize: 0 };
  const graph = RC.graph.create($("canvas"), $("minimap"));
  const modalOpen = () => !!root.querySelector("dialog[open]");

  function setStatus(text) { $("status").textContent = text; }
  function showError(text) { const box = $("error"); box.textContent = text || ""; box.hidden = !text; }
  function dirty() { return graph.getUndoStackSize() !== state.savedSize; }
  function markSaved() { state.savedSize = graph.getUndoStackSize(); }
  function configure(kind, data) { return RC.nodeForm.open($("node-dialog"), kind || {}, data); }
  function metadata() { return RC.graph.toMetadata(graph, chainId, state.version); }
  function plainNodes() { return graph.getNodes().filter((n) => !RC.graph.isInput(n)); }

  function updateStatus() {
    root.dataset.dirty = dirty() ? "1" : "";
    setStatus(`${state.chain ? state.chain.name : ""} · version ${state.version}${dirty() ? " · unsaved changes" : ""}`);
  }

  async function start() {
    try {
      const [chain, meta, kinds] = await Promise.all([api("GET", `/api/ruleChain/${chainId}`),
        api("GET", `/api/ruleChain/${chainId}/metadata`), api("GET", "/api/components")]);
      state.chain = chain;
      state.kinds = kinds;
      kinds.forEach((k) => { state.byType[k.clazz] = k; });
      RC.palette.build($("palette"), graph, kinds, configure);
      show(meta);
      root.dataset.ready = "1";
    } catch (e) { showError("Could not load the rule chain: " + e.message); }
  }

  function show(meta) {
    state.version = meta.version;
    RC.graph.load(graph, meta, state.byType);
    markSaved();
    graph.zoomToFit({ padding: 30, maxScale: 1 });
    updateStatus();
  }

  async function save() {
    showError("");
    const body = metadata();
    $("save").disabled = true;
    try {
      const saved = await api("POST", "/api/ruleChain/metadata", body);
      const nodes = plainNodes();
      graph.disableHistory();
      saved.nodes.forEach((n, i) => {
        if (nodes[i]) nodes[i].setData({ ...nodes[i].getData(), id: n.id.id, debugSettings: n.debugSettings }, { overwrite: true });
      });
      graph.enableHistory();
      state.version = saved.version;
      markSaved();
      updateStatus();
      setStatus(`saved · version ${saved.version}`);
    } catch (e) {
      const conflict = e.message.startsWith("409");
      showError(e.message + (conflict ? " Your edits are still on the canvas: export them (Export JSON) before you reload." : ""));
    } finally { $("save").disabled = false; }
  }

  /* ThingsBoard's rule chain export file of the canvas: {ruleChain, metadata}, without ids. */
  function exportJson() {
    const meta = metadata();
    meta.nodes.forEach((n) => { delete n.id; });
    delete meta.ruleChainId;
    delete meta.version;
    const c = state.chain || {};
    return { ruleChain: { name: c.name, type: c.type || "CORE", root: false, debugMode: !!c.debugMode,
      configuration: c.configuration || null, additionalInfo: c.additionalInfo || null }, metadata: meta };
  }

  function download() {
    const text = JSON.stringify(exportJson(), null, 2);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = `${(state.chain && state.chain.name) || "rule_chain"}.json`.replace(/[^\w.-]+/g, "_");
    document.body.append(link);
    link.click();
    link.remove();
  }

  /* Puts an export file's (or a bare RuleChainMetaData's) nodes on the canvas; Save keeps them. */
  function importJson(data) {
    const meta = data && data.metadata ? data.metadata : data;
    if (!meta || !Array.isArray(meta.nodes)) throw new Error("not a rule chain export: no metadata.nodes");
    const copy = JSON.parse(JSON.stringify(meta));
    copy.nodes.forEach((n) => { delete n.id; });
    const version = state.version;
    RC.graph.load(graph, copy, state.byType);
    state.version = version;
    state.savedSize = -1;
    graph.zoomToFit({ padding: 30, maxScale: 1 });
    updateStatus();
  }

  async function editNode(node) {
    if (RC.graph.isInput(node)) return;
    const data = node.getData();
    const next = await configure(state.byType[data.type], data);
    if (!next) return;
    node.setData(next, { overwrite: true });
    RC.graph.refresh(node);
    RC.debugPanel.show($("side"), next);
  }

  /* A rule chain node leaves by the names of the called chain's output nodes (ThingsBoard's too). */
  async function calledOutputs(data) {
    const ref = (data.configuration || {}).ruleChainId;
    const id = ref && typeof ref === "object" ? ref.id : ref;
    if (!String(data.type).endsWith("TbRuleChainInputNode") || !id) return [];
    try {
      const meta = await api("GET", `/api/ruleChain/${id}/metadata`);
      return meta.nodes.filter((n) => String(n.type).endsWith("TbRuleChainOutputNode")).map((n) => n.name);
    } catch (e) { return []; }
  }

  async function askRelations(edge, isNew) {
    const source = edge.getSourceCell();
    if (!source || RC.graph.isInput(source)) return;
    const kind = state.byType[source.getData().type] || {};
    const current = isNew ? [] : (edge.getData()?.relations || []);
    const chosen = await RC.nodeForm.relations($("relation-dialog"), kind, current, await calledOutputs(source.getData()));
    if (chosen.length) RC.graph.setRelations(edge, chosen);
    else if (isNew) graph.removeCell(edge);
  }

  function paste() {
    const cells = graph.paste({ offset: 40 });
    cells.filter((c) => c.isNode()).forEach((c) => c.setData({ ...c.getData(), id: null }, { overwrite: true }));
    graph.cleanSelection();
    graph.select(cells);
  }

  function keys() {
    const guard = (fn) => (e) => { if (modalOpen()) return; fn(e); return false; };
    graph.bindKey(["delete", "backspace"], guard(() => graph.removeCells(graph.getSelectedCells().filter((c) => !RC.graph.isInput(c)))));
    graph.bindKey(["ctrl+c", "meta+c"], guard(() => graph.copy(graph.getSelectedCells().filter((c) => !RC.graph.isInput(c)))));
    graph.bindKey(["ctrl+v", "meta+v"], guard(paste));
    graph.bindKey(["ctrl+z", "meta+z"], guard(() => graph.undo()));
    graph.bindKey(["ctrl+shift+z", "meta+shift+z", "ctrl+y"], guard(() => graph.redo()));
  }

  graph.on("edge:connected", ({ edge, isNew }) => { if (isNew) askRelations(edge, true); });
  graph.on("edge:dblclick", ({ edge }) => askRelations(edge, false));
  graph.on("node:dblclick", ({ node }) => editNode(node));
  graph.on("selection:changed", ({ selected }) => {
    const nodes = selected.filter((c) => c.isNode() && !RC.graph.isInput(c));
    if (nodes.length === 1) RC.debugPanel.show($("side"), nodes[0].getData());
  });
  graph.on("history:change", updateStatus);
  graph.on("cell:added", () => RC.testRun.clear(graph));
  keys();

  $("save").addEventListener("click", save);
  $("undo").addEventListener("click", () => graph.undo());
  $("redo").addEventListener("click", () => graph.redo());
  $("fit").addEventListener("click", () => graph.zoomToFit({ padding: 30, maxScale: 1 }));
  $("layout").addEventListener("click", () => { RC.graph.layout(graph); graph.zoomToFit({ padding: 30, maxScale: 1 }); });
  $("export").addEventListener("click", download);
  $("test").addEventListener("click", () => RC.testRun.open($("test-dialog"), $("side"), graph, chainId, metadata()));
  // a detached file input: the admin theme rewires every <input type=file> in the document
  $("import").addEventListener("click", () => {
    const picker = Object.assign(document.createElement("input"), { type: "file", accept: ".json,application/json" });
    picker.addEventListener("change", async () => {
      const file = picker.files[0];
      if (!file) return;
      try { importJson(JSON.parse(await file.text())); showError(""); setStatus("imported: Save to keep it"); }
      catch (err) { showError("Could not import " + file.name + ": " + err.message); }
    });
    picker.click();
  });
  window.addEventListener("beforeunload", (e) => { if (dirty()) { e.preventDefault(); e.returnValue = ""; } });

  window.ruleChainEditor = { graph, state, metadata, exportJson, importJson, save, nodes: plainNodes };
  start();
})();
