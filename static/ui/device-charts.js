/* Device and asset change pages: a uPlot chart (static/ui/vendor/uplot.js) per numeric time-series
   key over the chosen range, from the telemetry API with the admin session. New values are
   picked up every POLL_MS from the latest-values endpoint and appended, so the charts follow
   live traffic without a reload. */
(function () {
  "use strict";
  const { api, el, fmtTime } = window.UI;
  const POLL_MS = 2000;
  const COLORS = ["#7c3aed", "#0891b2", "#ea580c", "#16a34a", "#db2777", "#2563eb"];

  function numeric(v) { const n = typeof v === "number" ? v : parseFloat(v); return Number.isFinite(n) ? n : null; }

  function Charts(root) {
    const base = `/api/plugins/telemetry/${root.dataset.entityType}/${root.dataset.entityId}`;
    const rangeSel = root.querySelector("[data-role=range]");
    const grid = root.querySelector("[data-role=charts]");
    const empty = root.querySelector("[data-role=empty]");
    const charts = {};  // key -> {plot, xs, ys, last, label}

    function makeChart(key, points, index) {
      const box = el("div", { class: "ui-chart", "data-key": key });
      const label = el("span", { class: "ui-muted", "data-role": "latest" });
      box.append(el("h3", {}, key, " ", label));
      grid.append(box);
      const xs = points.map((p) => p.ts / 1000), ys = points.map((p) => numeric(p.value));
      const width = Math.max(320, box.clientWidth || 460);
      const plot = new uPlot({
        width, height: 200, legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, { label: key, stroke: COLORS[index % COLORS.length], width: 2, points: { size: 5 } }],
        axes: [{ stroke: "#888" }, { stroke: "#888" }],
      }, [xs, ys], box);
      const chart = { plot, xs, ys, label, box };
      setLatest(chart);
      charts[key] = chart;
      empty.hidden = true;
      return chart;
    }

    function setLatest(chart) {
      const n = chart.xs.length;
      chart.label.textContent = n ? `${chart.ys[n - 1]} at ${fmtTime(chart.xs[n - 1] * 1000)}` : "";
      chart.box.dataset.points = String(n);
      chart.box.dataset.latest = n ? String(chart.ys[n - 1]) : "";
    }

    async function load() {
      grid.replaceChildren();
      Object.keys(charts).forEach((k) => delete charts[k]);
      const end = Date.now(), start = end - parseInt(rangeSel.value, 10);
      let keys = [];
      try { keys = await api("GET", `${base}/keys/timeseries`); } catch (e) { empty.textContent = e.message; return; }
      if (!keys.length) { empty.hidden = false; return; }
      const data = await api("GET", `${base}/values/timeseries?keys=${encodeURIComponent(keys.join(","))}` +
        `&startTs=${start}&endTs=${end}&limit=10000&orderBy=ASC`);
      let i = 0;
      keys.forEach((key) => {
        const points = (data[key] || []).filter((p) => numeric(p.value) !== null);
        if (points.length || !(data[key] || []).length) makeChart(key, points, i++);
      });
      if (!i) empty.hidden = false;
    }

    async function poll() {
      try {
        const latest = await api("GET", `${base}/values/timeseries`);
        const cutoff = (Date.now() - parseInt(rangeSel.value, 10)) / 1000;
        Object.entries(latest || {}).forEach(([key, values]) => {
          const p = values && values[0];
          if (!p || numeric(p.value) === null) return;
          const chart = charts[key] || makeChart(key, [], Object.keys(charts).length);
          const x = p.ts / 1000;
          if (chart.xs.length && x <= chart.xs[chart.xs.length - 1]) return;
          chart.xs.push(x); chart.ys.push(numeric(p.value));
          while (chart.xs.length && chart.xs[0] < cutoff) { chart.xs.shift(); chart.ys.shift(); }
          chart.plot.setData([chart.xs, chart.ys]);
          setLatest(chart);
        });
        root.dataset.polled = String(Date.now());
      } catch (e) { /* next poll retries */ }
      setTimeout(poll, POLL_MS);
    }

    rangeSel.addEventListener("change", load);
    load().then(() => setTimeout(poll, POLL_MS));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-telemetry-charts]").forEach(Charts);
  });
})();
