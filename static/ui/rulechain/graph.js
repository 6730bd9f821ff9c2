/* The rule chain canvas on X6: node and edge shapes, the chain <-> ThingsBoard RuleChainMetaData
   conversion, and automatic layout with dagre. Used by editor.js (window.RC.graph). */
(function () {
  "use strict";
  const RC = (window.RC = window.RC || {});
  const COLORS = { FILTER: "#f1e861", ENRICHMENT: "#cdf14e", TRANSFORMATION: "#79cef1", ACTION: "#f1928f",
    EXTERNAL: "#fbc766", FLOW: "#d6c4f1", INPUT: "#a3e4a1" };
  const W = 180, H = 50, INPUT_ID = "rc-input";
  const dagre = X6.dagre && X6.dagre.layout ? X6.dagre : (X6.dagre && X6.dagre.default);

  const portAttrs = (magnet) => ({ circle: { r: 6, magnet, stroke: "#555", strokeWidth: 1, fill: "#fff" } });
  const PORTS = { groups: { in: { position: "left", attrs: portAttrs("passive") },
    out: { position: "right", attrs: portAttrs(true) } } };

  function shortType(type) { return String(type || "").split(".").pop(); }

  function title(data) {
    if (data.input) return "Input";
    const name = data.name || data.label || shortType(data.type);
    return (name.length > 24 ? name.slice(0, 23) + "…" : name) + "\n" + (data.label || shortType(data.type));
  }

  function nodeSpec(data, x, y) {
    const items = data.input ? [{ id: "out", group: "out" }]
      : (data.outEnabled === false ? [{ id: "in", group: "in" }] : [{ id: "in", group: "in" }, { id: "out", group: "out" }]);
    return {
      shape: "rect", x, y, width: data.input ? 80 : W, height: H, data, id: data.input ? INPUT_ID : undefined,
      ports: { ...PORTS, items },
      attrs: {
        body: { fill: COLORS[data.input ? "INPUT" : data.group] || "#ddd", stroke: "#555", strokeWidth: 1, rx: 6, ry: 6 },
        label: { text: title(data), fontSize: 12, fill: "#111" },
      },
    };
  }

  function edgeSpec(source, target, relations) {
    return {
      shape: "edge", source: { cell: source, port: "out" }, target: { cell: target, port: "in" },
      data: { relations: relations.slice() }, connector: { name: "smooth" },
      attrs: { line: { stroke: "#666", strokeWidth: 1.5, targetMarker: { name: "classic", size: 7 } } },
      labels: relations.length ? [labelOf(relations)] : [],
    };
  }

  function labelOf(relations) {
    return { attrs: { label: { text: relations.join(" / "), fontSize: 11, fill: "#111" },
      body: { fill: "#fff", stroke: "#999", rx: 3, ry: 3 } } };
  }

  function setRelations(edge, relations) {
    edge.setData({ relations: relations.slice() }, { overwrite: true });
    edge.setLabels(relations.length ? [labelOf(relations)] : []);
  }

  function refresh(node) { node.attr("label/text", title(node.getData())); }

  function isInput(cell) { return cell && cell.id === INPUT_ID; }

  /* New X6 graph in `container` with selection, history, clipboard, keyboard, snaplines and a minimap. */
  function create(container, minimap) {
    const graph = new X6.Graph({
      container, autoResize: true, grid: { size: 10, visible: true }, background: { color: "#fafafa" },
      panning: { enabled: true, eventTypes: ["leftMouseDown"], modifiers: ["shift"] },
      mousewheel: { enabled: true, modifiers: ["ctrl", "meta"], minScale: 0.2, maxScale: 3 },
      virtual: true,
      connecting: {
        allowBlank: false, allowLoop: true, allowNode: false, allowEdge: false, allowMulti: false, highlight: true,
        snap: { radius: 20 }, router: "normal",
        createEdge() { return this.createEdge(edgeSpec(null, null, [])); },
        validateConnection({ sourceMagnet, targetMagnet, sourceCell, targetCell }) {
          if (!sourceMagnet || !targetMagnet || isInput(targetCell)) return false;
          if (isInput(sourceCell) && this.getOutgoingEdges(sourceCell)?.some((e) => e.getTargetCell())) return false;
          return sourceMagnet.getAttribute("port-group") === "out" && targetMagnet.getAttribute("port-group") === "in";
        },
      },
    });
    graph.use(new X6.Selection({ enabled: true, multiple: true, rubberband: true, movable: true,
      showNodeSelectionBox: true, showEdgeSelectionBox: false, pointerEvents: "none" }));
    graph.use(new X6.History({ enabled: true }));
    graph.use(new X6.Clipboard({ enabled: true }));
    graph.use(new X6.Keyboard({ enabled: true, global: true }));
    graph.use(new X6.Snapline({ enabled: true }));
    if (minimap) graph.use(new X6.MiniMap({ container: minimap, width: 200, height: 130, padding: 8 }));
    return graph;
  }

  function hasPositions(nodes) {
    return nodes.length > 0 && nodes.every((n) => n.additionalInfo && Number.isFinite(n.additionalInfo.layoutX)
      && Number.isFinite(n.additionalInfo.layoutY));
  }

  /* Replace the graph's cells with the chain `meta` (RuleChainMetaData); `kinds`: descriptor by class name. */
  function load(graph, meta, kinds) {
    const nodes = meta.nodes || [];
    const cells = [];
    const ids = nodes.map((n, i) => {
      const kind = kinds[n.type] || {};
      const def = (kind.configurationDescriptor || {}).nodeDefinition || {};
      const info = n.additionalInfo || {};
      const data = { id: n.id && n.id.id ? n.id.id : null, type: n.type, name: n.name || "", group: kind.type || "ACTION",
        label: kind.name || shortType(n.type), outEnabled: def.outEnabled !== false,
        configuration: n.configuration || {}, additionalInfo: info, configurationVersion: n.configurationVersion || 0,
        singletonMode: !!n.singletonMode, debugSettings: n.debugSettings || { failuresEnabled: false, allEnabled: !!n.debugMode, allEnabledUntil: 0 } };
      const spec = nodeSpec(data, info.layoutX || 0, info.layoutY || 0);
      spec.id = "n" + i + "-" + Math.random().toString(36).slice(2, 8);
      cells.push(spec);
      return spec.id;
    });
    const first = Number.isInteger(meta.firstNodeIndex) && meta.firstNodeIndex >= 0 ? meta.firstNodeIndex : null;
    const pairs = new Map();
    (meta.connections || []).forEach((c) => {
      const key = c.fromIndex + ">" + c.toIndex;
      if (!pairs.has(key)) pairs.set(key, { from: c.fromIndex, to: c.toIndex, relations: [] });
      pairs.get(key).relations.push(c.type);
    });
    const edges = [...pairs.values()].filter((p) => ids[p.from] && ids[p.to]).map((p) => edgeSpec(ids[p.from], ids[p.to], p.relations));
    const input = nodeSpec({ input: true }, 0, 0);
    if (first !== null && ids[first]) edges.push(edgeSpec(INPUT_ID, ids[first], []));
    graph.resetCells([...cells, input].map((c) => graph.createNode(c)).concat(edges.map((e) => graph.createEdge(e))));
    if (!hasPositions(nodes)) layout(graph);
    else placeInput(graph);
    graph.cleanHistory();
  }

  function placeInput(graph) {
    const input = graph.getCellById(INPUT_ID);
    const others = graph.getNodes().filter((n) => !isInput(n));
    if (!input || !others.length) return;
    const minX = Math.min(...others.map((n) => n.getPosition().x));
    const target = (graph.getOutgoingEdges(input) || []).map((e) => e.getTargetCell()).find(Boolean);
    const y = target ? target.getPosition().y : Math.min(...others.map((n) => n.getPosition().y));
    input.setPosition(minX - 160, y);
  }

  /* Left-to-right layered layout of the whole chain (dagre). */
  function layout(graph) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 90, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    graph.getNodes().forEach((n) => g.setNode(n.id, { width: n.getSize().width, height: n.getSize().height }));
    graph.getEdges().forEach((e) => { if (e.getSourceCellId() && e.getTargetCellId()) g.setEdge(e.getSourceCellId(), e.getTargetCellId()); });
    dagre.layout(g);
    graph.batchUpdate("layout", () => {
      graph.getNodes().forEach((n) => {
        const p = g.node(n.id);
        if (p) n.setPosition(Math.round(p.x - p.width / 2), Math.round(p.y - p.height / 2));
      });
    });
  }

  /* The canvas as RuleChainMetaData (ThingsBoard's shape) for `chainId` at `version`. */
  function toMetadata(graph, chainId, version) {
    const nodes = graph.getNodes().filter((n) => !isInput(n));
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    let firstNodeIndex = null;
    const connections = [];
    graph.getEdges().forEach((e) => {
      const src = e.getSourceCellId(), dst = index.get(e.getTargetCellId());
      if (dst === undefined) return;
      if (src === INPUT_ID) { firstNodeIndex = dst; return; }
      if (!index.has(src)) return;
      (e.getData()?.relations || []).forEach((type) => connections.push({ fromIndex: index.get(src), toIndex: dst, type }));
    });
    const metaNodes = nodes.map((n) => {
      const d = n.getData(), p = n.getPosition();
      // an open debug-all window is kept as it is (allEnabled would open a new one: the form sets it)
      const debug = d.debugSettings && d.debugSettings.allEnabledUntil ? { ...d.debugSettings, allEnabled: false } : d.debugSettings;
      const out = { type: d.type, name: d.name, debugSettings: debug, singletonMode: !!d.singletonMode,
        configurationVersion: d.configurationVersion || 0, configuration: d.configuration,
        additionalInfo: { ...(d.additionalInfo || {}), layoutX: Math.round(p.x), layoutY: Math.round(p.y) } };
      if (d.id) out.id = { entityType: "RULE_NODE", id: d.id };
      return out;
    });
    const meta = { ruleChainId: { entityType: "RULE_CHAIN", id: chainId }, firstNodeIndex, nodes: metaNodes,
      connections, ruleChainConnections: [] };
    if (version !== undefined && version !== null) meta.version = version;
    return meta;
  }

  /* A palette descriptor as the data of a new node. */
  function dataFromKind(kind) {
    const def = (kind.configurationDescriptor || {}).nodeDefinition || {};
    return { id: null, type: kind.clazz, name: "", group: kind.type, label: kind.name, outEnabled: def.outEnabled !== false,
      configuration: JSON.parse(JSON.stringify(def.defaultConfiguration || {})), additionalInfo: {},
      configurationVersion: 0, singletonMode: false, debugSettings: { failuresEnabled: false, allEnabled: false, allEnabledUntil: 0 } };
  }

  RC.graph = { create, load, layout, toMetadata, nodeSpec, edgeSpec, setRelations, refresh, isInput, dataFromKind,
    placeInput, shortType, INPUT_ID, COLORS };
})();
