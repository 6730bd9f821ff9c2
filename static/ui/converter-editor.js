/* Converter change page: the script in CodeMirror 6 (window.CM, static/ui/vendor/codemirror.js),
   the compile error of the last save at its line, and the "Test decoder/encoder function" panels
   calling POST /api/converter/testUpLink and testDownLink with the admin session. */
(function () {
  "use strict";
  const { api, utf8ToBase64, base64ToUtf8, el, pretty, errorLine } = window.UI;

  function markError(view, message) {
    const box = document.querySelector("[data-role=compile-error]");
    const line = errorLine(message);
    if (!message) {
      view.dispatch(CM.setDiagnostics(view.state, []));
      if (box) { box.hidden = true; box.textContent = ""; }
      return;
    }
    const n = Math.min(Math.max(line || 1, 1), view.state.doc.lines);
    const l = view.state.doc.line(n);
    view.dispatch(CM.setDiagnostics(view.state, [{ from: l.from, to: l.to, severity: "error", message }]));
    view.dispatch({ selection: { anchor: l.from }, scrollIntoView: true });
    if (box) {
      box.hidden = false;
      box.dataset.line = line || "";
      box.textContent = line ? `Line ${line}: ${message.replace(/\s*\(line \d+\)\s*$/, "")}` : message;
    }
  }

  function mountEditor() {
    const textarea = document.querySelector("textarea[name=script]");
    if (!textarea || !window.CM) return null;
    const host = el("div", { class: "ui-code", "data-role": "code-editor" });
    const errorBox = el("div", { class: "ui-compile-error", "data-role": "compile-error", hidden: "" });
    textarea.after(host, errorBox);
    textarea.hidden = true;
    // TBEL (an MVEL dialect) reads as Java: the Java grammar highlights its casts, typed
    // declarations and literals; JavaScript otherwise. Switching the form's language switches it.
    const language = new CM.Compartment();
    const grammar = () => (scriptLang() === "TBEL" ? CM.java() : CM.javascript());
    const view = new CM.EditorView({
      doc: textarea.value,
      parent: host,
      extensions: [CM.basicSetup, language.of(grammar()), CM.lintGutter(),
        CM.EditorView.updateListener.of((u) => { if (u.docChanged) textarea.value = u.state.doc.toString(); })],
    });
    host.dataset.language = scriptLang();
    const select = document.querySelector("select[name=script_lang]");
    if (select) select.addEventListener("change", () => {
      view.dispatch({ effects: language.reconfigure(grammar()) });
      host.dataset.language = scriptLang();
    });
    window.converterEditor = view;
    const saved = document.getElementById("ui-script-error");
    const message = saved ? JSON.parse(saved.textContent) : "";
    if (message) markError(view, message.replace(/^.*?does not compile: /, ""));
    return view;
  }

  function kvRows(container, initial) {
    const rows = el("div", { class: "ui-kv" });
    function addRow(k, v) {
      const r = el("div", { class: "ui-kv-row" },
        el("input", { class: "ui-input", placeholder: "key", value: k || "", "data-role": "key" }),
        el("input", { class: "ui-input", placeholder: "value", value: v || "", "data-role": "value" }),
        el("button", { type: "button", class: "ui-btn ui-btn-small", title: "Remove", onclick: () => r.remove() }, "×"));
      rows.append(r);
    }
    Object.entries(initial || {}).forEach(([k, v]) => addRow(k, v));
    container.append(rows, el("button", { type: "button", class: "ui-btn ui-btn-small", onclick: () => addRow() }, "+ Add"));
    return {
      value() {
        const out = {};
        rows.querySelectorAll(".ui-kv-row").forEach((r) => {
          const k = r.querySelector("[data-role=key]").value.trim();
          if (k) out[k] = r.querySelector("[data-role=value]").value;
        });
        return out;
      },
      set(obj) { rows.replaceChildren(); Object.entries(obj || {}).forEach(([k, v]) => addRow(k, v)); },
    };
  }

  function parseMap(text) {
    try { const v = JSON.parse(text || "{}"); return v && typeof v === "object" ? v : {}; } catch (e) { return {}; }
  }

  // The language the form says the script is in (JS or TBEL): the test runs it as saving would.
  function scriptLang() {
    const select = document.querySelector("select[name=script_lang]");
    return select && select.value === "TBEL" ? "TBEL" : "JS";
  }

  // The answer of testUpLink/testDownLink: the script's output (or its error) as ThingsBoard shows
  // it, then what the live pipeline would refuse or change (warnings) and, for typed converters
  // and TS013 codecs, the assembled converter output, beside it and never instead of it.
  function resultBox(placeholder) {
    const output = el("pre", { class: "ui-pre", "data-role": "output" }, placeholder);
    const warnings = el("ul", { class: "ui-warnings", "data-role": "warnings", hidden: "" });
    const assembled = el("pre", { class: "ui-pre", "data-role": "output-msg" });
    const assembledBox = el("div", { hidden: "" }, el("label", { class: "ui-label" }, "Converter output"), assembled);
    const box = el("div", {}, el("label", { class: "ui-label" }, "Output"), output, warnings, assembledBox);
    function reset(text, failed) {
      output.className = failed ? "ui-pre ui-error" : "ui-pre";
      output.textContent = text;
      warnings.replaceChildren();
      warnings.hidden = true;
      assembledBox.hidden = true;
    }
    return {
      box,
      running: () => reset("running…", false),
      failed: (message) => reset(message, true),
      show(res) {
        reset(res.error ? res.error : pretty(res.output), Boolean(res.error));
        (res.warnings || []).forEach((w) => warnings.append(el("li", {}, w)));
        warnings.hidden = !(res.warnings || []).length;
        if (res.outputMsg) {
          assembled.textContent = JSON.stringify(res.outputMsg, null, 2);
          assembledBox.hidden = false;
        }
      },
    };
  }

  function uplinkPanel(root, view) {
    const contentType = el("select", { class: "ui-input", "data-role": "content-type" },
      ["JSON", "TEXT", "BINARY"].map((t) => el("option", { value: t }, t === "BINARY" ? "Base64" : t)));
    const payload = el("textarea", { class: "ui-input ui-mono", rows: "8", "data-role": "payload", spellcheck: "false" },
      '{"deviceName": "Sensor A", "temperature": 21.5}');
    const metaBox = el("div");
    const metadata = kvRows(metaBox, { integrationName: "Test integration" });
    const result = resultBox("Press Test to run the decoder.");
    const run = el("button", { type: "button", class: "ui-btn ui-btn-primary", "data-role": "test" }, "Test");
    root.append(el("div", { class: "ui-grid2" },
      el("div", {},
        el("label", { class: "ui-label" }, "Payload content type ", contentType),
        el("label", { class: "ui-label" }, "Payload"), payload,
        el("label", { class: "ui-label" }, "Metadata"), metaBox,
        el("div", { class: "ui-toolbar" }, run)),
      result.box));

    run.addEventListener("click", async () => {
      const b64 = contentType.value === "BINARY" ? payload.value.trim() : utf8ToBase64(payload.value);
      result.running();
      try {
        const res = await api("POST", `/api/converter/testUpLink?scriptLang=${scriptLang()}`,
          { payload: b64, metadata: metadata.value(), decoder: view.state.doc.toString() });
        result.show(res);
        markError(view, res.error || "");
      } catch (e) { result.failed(e.message); }
    });
    return (input) => {
      if (!input || !input.inContent) return;
      contentType.value = ["JSON", "TEXT", "BINARY"].includes(input.inContentType) ? input.inContentType : "TEXT";
      payload.value = input.inContentType === "JSON" ? pretty(input.inContent) : input.inContent;
      metadata.set(parseMap(input.inMetadata));
      root.dataset.prefilled = "1";
    };
  }

  function downlinkPanel(root, view) {
    const msg = el("textarea", { class: "ui-input ui-mono", rows: "6", "data-role": "msg", spellcheck: "false" },
      '{"temperatureUpperLimit": 30}');
    const msgType = el("input", { class: "ui-input", value: "ATTRIBUTES_UPDATED", "data-role": "msg-type" });
    const metaBox = el("div"), intBox = el("div");
    const metadata = kvRows(metaBox, { deviceName: "Sensor A", deviceType: "default" });
    const integrationMetadata = kvRows(intBox, {});
    const result = resultBox("Press Test to run the encoder.");
    const run = el("button", { type: "button", class: "ui-btn ui-btn-primary", "data-role": "test" }, "Test");
    root.append(el("div", { class: "ui-grid2" },
      el("div", {},
        el("label", { class: "ui-label" }, "Message type ", msgType),
        el("label", { class: "ui-label" }, "Message (JSON)"), msg,
        el("label", { class: "ui-label" }, "Metadata"), metaBox,
        el("label", { class: "ui-label" }, "Integration metadata"), intBox,
        el("div", { class: "ui-toolbar" }, run)),
      result.box));
    run.addEventListener("click", async () => {
      result.running();
      try {
        const res = await api("POST", `/api/converter/testDownLink?scriptLang=${scriptLang()}`, {
          msg: msg.value, msgType: msgType.value, metadata: metadata.value(),
          integrationMetadata: integrationMetadata.value(), encoder: view.state.doc.toString() });
        result.show(res);
        markError(view, res.error || "");
      } catch (e) { result.failed(e.message); }
    });
    return (input) => {
      if (!input || !input.inContent) return;
      msg.value = input.inContentType === "BINARY" ? base64ToUtf8(input.inContent) : pretty(input.inContent);
      if (input.inMsgType) msgType.value = input.inMsgType;
      metadata.set(parseMap(input.inMetadata));
      integrationMetadata.set(parseMap(input.inIntegrationMetadata));
      root.dataset.prefilled = "1";
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const view = mountEditor();
    const root = document.querySelector("[data-converter-test]");
    if (!view || !root) return;
    const typeField = document.querySelector("select[name=type]");
    const panels = { UPLINK: root.querySelector("[data-panel=UPLINK]"), DOWNLINK: root.querySelector("[data-panel=DOWNLINK]") };
    const prefill = { UPLINK: uplinkPanel(panels.UPLINK, view), DOWNLINK: downlinkPanel(panels.DOWNLINK, view) };
    const currentType = () => (typeField ? typeField.value : root.dataset.converterType) || "UPLINK";
    const show = () => Object.entries(panels).forEach(([k, p]) => { p.hidden = k !== currentType(); });
    const startersNode = document.getElementById("ui-starter-scripts");
    const starters = startersNode ? JSON.parse(startersNode.textContent) : {};
    if (typeField) typeField.addEventListener("change", () => {
      show();
      // an untouched starter script follows the type (decoder <-> encoder)
      const doc = view.state.doc.toString();
      if (Object.values(starters).includes(doc) && starters[currentType()]) {
        view.dispatch({ changes: { from: 0, to: doc.length, insert: starters[currentType()] } });
      }
    });
    show();
    const id = root.dataset.converterId;
    if (id) {
      api("GET", `/api/converter/${id}/debugIn`).then((input) => prefill[currentType()](input)).catch(() => {});
    }
  });
})();
