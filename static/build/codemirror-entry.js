// Everything the admin pages use from CodeMirror 6, exposed as window.CM by esbuild (--global-name=CM).
export { EditorView, basicSetup } from "codemirror";
export { EditorState, Compartment } from "@codemirror/state";
export { keymap } from "@codemirror/view";
export { javascript } from "@codemirror/lang-javascript";
export { java } from "@codemirror/lang-java";
export { json } from "@codemirror/lang-json";
export { setDiagnostics, lintGutter } from "@codemirror/lint";
