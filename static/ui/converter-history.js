/* Converter editor, beyond ThingsBoard: the stored-tests panel (run, add, delete) and the versions
   panel (rollback, asking before a rollback that breaks stored tests), through the REST API
   (/api/converter/{id}/tests, /api/converter/{id}/versions/{n}/rollback) with the admin session. */
(function () {
  "use strict";
  const { api, utf8ToBase64 } = window.UI;

  function badge(cell, passed) {
    cell.textContent = passed ? "pass" : "fail";
    cell.className = "ui-badge " + (passed ? "ui-badge-ok" : "ui-badge-bad");
  }

  function json(text, what) {
    if (!text.trim()) return null;
    try { return JSON.parse(text); } catch (e) { throw new Error(what + " is not JSON: " + e.message); }
  }

  function mountTests(card) {
    const base = `/api/converter/${card.dataset.converterId}/tests`;
    const summary = card.querySelector("[data-role=tests-summary]");
    card.querySelector("[data-action=run-tests]").addEventListener("click", async () => {
      summary.textContent = "running…";
      try {
        const run = await api("POST", base + "/run");
        run.results.forEach((r) => {
          const row = card.querySelector(`tr[data-test-id="${r.id}"]`);
          if (!row) return;
          badge(row.querySelector("[data-role=test-result]"), r.passed);
          row.querySelector("[data-role=test-why]").textContent = r.error || r.differences.join("; ");
        });
        summary.textContent = `${run.passed} passed, ${run.failed} failed (version ${run.converterVersionNumber})`;
        summary.dataset.failed = run.failed;
      } catch (e) { summary.textContent = e.message; }
    });
    card.querySelectorAll("[data-action=delete-test]").forEach((button) => button.addEventListener("click", async () => {
      const row = button.closest("tr");
      if (!window.confirm(`Delete the stored test "${row.dataset.testName}"?`)) return;
      try { await api("DELETE", `${base}/${row.dataset.testId}`); row.remove(); } catch (e) { summary.textContent = e.message; }
    }));
    const add = card.querySelector("[data-role=add-test]");
    add.querySelector("[data-action=add-test]").addEventListener("click", async () => {
      const field = (name) => add.querySelector(`[data-field=${name}]`);
      const error = add.querySelector("[data-role=add-test-error]");
      try {
        const body = { name: field("name").value, metadata: json(field("metadata").value, "Metadata") || {},
          expected: json(field("expected").value, "Expected output") };
        if (card.dataset.converterType === "DOWNLINK") {
          body.msg = field("msg").value;
          body.msgType = field("msgType").value;
        } else {
          body.payload = utf8ToBase64(field("payload").value);
        }
        await api("POST", base, body);
        window.location.reload();
      } catch (e) { error.textContent = e.message; }
    });
  }

  function mountVersions(card) {
    const id = card.dataset.converterId;
    const error = card.querySelector("[data-role=versions-error]");
    card.querySelectorAll("[data-action=rollback]").forEach((button) => button.addEventListener("click", async () => {
      const n = button.closest("tr").dataset.version;
      if (!window.confirm(`Make version ${n} the current version?`)) return;
      const url = `/api/converter/${id}/versions/${n}/rollback`;
      try {
        await api("POST", url);
      } catch (e) {
        if (!e.message.startsWith("409") || !window.confirm(e.message.slice(5) + "\n\nRoll back anyway?")) {
          error.textContent = e.message;
          return;
        }
        try { await api("POST", url + "?force=true"); } catch (e2) { error.textContent = e2.message; return; }
      }
      window.location.reload();
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tests = document.querySelector("[data-role=stored-tests]");
    if (tests) mountTests(tests);
    const versions = document.querySelector("[data-role=versions]");
    if (versions) mountVersions(versions);
  });
})();
