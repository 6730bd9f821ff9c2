/* Integration add/change page: a guided form built from the chosen type's configuration schema
   (pydantic JSON schema, rendered into #ui-type-schemas by IntegrationAdmin). The JSON textarea
   "config_text" stays the submitted field: the guided form writes into it on every change, and
   "Edit as JSON" shows it for keys the form does not cover. Secrets keep the mask the server
   sent (never the stored value); leaving it keeps the stored secret. */
(function () {
  "use strict";
  const { el } = window.UI;

  function resolve(schema, root) {
    if (!schema) return {};
    if (schema.$ref) return resolve(root.$defs[schema.$ref.split("/").pop()], root);
    if (schema.anyOf) {
      const inner = schema.anyOf.find((s) => s.type !== "null");
      return Object.assign({}, resolve(inner, root), { title: schema.title, default: schema.default,
        description: schema.description, nullable: true });
    }
    if (schema.allOf && schema.allOf.length === 1) return Object.assign({}, resolve(schema.allOf[0], root), schema, { allOf: undefined });
    return schema;
  }

  function humanize(name) {
    return name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  /* Builds inputs for `schema` at `path`; returns a getter of the value they hold. */
  function build(container, schema, value, path, ctx) {
    const s = resolve(schema, ctx.root);
    const props = s.properties;
    if (s.type === "object" && props) {
      const getters = {};
      Object.entries(props).forEach(([name, sub]) => {
        const subPath = path ? path + "." + name : name;
        const r = resolve(sub, ctx.root);
        const current = value && value[name] !== undefined ? value[name] : r.default;
        if (r.type === "object" && r.properties) {
          const fs = el("fieldset", {}, el("legend", {}, humanize(name)));
          container.append(fs);
          const inner = build(fs, sub, current || {}, subPath, ctx);
          // an optional object (e.g. deduplication) left empty or at its defaults is left out
          getters[name] = r.nullable ? () => {
            const v = inner();
            const unset = Object.entries(v).every(([k, x]) => x === "" || x === null || x === undefined
              || (r.properties[k] && resolve(r.properties[k], ctx.root).default === x));
            return unset && (current === null || current === undefined) ? undefined : v;
          } : inner;
        } else {
          const field = el("div", { class: "ui-field" });
          const id = "cfg-" + subPath.replace(/\./g, "-");
          field.append(el("label", { for: id }, humanize(name)));
          getters[name] = leaf(field, r, current, subPath, id, ctx);
          if (r.description) field.append(el("div", { class: "ui-help" }, r.description));
          container.append(field);
        }
      });
      return () => {
        const out = Object.assign({}, value || {});
        Object.entries(getters).forEach(([k, g]) => { const v = g(); if (v === undefined) delete out[k]; else out[k] = v; });
        return out;
      };
    }
    return leaf(container, s, value, path, "cfg-" + path, ctx);
  }

  function leaf(field, s, current, path, id, ctx) {
    const attrs = { id, class: "ui-input", "data-path": path };
    if (s.enum) {
      const sel = el("select", attrs, s.enum.map((v) => el("option", { value: v }, String(v))));
      sel.value = current ?? s.enum[0];
      field.append(sel);
      return () => sel.value;
    }
    if (s.type === "boolean") {
      const box = el("input", Object.assign({ type: "checkbox" }, attrs));
      box.checked = !!current;
      field.append(el("div", {}, box));
      return () => box.checked;
    }
    if (s.type === "integer" || s.type === "number") {
      const input = el("input", Object.assign({ type: "number", step: s.type === "integer" ? "1" : "any" }, attrs));
      input.value = current ?? "";
      field.append(input);
      return () => (input.value === "" ? (s.nullable ? null : undefined) : Number(input.value));
    }
    if (s.type === "string") {
      const secret = ctx.secrets.includes(path);
      const input = el("input", Object.assign({ type: secret ? "password" : "text", autocomplete: "off" }, attrs));
      input.value = current ?? "";
      if (secret) input.placeholder = "enter to set or change";
      field.append(input);
      return () => (input.value === "" && s.nullable ? null : input.value);
    }
    // dicts, lists and anything else: JSON text
    const area = el("textarea", Object.assign({ rows: "3", spellcheck: "false" }, attrs), JSON.stringify(current ?? (s.type === "array" ? [] : {}), null, 1));
    area.classList.add("ui-mono");
    field.append(area);
    return () => {
      try { area.classList.remove("ui-error"); return JSON.parse(area.value || "null"); }
      catch (e) { area.classList.add("ui-error"); throw new Error(humanize(path) + ": not valid JSON"); }
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dataNode = document.getElementById("ui-type-schemas");
    const textarea = document.querySelector("textarea[name=config_text]");
    const typeField = document.querySelector("select[name=type]");
    if (!dataNode || !textarea || !typeField) return;
    const types = JSON.parse(dataNode.textContent);
    const host = el("div", { class: "ui-schema-form", "data-role": "schema-form" });
    const problem = el("div", { class: "ui-error", "data-role": "schema-problem" });
    const toggle = el("button", { type: "button", class: "ui-btn ui-btn-small", "data-role": "toggle-json" }, "Edit as JSON");
    textarea.before(host, problem);
    textarea.after(el("div", { class: "ui-toolbar" }, toggle));
    let getter = null, asJson = false, renderedType = typeField.value;

    function render(config) {
      host.replaceChildren();
      const t = types[typeField.value];
      if (!t) { host.append(el("p", { class: "ui-muted" }, "Choose the type first; its settings appear here.")); getter = null; return; }
      getter = build(host, t.schema, config, "", { root: t.schema, secrets: t.secrets });
      const baseUrl = host.querySelector("[data-path=baseUrl]");
      if (baseUrl && !baseUrl.value) baseUrl.value = location.origin;  // where this server is reached
    }

    function sync() {
      if (asJson || !getter) return;
      try { textarea.value = JSON.stringify(getter(), null, 2); problem.textContent = ""; }
      catch (e) { problem.textContent = e.message; }
    }

    function current() { try { return JSON.parse(textarea.value || "{}"); } catch (e) { return {}; } }

    textarea.hidden = true;
    render(current());
    sync();
    host.addEventListener("input", sync);
    host.addEventListener("change", sync);
    typeField.addEventListener("change", () => {
      if (typeField.value !== renderedType) { renderedType = typeField.value; render({}); sync(); }
    });
    toggle.addEventListener("click", () => {
      asJson = !asJson;
      textarea.hidden = !asJson;
      host.hidden = asJson;
      toggle.textContent = asJson ? "Back to the form" : "Edit as JSON";
      if (!asJson) { render(current()); sync(); }
    });
    textarea.closest("form").addEventListener("submit", sync);
  });
})();
