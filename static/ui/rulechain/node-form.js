/* The configuration dialog of one rule node: a form built from the node type's `fields`
   (GET /api/components), "Edit as JSON" beside it, checked by the server
   (POST /api/ruleChain/node/validate) before it is applied. window.RC.nodeForm.open(...) */
(function () {
  "use strict";
  const RC = (window.RC = window.RC || {});
  const { el, api } = window.UI;
  const DEBUG = { off: [false, false], failures: [true, false], all: [true, true] };

  function debugChoice(settings) {
    if (!settings) return "off";
    if (settings.allEnabled) return "all";
    return settings.failuresEnabled ? "failures" : "off";
  }

  function input(field, value) {
    const attrs = { class: "ui-input", "data-field": field.name, "data-kind": field.kind };
    if (field.kind === "bool") {
      const box = el("input", { ...attrs, type: "checkbox" });
      box.checked = !!value;
      return box;
    }
    if (field.kind === "select") {
      const sel = el("select", attrs, field.choices.map((c) => el("option", { value: c }, c === "" ? "(none)" : c)));
      sel.value = value === null || value === undefined ? "" : String(value);
      return sel;
    }
    if (field.kind === "script" || field.kind === "list" || field.kind === "json") {
      const text = field.kind === "list" ? (Array.isArray(value) ? value.join("\n") : "")
        : field.kind === "json" ? JSON.stringify(value === undefined ? null : value, null, 2) : (value || "");
      const area = el("textarea", { ...attrs, rows: field.kind === "script" ? 10 : 4, spellcheck: "false" });
      area.value = text;
      return field.kind === "script" ? codeEditor(field, area) : area;
    }
    const box = el("input", { ...attrs, type: { number: "number", secret: "password" }[field.kind] || "text" });
    box.value = value === null || value === undefined ? "" : String(value);
    return box;
  }

  /* A script field in CodeMirror (window.CM, static/ui/vendor/codemirror.js, as on the converter
     page): the textarea stays the field's value (kept in step, hidden), so the form reads it as
     before; a TBEL field (`tbelScript`) highlights as Java, as the converter page does. */
  function codeEditor(field, area) {
    if (!window.CM) return area;
    const host = el("div", { class: "ui-code", "data-role": "code-editor", "data-code-for": field.name });
    const grammar = /tbel/i.test(field.name) ? CM.java() : CM.javascript();
    const view = new CM.EditorView({
      doc: area.value,
      parent: host,
      extensions: [CM.basicSetup, grammar,
        CM.EditorView.updateListener.of((u) => { if (u.docChanged) area.value = u.state.doc.toString(); })],
    });
    area.hidden = true;
    host.codeView = view;
    return el("div", {}, area, host);
  }

  /* The value an input holds, or throws Error naming the field. */
  function read(field, node) {
    const raw = node.type === "checkbox" ? node.checked : node.value;
    switch (field.kind) {
      case "bool": return !!raw;
      case "number": {
        if (raw === "") return null;
        const n = Number(raw);
        if (!Number.isFinite(n)) throw new Error(`${field.label}: not a number`);
        return n;
      }
      case "list": return raw.split("\n").map((s) => s.trim()).filter(Boolean);
      case "json":
        try { return raw.trim() ? JSON.parse(raw) : null; } catch (e) { throw new Error(`${field.label}: ${e.message}`); }
      case "script": return raw;
      default: return raw === "" ? null : raw;
    }
  }

  /* Opens `dialog` for node `data` of descriptor `kind`; resolves to the new data, or null (cancelled). */
  function open(dialog, kind, data) {
    const def = (kind.configurationDescriptor || {}).nodeDefinition || {};
    const fields = def.fields || [];
    let config = JSON.parse(JSON.stringify(data.configuration || {}));
    let asJson = fields.length === 0;
    const name = el("input", { class: "ui-input", "data-field": "name", value: data.name || "", style: "width:100%" });
    const debug = el("select", { class: "ui-input", "data-field": "debug" },
      el("option", { value: "off" }, "off"), el("option", { value: "failures" }, "failures only"),
      el("option", { value: "all" }, "all messages (for a while, then failures)"));
    debug.value = debugChoice(data.debugSettings);
    const body = el("div", { "data-role": "config" });
    const error = el("div", { class: "ui-error", "data-role": "form-error" });
    const toggle = el("button", { type: "button", class: "ui-btn", "data-role": "edit-json" });
    const apply = el("button", { type: "button", class: "ui-btn ui-btn-primary", "data-role": "apply" }, "Apply");
    const cancel = el("button", { type: "button", class: "ui-btn", "data-role": "cancel" }, "Cancel");
    const details = (def.details || "").split("\n").map((s) => s.trim()).join(" ").replace(/``/g, "");

    function collect() {
      if (asJson) {
        const text = body.querySelector("textarea[data-role=json]").value;
        let parsed;
        try { parsed = JSON.parse(text); } catch (e) { throw new Error("configuration: " + e.message); }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("configuration must be a JSON object");
        return parsed;
      }
      const next = { ...config };
      fields.forEach((f) => { next[f.name] = read(f, body.querySelector(`[data-field="${f.name}"]`)); });
      return next;
    }

    function render() {
      toggle.textContent = asJson ? "Edit as form" : "Edit as JSON";
      toggle.hidden = fields.length === 0;
      if (asJson) {
        const area = el("textarea", { class: "ui-input", "data-role": "json", rows: 16, spellcheck: "false", style: "width:100%" });
        area.value = JSON.stringify(config, null, 2);
        body.replaceChildren(area);
        return;
      }
      body.replaceChildren(...fields.map((f) => el("div", { class: "rc-field" },
        el("label", {}, f.label), input(f, config[f.name]), f.help ? el("div", { class: "ui-help" }, f.help) : "")));
    }

    toggle.addEventListener("click", () => {
      try { config = collect(); error.textContent = ""; } catch (e) { error.textContent = e.message; return; }
      asJson = !asJson;
      render();
    });

    return new Promise((resolve) => {
      const finish = (value) => { dialog.close(); resolve(value); };
      cancel.addEventListener("click", () => finish(null));
      dialog.oncancel = (e) => { e.preventDefault(); finish(null); };
      apply.addEventListener("click", async () => {
        let next;
        try { next = collect(); } catch (e) { error.textContent = e.message; return; }
        if (!name.value.trim()) { error.textContent = "The node needs a name."; return; }
        apply.disabled = true;
        error.textContent = "checking…";
        try {
          await api("POST", "/api/ruleChain/node/validate", { type: data.type, configuration: next });
        } catch (e) {
          error.textContent = e.message;
          apply.disabled = false;
          return;
        }
        const [failuresEnabled, allEnabled] = DEBUG[debug.value];
        const kept = debug.value === debugChoice(data.debugSettings) && data.debugSettings;  // an open window stays
        finish({ ...data, name: name.value.trim(), configuration: next,
          debugSettings: kept || { failuresEnabled, allEnabled, allEnabledUntil: 0 } });
      });
      dialog.replaceChildren(
        el("h2", { class: "ui-h2" }, `${kind.name || RC.graph.shortType(data.type)} (${kind.type || ""})`),
        el("p", { class: "ui-muted" }, details.length > 400 ? details.slice(0, 400) + "…" : details),
        el("div", { class: "rc-field" }, el("label", {}, "Name"), name),
        el("div", { class: "rc-field" }, el("label", {}, "Debug"), debug),
        el("div", { class: "ui-toolbar" }, el("strong", {}, "Configuration"), toggle),
        body, error, el("div", { class: "ui-toolbar" }, apply, cancel));
      render();
      dialog.showModal();
      name.focus();
    });
  }

  /* Asks which relation(s) a new or edited connection carries: the source type's relation types
     (and `extra` ones, e.g. a called chain's outputs), plus free names when its relations are
     custom. Resolves to a list (empty: cancelled). */
  function relations(dialog, kind, current, extra) {
    const def = (kind.configurationDescriptor || {}).nodeDefinition || {};
    const known = [...new Set([...(extra || []), ...(def.relationTypes || []), ...current])];
    const boxes = known.map((r) => {
      const box = el("input", { type: "checkbox", value: r, "data-relation": r });
      box.checked = current.includes(r);
      return el("label", { style: "display:block" }, box, " " + r);
    });
    const custom = el("input", { class: "ui-input", "data-role": "custom-relation", placeholder: "another relation name",
      style: "width:100%" });
    const error = el("div", { class: "ui-error" });
    const ok = el("button", { type: "button", class: "ui-btn ui-btn-primary", "data-role": "relations-ok" }, "OK");
    const cancel = el("button", { type: "button", class: "ui-btn", "data-role": "relations-cancel" }, "Cancel");
    return new Promise((resolve) => {
      const finish = (value) => { dialog.close(); resolve(value); };
      dialog.oncancel = (e) => { e.preventDefault(); finish([]); };
      cancel.addEventListener("click", () => finish([]));
      ok.addEventListener("click", () => {
        const chosen = [...dialog.querySelectorAll("input[data-relation]:checked")].map((b) => b.value);
        custom.value.split(",").map((s) => s.trim()).filter(Boolean).forEach((r) => chosen.includes(r) || chosen.push(r));
        if (!chosen.length) { error.textContent = "Choose at least one relation."; return; }
        finish(chosen);
      });
      dialog.replaceChildren(el("h2", { class: "ui-h2" }, "Relations of this connection"),
        el("p", { class: "ui-muted" }, `What ${kind.name || "the node"} sends by these relations goes along it.`),
        ...boxes, (def.customRelations || !known.length) ? custom : "", error, el("div", { class: "ui-toolbar" }, ok, cancel));
      dialog.showModal();
    });
  }

  RC.nodeForm = { open, relations };
})();
