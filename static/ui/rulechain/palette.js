/* The node palette: every rule-node type of GET /api/components, grouped as ThingsBoard groups
   them; dragging one onto the canvas opens its configuration form (window.RC.palette). */
(function () {
  "use strict";
  const RC = (window.RC = window.RC || {});
  const { el } = window.UI;
  const GROUPS = ["FILTER", "ENRICHMENT", "TRANSFORMATION", "ACTION", "EXTERNAL", "FLOW"];

  /* Fills `root` with `kinds` (descriptors); `configure(kind, data)` resolves to the new node's data or null. */
  function build(root, graph, kinds, configure) {
    const dnd = new X6.Dnd({
      target: graph, scaled: false,
      validateNode: async (node) => {
        const data = await configure(kinds.find((k) => k.clazz === node.getData().type), node.getData());
        if (!data) return false;
        node.setData(data, { overwrite: true });
        RC.graph.refresh(node);
        return true;
      },
    });
    const search = root.querySelector("[data-role=palette-search]");
    const groups = GROUPS.map((group) => {
      const items = kinds.filter((k) => k.type === group).map((kind) => {
        const item = el("div", { class: "rc-item", "data-node-type": kind.clazz, title: kind.clazz,
          style: `--rc-color:${RC.graph.COLORS[group]}` }, kind.name);
        item.addEventListener("mousedown", (e) => {
          e.preventDefault();
          dnd.start(graph.createNode(RC.graph.nodeSpec(RC.graph.dataFromKind(kind), 0, 0)), e);
        });
        return item;
      });
      return el("div", { class: "rc-group", "data-group": group }, el("h3", {}, group.toLowerCase()), items);
    });
    root.append(...groups);
    search.addEventListener("input", () => {
      const q = search.value.trim().toLowerCase();
      root.querySelectorAll(".rc-item").forEach((item) => {
        item.hidden = q && !item.textContent.toLowerCase().includes(q) && !item.title.toLowerCase().includes(q);
      });
    });
    return dnd;
  }

  RC.palette = { build, GROUPS };
})();
