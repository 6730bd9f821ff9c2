/* The usage page (admin, Usage): one uPlot bar chart per counter of /api/usage/hourly over
   the chosen range, with the range's totals above. Reloads every RELOAD_MS. */
(function () {
  "use strict";
  const { api, el } = window.UI;
  const RELOAD_MS = 30000;
  const SERIES = [
    ["transportMsgCountHourly", "Messages", "#7c3aed"],
    ["storageDataPointsCountHourly", "Data points stored", "#0891b2"],
    ["jsExecutionCountHourly", "JS executions", "#ea580c"],
    ["tbelExecutionCountHourly", "TBEL executions", "#16a34a"],
    ["debugEventsCountHourly", "Debug events", "#db2777"],
  ];
  const HOUR = 3600000;

  function UsageCharts(root) {
    const rangeSel = root.querySelector("[data-role=range]");
    const grid = root.querySelector("[data-role=charts]");
    const totals = root.querySelector("[data-role=totals]");
    const query = root.dataset.query;

    async function load() {
      const hours = parseInt(rangeSel.value, 10);
      const end = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
      const url = `/api/usage/hourly?startTs=${end - hours * HOUR}&endTs=${end}` + (query ? `&${query}` : "");
      let data;
      try { data = await api("GET", url); } catch (e) { totals.textContent = e.message; return; }
      grid.replaceChildren();
      const sums = [];
      SERIES.forEach(([key, label, color]) => {
        const points = data[key] || [];
        const xs = points.map((p) => p.ts / 1000), ys = points.map((p) => p.value);
        const sum = ys.reduce((a, b) => a + b, 0);
        sums.push(`${label}: ${sum}`);
        const box = el("div", { class: "ui-chart", "data-key": key, "data-total": String(sum) });
        box.append(el("h3", {}, label, " ", el("span", { class: "ui-muted" }, String(sum))));
        grid.append(box);
        new uPlot({
          width: Math.max(320, box.clientWidth || 460), height: 180, legend: { show: false },
          scales: { x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] } },  // whole end bars
          series: [{}, { label, stroke: color, fill: color + "99", width: 1, points: { show: false },
                        paths: uPlot.paths.bars({ size: [0.8, 40] }) }],
          axes: [{ stroke: "#888" }, { stroke: "#888" }],
        }, [xs, ys], box);
      });
      totals.textContent = sums.join(" · ");
      root.dataset.loaded = String(Date.now());
    }

    rangeSel.addEventListener("change", load);
    load();
    setInterval(load, RELOAD_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-usage-charts]").forEach(UsageCharts);
  });
})();
