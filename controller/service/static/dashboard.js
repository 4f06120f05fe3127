// Park microgrid dashboard: plain script, no build step. Reads the REST API with a key kept
// in sessionStorage (this tab only); a key in the URL fragment (#key=...) is taken once and
// removed from the address bar. The fragment never reaches the server.
"use strict";

const KEY_STORE = "microgrid.apiKey";
const BAND_COLOURS = {
  critical_peak: "rgba(198, 40, 40, 0.16)",
  peak: "rgba(239, 108, 0, 0.13)",
  flat: "rgba(255, 255, 255, 0)",
  valley: "rgba(30, 136, 229, 0.10)",
  deep_valley: "rgba(30, 136, 229, 0.20)",
};
const SOURCES = [
  ["PV", /^pv_(.+)_kw$/, /_(available|curtailed)_kw$/, "#f9a825"],
  ["Wind", /^wind_(.+)_kw$/, /_(available|curtailed)_kw$/, "#26a69a"],
  ["Battery discharge", /^battery_(.+)_discharge_kw$/, null, "#7e57c2"],
  ["Grid import", /^grid_import_kw$/, null, "#78909c"],
];
const USES = [
  ["Loads", /^load_(.+)_kw$/, null, "#5d4037"],
  ["Heat pumps", /^heat_pump_(.+)_kw$/, null, "#e53935"],
  ["Electric boilers", /^boiler_(.+)_kw$/, /_fuel_kw$/, "#ff7043"],
  ["Battery charge", /^battery_(.+)_charge_kw$/, null, "#b39ddb"],
  ["Grid export", /^grid_export_kw$/, null, "#1e88e5"],
  ["Network losses", /^network_losses_kw$/, null, "#bdbdbd"],
];
const LEVELS = [
  [/^battery_(.+)_soc_kwh$/, "SoC ", "kWh", "#4527a0"],
  [/^thermal_storage_(.+)_level_kwh_th$/, "Tank ", "kWh_th", "#bf360c"],
];

let chart = null;
let current = null;

function takeKeyFromFragment() {
  const match = /(?:^|&)key=([^&]+)/.exec(location.hash.slice(1));
  if (match) {
    sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function api(path) {
  const key = sessionStorage.getItem(KEY_STORE);
  const response = await fetch(path, { headers: key ? { Authorization: "Bearer " + key } : {} });
  if (response.status === 401) {
    sessionStorage.removeItem(KEY_STORE);
    showLogin("That key was not accepted.");
    throw new Error("unauthorised");
  }
  if (!response.ok) {
    const text = await response.text();
    throw new Error(response.status + " " + text);
  }
  return response.json();
}

function showLogin(message) {
  document.getElementById("login").hidden = false;
  document.getElementById("main").hidden = true;
  document.getElementById("key-error").textContent = message || "";
}

function sumColumns(series, pattern, exclude) {
  const names = Object.keys(series).filter((n) => pattern.test(n) && !(exclude && exclude.test(n)));
  if (!names.length) return null;
  const n = series[names[0]].length;
  const out = new Array(n).fill(0);
  for (const name of names) series[name].forEach((v, i) => { out[i] += v || 0; });
  return out.map((v) => Math.round(v * 1000) / 1000);
}

function chartData(plan) {
  const s = plan.intervals.columns;
  const labels = plan.intervals.interval_start.map((t) => t.slice(5, 16).replace("T", " "));
  const datasets = [];
  for (const [label, pattern, exclude, colour] of SOURCES) {
    const values = sumColumns(s, pattern, exclude);
    if (values) datasets.push({ type: "bar", label, data: values, backgroundColor: colour, stack: "power", yAxisID: "y" });
  }
  for (const [label, pattern, exclude, colour] of USES) {
    const values = sumColumns(s, pattern, exclude);
    if (values) datasets.push({ type: "bar", label, data: values.map((v) => -v), backgroundColor: colour, stack: "power", yAxisID: "y" });
  }
  for (const [pattern, prefix, unit, colour] of LEVELS) {
    for (const name of Object.keys(s).filter((n) => pattern.test(n))) {
      const asset = pattern.exec(name)[1];
      datasets.push({ type: "line", label: prefix + asset + " " + unit, data: s[name], borderColor: colour, backgroundColor: colour, pointRadius: 0, borderWidth: 2, yAxisID: "level" });
    }
  }
  return { labels, datasets, bands: s.price_band || [] };
}

const bandPlugin = {
  id: "priceBands",
  beforeDatasetsDraw(c) {
    const bands = c.config.options.plugins.priceBands.bands;
    const x = c.scales.x;
    const area = c.chartArea;
    if (!bands || !bands.length) return;
    const width = (area.right - area.left) / bands.length;
    c.ctx.save();
    bands.forEach((band, i) => {
      c.ctx.fillStyle = BAND_COLOURS[band] || "rgba(0,0,0,0)";
      c.ctx.fillRect(x.getPixelForValue(i) - width / 2, area.top, width, area.bottom - area.top);
    });
    c.ctx.restore();
  },
};

function drawChart(plan) {
  const canvas = document.getElementById("plan-chart");
  const data = chartData(plan);
  if (chart) chart.destroy();
  chart = new Chart(canvas, {
    data: { labels: data.labels, datasets: data.datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, ticks: { maxTicksLimit: 16 } },
        y: { stacked: true, title: { display: true, text: "kW" } },
        level: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "kWh / kWh_th" } },
      },
      plugins: { priceBands: { bands: data.bands }, legend: { position: "bottom" } },
    },
    plugins: [bandPlugin],
  });
  canvas.dataset.planId = String(plan.id);
  canvas.dataset.rendered = "true";
}

function fmt(value, digits) {
  return value === null || value === undefined ? "" : Number(value).toLocaleString("en", { maximumFractionDigits: digits });
}

function drawKpis(kpis) {
  const rows = [
    ["Renewable self-consumption", fmt(kpis.self_consumption_ratio * 100, 1) + " %", ">= " + fmt(kpis.min_self_consumption_ratio * 100, 0) + " %", kpis.self_consumption_ratio >= kpis.min_self_consumption_ratio - 1e-6],
    ["Renewable export", fmt(kpis.export_ratio * 100, 1) + " %", "<= " + fmt(kpis.max_export_ratio * 100, 0) + " %", kpis.export_ratio <= kpis.max_export_ratio + 1e-6],
    ["Renewable share of consumption", fmt(kpis.renewable_share_of_consumption * 100, 1) + " %", "", null],
    ["Grid import", fmt(kpis.import_kwh, 0) + " kWh", "", null],
    ["Total cost", fmt(kpis.total_cost_cny, 0) + " CNY", "", null],
    ["CO2", fmt(kpis.co2_kg, 0) + " kg", "avoided " + fmt(kpis.co2_avoided_kg, 0) + " kg", null],
  ];
  const body = document.querySelector("#kpis tbody");
  body.innerHTML = "";
  for (const [name, value, target, ok] of rows) {
    const tr = document.createElement("tr");
    const verdict = ok === null ? "" : ok ? "meets" : "misses";
    tr.innerHTML = `<td>${name}</td><td class="num">${value}</td><td>${target}</td><td class="${ok === null ? "" : ok ? "pass" : "fail"}">${verdict}</td>`;
    body.appendChild(tr);
  }
}

function drawHealth(siteId, health) {
  const site = health.sites[siteId];
  const overall = document.getElementById("overall");
  overall.textContent = health.status + (health.demo ? " (demo)" : "");
  overall.className = "badge " + health.status;
  const p = document.getElementById("site-health");
  if (!site) { p.textContent = ""; return; }
  p.innerHTML = `<span class="badge ${site.status}">${site.status}</span> ` + site.reasons.map((r) => `<br>${r}`).join("");
  const fallbacks = Object.keys(site.forecast_fallbacks || {});
  if (fallbacks.length) {
    // a park with little or no history: the plan in force was made on baseline forecasts
    const note = document.createElement("span");
    note.textContent = `forecast: fallback baselines for ${fallbacks.length} series (${fallbacks.join(", ")})`;
    p.append(document.createElement("br"), note);
  }
  const body = document.querySelector("#runs tbody");
  body.innerHTML = "";
  for (const run of site.last_runs) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${run.job}</td><td>${run.trigger}</td><td>${run.started_at.slice(0, 19).replace("T", " ")}</td><td class="${run.status === "failed" ? "fail" : ""}">${run.status}${run.error ? ": " + run.error : ""}</td><td>${run.plan_id ?? ""}</td>`;
    body.appendChild(tr);
  }
}

async function showSite(siteId) {
  current = siteId;
  document.querySelectorAll("#parks button").forEach((b) => b.classList.toggle("active", b.dataset.site === siteId));
  const health = await fetch("/health").then((r) => r.json());
  drawHealth(siteId, health);
  try {
    const plan = await api(`/api/v1/sites/${encodeURIComponent(siteId)}/plans/current`);
    document.getElementById("plan-title").textContent = `Plan in force: ${plan.site_id}, ${plan.kind} for ${plan.date}, version ${plan.version}`;
    document.getElementById("plan-meta").textContent = `plan ${plan.id}, status ${plan.status}, made ${plan.created_at.slice(0, 19)} UTC, ${plan.n_intervals} intervals from ${plan.intervals.interval_start[0]}`;
    drawChart(plan);
    drawKpis(plan.kpis);
  } catch (error) {
    document.getElementById("plan-title").textContent = "No plan in force yet";
    document.getElementById("plan-meta").textContent = String(error.message || error);
  }
}

async function start() {
  takeKeyFromFragment();
  if (!sessionStorage.getItem(KEY_STORE)) { showLogin(); return; }
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  const sites = await api("/api/v1/sites");
  const nav = document.getElementById("parks");
  nav.innerHTML = "";
  for (const site of sites) {
    const button = document.createElement("button");
    button.textContent = site.name;
    button.dataset.site = site.id;
    button.addEventListener("click", () => showSite(site.id));
    nav.appendChild(button);
  }
  const wanted = new URLSearchParams(location.search).get("site");
  if (sites.length) await showSite(wanted && sites.some((s) => s.id === wanted) ? wanted : sites[0].id);
  setInterval(() => { if (current) showSite(current); }, 60000);
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORE, document.getElementById("key-input").value.trim());
  start();
});
start();
