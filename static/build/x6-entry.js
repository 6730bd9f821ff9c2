// What the rule chain page uses from X6 (graph, its plugins) and dagre (automatic layout),
// exposed as window.X6 by esbuild (--global-name=X6).
export { Graph, Shape, History, Clipboard, Keyboard, Selection, Snapline, MiniMap, Dnd } from "@antv/x6";
export { default as dagre } from "@dagrejs/dagre";
