// Park microgrid dashboard: plain script, no build step. Reads the REST API with a key kept
// in sessionStorage (this tab only); a key in the URL fragment (#key=...) is taken once and
// removed from the address bar. The fragment never reaches the server. Words: i18n.js.
// Every time shown is the park's local time (its IANA zone is named beside it).
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
const HEAT_SOURCES = [
  ["Heat pump heat", /^heat_pump_(.+)_heat_kw_th$/, "#e53935"],
  ["Waste heat used", /^waste_heat_(.+)_direct_kw_th$/, "#8d6e63"],
  ["Boiler heat", /^boiler_(.+)_heat_kw_th$/, "#ff7043"],
  ["Tank discharge", /^thermal_storage_(.+)_discharge_kw_th$/, "#ffb74d"],
];

const state = { sites: [], health: null, site: null, plan: null, actuals: null, policy: null, view: "overview" };
const charts = {};

function takeKeyFromFragment() {
  const match = /(?:^|&)key=([^&]+)/.exec(location.hash.slice(1));
  if (match) {
    sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const key = sessionStorage.getItem(KEY_STORE);
  const response = await fetch(path, { headers: key ? { Authorization: "Bearer " + key } : {} });
  if (response.status === 401) {
    sessionStorage.removeItem(KEY_STORE);
    showLogin(t("keyRejected"));
    throw new ApiError(401, "unauthorised");
  }
  if (!response.ok) throw new ApiError(response.status, response.status + " " + (await response.text()));
  return response.json();
}

async function apiOrNull(path) {
  try { return await api(path); } catch (error) { if (error.status === 401) throw error; return null; }
}

function showLogin(message) {
  document.getElementById("login").hidden = false;
  document.getElementById("main").hidden = true;
  document.getElementById("overview").hidden = true;
  document.getElementById("key-error").textContent = message || "";
}

// ---- numbers and times -------------------------------------------------------------------

function locale() { return lang() === "zh" ? "zh-CN" : "en-GB"; }

function priceRange(values) {
  const known = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
  if (!known.length) return fmt(null, 3);
  const low = Math.min(...known);
  const high = Math.max(...known);
  return low === high ? fmt(low, 3) : `${fmt(low, 3)}–${fmt(high, 3)}`;
}

function fmt(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function pct(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return "–";
  return (ratio * 100).toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " %";
}

function localTime(iso, zone) {
  if (!iso) return "";
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour").replace("24", "00")}:${get("minute")}`;
}

function localDate(zone, date) {
  return localTime((date || new Date()).toISOString(), zone).slice(0, 10);
}

function zoneOffset(zone, day) {
  // the zone's UTC offset at local noon of ``day`` as "+08:00"
  const noon = new Date(day + "T12:00:00Z");
  const shown = localTime(noon.toISOString(), zone);
  const minutes = Math.round((Date.parse(shown.replace(" ", "T") + ":00Z") - noon.getTime()) / 60000);
  const sign = minutes < 0 ? "-" : "+";
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

function dayBounds(zone, day) {
  const offset = zoneOffset(zone, day);
  const start = new Date(`${day}T00:00:00${offset}`);
  return [start.toISOString(), new Date(start.getTime() + 86400000).toISOString()];
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function download(name, rows) {
  const text = rows.map((r) => r.map((v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }).join(",")).join("\n") + "\n";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// ---- series ------------------------------------------------------------------------------

function sumColumns(series, pattern, exclude) {
  const names = Object.keys(series).filter((n) => pattern.test(n) && !(exclude && exclude.test(n)));
  if (!names.length) return null;
  const n = series[names[0]].length;
  const out = new Array(n).fill(0);
  for (const name of names) series[name].forEach((v, i) => { out[i] += v || 0; });
  return out.map((v) => Math.round(v * 1000) / 1000);
}

function alignActuals(plan, points) {
  // measured points -> arrays on the plan's intervals (null where nothing was posted)
  const index = new Map(plan.intervals.interval_start.map((ts, i) => [Date.parse(ts), i]));
  const n = plan.intervals.interval_start.length;
  const out = {};
  for (const p of points) {
    const i = index.get(Date.parse(p.ts));
    if (i === undefined) continue;
    if (!out[p.series]) out[p.series] = new Array(n).fill(null);
    out[p.series][i] = p.value;
  }
  return out;
}

function combine(actuals, pattern, sign, into) {
  for (const name of Object.keys(actuals).filter((n) => pattern.test(n))) {
    actuals[name].forEach((v, i) => {
      if (v === null) return;
      into[i] = (into[i] === null ? 0 : into[i]) + sign * v;
    });
  }
}

function measuredSeries(plan, actuals) {
  const n = plan.intervals.interval_start.length;
  const blank = () => new Array(n).fill(null);
  const exchange = blank(), pv = blank(), wind = blank(), battery = blank();
  combine(actuals, /^grid_import_kw$/, 1, exchange);
  combine(actuals, /^grid_export_kw$/, -1, exchange);
  combine(actuals, /^pv_(.+)_kw$/, 1, pv);
  combine(actuals, /^wind_(.+)_kw$/, 1, wind);
  combine(actuals, /^battery_(.+)_discharge_kw$/, 1, battery);
  combine(actuals, /^battery_(.+)_charge_kw$/, -1, battery);
  return [["Measured grid exchange", exchange, "#000000"], ["Measured PV", pv, "#f57f17"], ["Measured wind", wind, "#00695c"], ["Measured battery", battery, "#311b92"]]
    .filter(([, values]) => values.some((v) => v !== null));
}

function line(label, data, colour, extra) {
  return Object.assign({ type: "line", label: t(label), key: label, data, borderColor: colour, backgroundColor: colour, pointRadius: 0, borderWidth: 2, stack: "line-" + label, yAxisID: "y", spanGaps: false }, extra || {});
}

function planDatasets(plan, site, actuals) {
  const s = plan.intervals.columns;
  const n = plan.intervals.interval_start.length;
  const datasets = [];
  for (const [label, pattern, exclude, colour] of SOURCES) {
    const values = sumColumns(s, pattern, exclude);
    if (values) datasets.push({ type: "bar", label: t(label), key: label, data: values, backgroundColor: colour, stack: "power", yAxisID: "y" });
  }
  for (const [label, pattern, exclude, colour] of USES) {
    const values = sumColumns(s, pattern, exclude);
    if (values) datasets.push({ type: "bar", label: t(label), key: label, data: values.map((v) => -v), backgroundColor: colour, stack: "power", yAxisID: "y" });
  }
  if (s.committed_grid_import_kw) {
    const committed = s.committed_grid_import_kw.map((v, i) => (v === null ? null : v - (s.committed_grid_export_kw[i] || 0)));
    const band = s.committed_band_kw || new Array(n).fill(null);
    datasets.push(line("Committed schedule", committed, "#2e7d32", { borderDash: [6, 3] }));
    datasets.push(line("Tolerance band", committed.map((v, i) => (v === null || band[i] === null ? null : v + band[i])), "rgba(46,125,50,0.5)", { borderWidth: 1 }));
    datasets.push(line("Tolerance band", committed.map((v, i) => (v === null || band[i] === null ? null : v - band[i])), "rgba(46,125,50,0.5)", { borderWidth: 1, fill: "-1", backgroundColor: "rgba(46,125,50,0.12)", key: "Tolerance band low" }));
  }
  datasets.push(line("Import limit", new Array(n).fill(site.import_limit_kw), "#b71c1c", { borderDash: [2, 2], borderWidth: 1.5 }));
  datasets.push(line("Export limit", new Array(n).fill(-site.export_limit_kw), "#0d47a1", { borderDash: [2, 2], borderWidth: 1.5 }));
  for (const [label, values, colour] of actuals ? measuredSeries(plan, actuals) : []) {
    datasets.push(line(label, values, colour, { borderWidth: 2.5 }));
  }
  for (const [pattern, prefix, unit, colour] of LEVELS) {
    for (const name of Object.keys(s).filter((c) => pattern.test(c))) {
      const asset = pattern.exec(name)[1];
      const label = prefix + asset + " " + unit;
      datasets.push({ type: "line", label, key: label, data: s[name], borderColor: colour, backgroundColor: colour, pointRadius: 0, borderWidth: 2, yAxisID: "level", stack: "level-" + label });
    }
  }
  if (s.price_cny_per_kwh) {
    datasets.push({ type: "line", label: t("Price") + " (CNY/kWh)", key: "Price", data: s.price_cny_per_kwh, borderColor: "#616161", backgroundColor: "#616161", pointRadius: 0, borderWidth: 1, stepped: "before", yAxisID: "price", stack: "price" });
  }
  return datasets;
}

function heatDatasets(plan) {
  const s = plan.intervals.columns;
  const datasets = [];
  for (const [label, pattern, colour] of HEAT_SOURCES) {
    const values = sumColumns(s, pattern, null);
    if (values) datasets.push({ type: "bar", label: t(label), key: label, data: values, backgroundColor: colour, stack: "heat", yAxisID: "y" });
  }
  const charge = sumColumns(s, /^thermal_storage_(.+)_charge_kw_th$/, null);
  if (charge) datasets.push({ type: "bar", label: t("Tank charge"), key: "Tank charge", data: charge.map((v) => -v), backgroundColor: "#90caf9", stack: "heat", yAxisID: "y" });
  const demand = sumColumns(s, /^heat_demand_(.+)_kw_th$/, /_unmet_kw_th$/);
  if (demand) datasets.push({ type: "line", label: t("Heat demand"), key: "Heat demand", data: demand, borderColor: "#000", backgroundColor: "#000", pointRadius: 0, borderWidth: 2, yAxisID: "y", stack: "demand" });
  const level = sumColumns(s, /^thermal_storage_(.+)_level_kwh_th$/, null);
  if (level) datasets.push({ type: "line", label: t("Tank level") + " (kWh th)", key: "Tank level", data: level, borderColor: "#bf360c", backgroundColor: "#bf360c", pointRadius: 0, borderWidth: 2, borderDash: [4, 2], yAxisID: "level", stack: "level" });
  return datasets;
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

function labels(plan, zone) {
  return plan.intervals.interval_start.map((ts) => localTime(ts, zone).slice(5));
}

function draw(id, plan, zone, datasets, yTitle, extraScales, bands) {
  const canvas = document.getElementById(id);
  if (charts[id]) charts[id].destroy();
  const scales = Object.assign({
    x: { stacked: true, ticks: { maxTicksLimit: 16 }, title: { display: true, text: `${t("localTime")} (${zone})` } },
    y: { stacked: true, title: { display: true, text: yTitle } },
  }, extraScales);
  charts[id] = new Chart(canvas, {
    data: { labels: labels(plan, zone), datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales,
      plugins: { priceBands: { bands }, legend: { position: "bottom", labels: { filter: (item, data) => data.datasets[item.datasetIndex].key !== "Tolerance band low" } } },
    },
    plugins: [bandPlugin],
  });
  canvas.dataset.planId = String(plan.id);
  canvas.dataset.rendered = "true";
}

function drawPlanChart(plan, site, actuals) {
  const s = plan.intervals.columns;
  draw("plan-chart", plan, site.timezone, planDatasets(plan, site, actuals), t("kwAxis"), {
    level: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: t("levelAxis") } },
    price: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: t("priceAxis") } },
  }, s.price_band || []);
  const legend = document.getElementById("band-legend");
  // A band's price, or the range of its intervals' prices where a price series or posted
  // prices replace the calendar's.
  const prices = {};
  (s.price_band || []).forEach((band, i) => {
    const price = s.price_cny_per_kwh ? s.price_cny_per_kwh[i] : null;
    (prices[band] = prices[band] || []).push(price);
  });
  legend.innerHTML = Object.keys(BAND_COLOURS).filter((b) => b in prices).map((b) =>
    `<span class="band" data-band="${b}"><i style="background:${BAND_COLOURS[b].replace(/[\d.]+\)$/, "0.5)")}"></i>${escapeHtml(t(b))} ${priceRange(prices[b])} CNY/kWh</span>`).join(" ");
}

function drawHeatChart(plan, site) {
  draw("heat-chart", plan, site.timezone, heatDatasets(plan), t("heatAxis"), {
    level: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "kWh th" } },
  }, plan.intervals.columns.price_band || []);
}

// ---- tables ------------------------------------------------------------------------------

function row(cells, classes) {
  const tr = document.createElement("tr");
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    td.textContent = c;
    if (classes && classes[i]) td.className = classes[i];
    tr.appendChild(td);
  });
  return tr;
}

function verdict(ok) { return ok === null ? ["", ""] : ok ? [t("meets"), "pass"] : [t("misses"), "fail"]; }

function drawKpis(plan) {
  const k = plan.kpis;
  const body = document.querySelector("#kpis tbody");
  body.innerHTML = "";
  const self = verdict(k.self_consumption_ratio >= k.min_self_consumption_ratio - 1e-6);
  const exp = verdict(k.export_ratio <= k.max_export_ratio + 1e-6);
  body.appendChild(row([t("selfConsumption"), pct(k.self_consumption_ratio), `${t("target")} ${t("atLeast")} ${fmt(k.min_self_consumption_ratio * 100, 0)} %`, self[0]], ["", "num", "", self[1]]));
  body.appendChild(row([t("exportRatio"), pct(k.export_ratio), `${t("target")} ${t("atMost")} ${fmt(k.max_export_ratio * 100, 0)} %`, exp[0]], ["", "num", "", exp[1]]));
  body.appendChild(row([t("renewableShare"), pct(k.renewable_share_of_consumption), "", ""], ["", "num"]));
  body.appendChild(row([t("gridImport"), fmt(k.import_kwh, 0) + " kWh", "", ""], ["", "num"]));
  body.appendChild(row([t("demandCharge"), fmt(k.demand_charge_cny, 0) + " CNY", "", ""], ["", "num"]));
  body.appendChild(row([t("totalCost"), fmt(k.total_cost_cny, 0) + " CNY", "", ""], ["", "num"]));
  body.appendChild(row([t("co2"), fmt(k.co2_kg, 0) + " kg", `${t("avoided")} ${fmt(k.co2_avoided_kg, 0)} kg`, ""], ["", "num"]));
}

function drawPolicy(policy) {
  const body = document.querySelector("#policy tbody");
  body.innerHTML = "";
  if (!policy) return;
  const head = row(["", t("yearToDate"), t("monthToDate"), t("target")]);
  head.className = "head";
  body.appendChild(head);
  const y = policy.year_to_date, m = policy.month_to_date;
  const ok = (v, good) => (v === null ? "" : good(v) ? "pass" : "fail");
  body.appendChild(row([t("selfConsumption"), y.self_consumption_ratio === null ? t("notMeasured") : pct(y.self_consumption_ratio), m.self_consumption_ratio === null ? t("notMeasured") : pct(m.self_consumption_ratio), `${t("atLeast")} ${fmt(policy.min_self_consumption_ratio * 100, 0)} %`],
    ["", "num " + ok(y.self_consumption_ratio, (v) => v >= policy.min_self_consumption_ratio - 1e-6), "num " + ok(m.self_consumption_ratio, (v) => v >= policy.min_self_consumption_ratio - 1e-6), ""]));
  body.appendChild(row([t("exportRatio"), y.export_ratio === null ? t("notMeasured") : pct(y.export_ratio), m.export_ratio === null ? t("notMeasured") : pct(m.export_ratio), `${t("atMost")} ${fmt(policy.max_export_ratio * 100, 0)} %`],
    ["", "num " + ok(y.export_ratio, (v) => v <= policy.max_export_ratio + 1e-6), "num " + ok(m.export_ratio, (v) => v <= policy.max_export_ratio + 1e-6), ""]));
  body.appendChild(row([t("renewableMeasured"), fmt(y.renewable_available_kwh, 0) + " kWh", fmt(m.renewable_available_kwh, 0) + " kWh", ""], ["", "num", "num", ""]));
  const budget = row([t("exportBudget"), policy.remaining_export_budget_kwh === null ? t("notMeasured") : fmt(policy.remaining_export_budget_kwh, 0) + " kWh", "", ""], ["", "num", "", ""]);
  budget.title = t("remainingBudget");
  body.appendChild(budget);
  body.dataset.rendered = "true";
}

function drawDemand(plan, policy, site) {
  // the month's demand-charge exposure: metered peak so far, the plan's peak this month, rate
  const body = document.querySelector("#demand tbody");
  const note = document.getElementById("demand-note");
  body.innerHTML = "";
  note.textContent = "";
  if (!plan || !policy) return;
  const month = localDate(site.timezone).slice(0, 7);
  const imports = plan.intervals.columns.grid_import_kw || [];
  const inMonth = imports.filter((v, i) => localTime(plan.intervals.interval_start[i], site.timezone).startsWith(month));
  const planned = inMonth.length ? Math.max(...inMonth) : null;
  const metered = policy.month_to_date.peak_import_kw;
  const rate = policy.demand_charge_cny_per_kw_month;
  body.appendChild(row([t("peakSoFar"), metered === null ? t("noPeak") : fmt(metered, 0) + " kW"], ["", "num"]));
  body.appendChild(row([t("planBilledPeak"), fmt(plan.metadata.month_peak_import_kw, 0) + " kW"], ["", "num"]));
  body.appendChild(row([t("plannedPeak"), planned === null ? "–" : fmt(planned, 0) + " kW"], ["", "num"]));
  body.appendChild(row([t("extraKw"), fmt(rate, 2) + " " + t("perKwMonth")], ["", "num"]));
  body.appendChild(row([t("planDemandCharge"), fmt(plan.kpis.demand_charge_cny, 0) + " CNY"], ["", "num"]));
  if (metered === null) note.textContent = t("noPeakNote");
  body.dataset.rendered = "true";
}

function drawHealth(siteId, site) {
  const health = state.health;
  const overall = document.getElementById("overall");
  overall.textContent = health.status + (health.demo ? " (demo)" : "");
  overall.className = "badge " + health.status;
  const h = health.sites[siteId];
  const p = document.getElementById("site-health");
  if (!h) { p.textContent = ""; return; }
  p.innerHTML = `<span class="badge ${h.status}">${escapeHtml(h.status)}</span> ` + (h.reasons.length ? h.reasons.map((r) => `<br>${escapeHtml(r)}`).join("") : escapeHtml(t("none")));
  const fallbacks = Object.keys(h.forecast_fallbacks || {});
  if (fallbacks.length) {
    // a park with little or no history: the plan in force was made on baseline forecasts
    const note = document.createElement("span");
    note.textContent = `forecast: fallback baselines for ${fallbacks.length} series (${fallbacks.join(", ")})`;
    p.append(document.createElement("br"), note);
  }
  document.getElementById("runs-started").textContent = `${t("started")} (${site.timezone})`;
  const body = document.querySelector("#runs tbody");
  body.innerHTML = "";
  for (const run of h.last_runs) {
    body.appendChild(row([run.job, run.trigger, localTime(run.started_at, site.timezone), run.status + (run.error ? ": " + run.error : ""), run.plan_id ?? ""], ["", "", "", run.status === "failed" ? "fail" : "", ""]));
  }
}

function drawGridEvents(events, site) {
  // the utility's caps and target profiles for this park, newest first, with their outcome
  const body = document.querySelector("#grid-events tbody");
  body.innerHTML = "";
  const note = document.getElementById("grid-events-note");
  note.textContent = events && events.length ? "" : t("noGridEvents");
  for (const e of events || []) {
    const window = `${localTime(e.start, site.timezone)} – ${localTime(e.end, site.timezone)}`;
    const target = e.kind === "target";
    // a cap: its limit, the plan's and the meters' highest flow; a target profile: its
    // tolerance and how many of its intervals the plan and the meters kept within it
    const count = target ? e.intervals.length : 0;
    const asked = target ? `±${fmt(e.tolerance_kw, 0)} kW` : `${fmt(e.limit_kw, 0)} kW`;
    const planned = target
      ? `${e.intervals_planned_within} / ${count}`
      : e.planned_max_kw === null ? "–" : `${fmt(e.planned_max_kw, 0)} kW`;
    const measured = target
      ? `${e.intervals_measured_within} / ${e.intervals_measured}`
      : e.measured_max_kw === null ? "–" : `${fmt(e.measured_max_kw, 0)} kW`;
    const [followed, cls] = verdict(e.followed);
    const state = e.window + (followed ? ` · ${followed}` : "") + (e.relaxed && e.relaxed.length ? " · relaxed" : "");
    body.appendChild(row([e.kind, window, asked, planned, measured, state], ["", "", "num", "num", "num", cls]));
  }
  body.dataset.rendered = "true";
}

// ---- views -------------------------------------------------------------------------------

function setView(view) {
  state.view = view;
  document.getElementById("login").hidden = true;
  document.getElementById("overview").hidden = view !== "overview";
  document.getElementById("main").hidden = view !== "park";
  document.getElementById("nav-overview").classList.toggle("active", view === "overview");
  document.querySelectorAll("#park-buttons button").forEach((b) => b.classList.toggle("active", view === "park" && b.dataset.site === state.site?.id));
}

async function overviewRow(site) {
  const h = state.health.sites[site.id] || { status: "–", reasons: [], plan_in_force: null };
  const [start, end] = dayBounds(site.timezone, localDate(site.timezone));
  const id = encodeURIComponent(site.id);
  const [today, policy] = await Promise.all([
    apiOrNull(`/api/v1/sites/${id}/kpis?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`),
    apiOrNull(`/api/v1/sites/${id}/policy`),
  ]);
  const plan = h.plan_in_force;
  const y = policy ? policy.year_to_date : null;
  return {
    site,
    cells: [
      site.name,
      h.status,
      plan ? `${t(plan.kind)} ${plan.date} v${plan.version} (${plan.status})` : t("noPlan"),
      h.reasons.length ? h.reasons.join("; ") : t("none"),
      today ? fmt(today.kpis.total_cost_cny, 0) + " CNY" : "–",
      today ? fmt(today.kpis.co2_kg, 0) + " kg" : "–",
      y ? (y.self_consumption_ratio === null ? t("notMeasured") : pct(y.self_consumption_ratio)) : "–",
      y ? (y.export_ratio === null ? t("notMeasured") : pct(y.export_ratio)) : "–",
      policy && policy.remaining_export_budget_kwh !== null ? fmt(policy.remaining_export_budget_kwh, 0) + " kWh" : t("notMeasured"),
    ],
  };
}

async function showOverview() {
  setView("overview");
  state.health = await fetch("/health").then((r) => r.json());
  const overall = document.getElementById("overall");
  overall.textContent = state.health.status + (state.health.demo ? " (demo)" : "");
  overall.className = "badge " + state.health.status;
  const rows = await Promise.all(state.sites.map(overviewRow));
  const body = document.querySelector("#overview-table tbody");
  body.innerHTML = "";
  for (const r of rows) {
    const tr = row(r.cells, ["", "badge-cell " + r.cells[1], "", "", "num", "num", "num", "num", "num"]);
    tr.dataset.site = r.site.id;
    tr.firstChild.classList.add("link");
    tr.firstChild.addEventListener("click", () => showSite(r.site.id));
    body.appendChild(tr);
  }
  document.getElementById("overview-csv").onclick = (event) => {
    event.preventDefault();
    const head = [...document.querySelectorAll("#overview-table thead th")].map((th) => th.textContent);
    download("parks-overview.csv", [head, ...rows.map((r) => r.cells)]);
  };
  body.dataset.rendered = "true";
}

async function loadActuals(plan) {
  const note = document.getElementById("actuals-note");
  const first = plan.intervals.interval_start[0];
  const last = plan.intervals.interval_start[plan.intervals.interval_start.length - 1];
  const end = new Date(Date.parse(last) + 15 * 60000).toISOString();
  try {
    const points = await api(`/api/v1/sites/${encodeURIComponent(plan.site_id)}/measurements?start=${encodeURIComponent(new Date(first).toISOString())}&end=${encodeURIComponent(end)}`);
    note.textContent = points.length ? "" : t("noActuals");
    return alignActuals(plan, points);
  } catch (error) {
    if (error.status === 403) { note.textContent = t("actualsNeedOperator"); return null; }
    throw error;
  }
}

async function fillVersions(site, kind, day, selectedId) {
  const select = document.getElementById("pick-version");
  select.innerHTML = "";
  const versions = (await apiOrNull(`/api/v1/sites/${encodeURIComponent(site.id)}/plans/${kind}/${day}/versions`)) || [];
  for (const v of versions) {
    const option = document.createElement("option");
    option.value = String(v.id);
    option.textContent = `v${v.version} ${localTime(v.created_at, site.timezone)} (${v.status})`;
    option.selected = v.id === selectedId;
    select.appendChild(option);
  }
  return versions;
}

async function describeChanges(plan, versions) {
  const p = document.getElementById("plan-changes");
  p.textContent = "";
  const index = versions.findIndex((v) => v.id === plan.id);
  if (index <= 0) return;
  const previous = await apiOrNull(`/api/v1/plans/${versions[index - 1].id}`);
  if (!previous) return;
  const d = (key) => plan.kpis[key] - previous.kpis[key];
  const sign = (v) => (v > 0 ? "+" : "");
  const signed = (v, digits, unit) => (fmt(Math.abs(v), digits) === fmt(0, digits) ? "±0" : sign(v) + fmt(v, digits)) + unit;
  p.textContent = `${t("changed")} ${previous.version}: ${t("totalCost")} ${signed(d("total_cost_cny"), 0, " CNY")}, ${t("gridImport")} ${signed(d("import_kwh"), 0, " kWh")}, ${t("selfConsumption")} ${signed(d("self_consumption_ratio") * 100, 1, " pp")}`;
}

async function showPlan(site, plan) {
  state.plan = plan;
  document.getElementById("plan-title").textContent = `${site.name}: ${t(plan.kind)} ${plan.date}, ${t("version")} ${plan.version}`;
  const notes = (plan.metadata.notes || []).join("; ");
  document.getElementById("plan-meta").textContent = `${t("planId")} ${plan.id}, ${plan.status}, ${localTime(plan.created_at, site.timezone)} – ${plan.n_intervals} × 15 min ${t("period")} ${localTime(plan.intervals.interval_start[0], site.timezone)} (${site.timezone})` + (notes ? ` – ${notes}` : "");
  document.getElementById("pick-kind").value = plan.kind;
  document.getElementById("pick-date").value = plan.date;
  const versions = await fillVersions(site, plan.kind, plan.date, plan.id);
  state.actuals = await loadActuals(plan);
  drawPlanChart(plan, site, state.actuals);
  drawHeatChart(plan, site);
  drawKpis(plan);
  drawDemand(plan, state.policy, site);
  await describeChanges(plan, versions);
}

async function showSite(siteId) {
  const site = state.sites.find((s) => s.id === siteId);
  state.site = site;
  setView("park");
  state.health = await fetch("/health").then((r) => r.json());
  drawHealth(siteId, site);
  state.policy = await apiOrNull(`/api/v1/sites/${encodeURIComponent(siteId)}/policy`);
  drawPolicy(state.policy);
  drawGridEvents(await apiOrNull(`/api/v1/sites/${encodeURIComponent(siteId)}/grid-events?limit=20`), site);
  try {
    await showPlan(site, await api(`/api/v1/sites/${encodeURIComponent(siteId)}/plans/current`));
  } catch (error) {
    if (error.status === 401) return;
    document.getElementById("plan-title").textContent = `${site.name}: ${t("noPlan")}`;
    document.getElementById("plan-meta").textContent = String(error.message || error);
  }
}

function planCsvRows() {
  const plan = state.plan;
  const zone = state.site.timezone;
  const columns = Object.keys(plan.intervals.columns);
  const measured = state.actuals ? Object.keys(state.actuals) : [];
  const head = [`interval_start_local (${zone})`, "interval_start", ...columns, ...measured.map((m) => "measured_" + m)];
  const rows = plan.intervals.interval_start.map((ts, i) => [localTime(ts, zone), ts, ...columns.map((c) => plan.intervals.columns[c][i]), ...measured.map((m) => state.actuals[m][i])]);
  return [head, ...rows];
}

function wirePicker() {
  const pick = async () => {
    const site = state.site;
    const kind = document.getElementById("pick-kind").value;
    const day = document.getElementById("pick-date").value;
    const versions = await fillVersions(site, kind, day, null);
    if (versions.length) {
      const latest = versions[versions.length - 1];
      await showPlan(site, await api(`/api/v1/plans/${latest.id}`));
    }
  };
  document.getElementById("pick-kind").addEventListener("change", pick);
  document.getElementById("pick-date").addEventListener("change", pick);
  document.getElementById("pick-version").addEventListener("change", async (event) => {
    await showPlan(state.site, await api(`/api/v1/plans/${event.target.value}`));
  });
  document.getElementById("pick-now").addEventListener("click", () => showSite(state.site.id));
  document.getElementById("plan-csv").addEventListener("click", (event) => {
    event.preventDefault();
    if (state.plan) download(`plan-${state.plan.site_id}-${state.plan.kind}-${state.plan.date}-v${state.plan.version}.csv`, planCsvRows());
  });
}

function applyLanguage() {
  applyStaticText();
  document.getElementById("lang").textContent = t("language");
  document.querySelectorAll("#pick-kind option").forEach((o) => { o.textContent = t(o.value); });
}

async function start() {
  takeKeyFromFragment();
  applyLanguage();
  if (!sessionStorage.getItem(KEY_STORE)) { showLogin(); return; }
  state.sites = await api("/api/v1/sites");
  const nav = document.getElementById("park-buttons");
  nav.innerHTML = "";
  for (const site of state.sites) {
    const button = document.createElement("button");
    button.textContent = site.name;
    button.dataset.site = site.id;
    button.addEventListener("click", () => showSite(site.id));
    nav.appendChild(button);
  }
  const wanted = new URLSearchParams(location.search).get("site");
  if (wanted && state.sites.some((s) => s.id === wanted)) await showSite(wanted);
  else await showOverview();
  setInterval(() => { if (state.view === "park" && state.site) showSite(state.site.id); else if (state.view === "overview") showOverview(); }, 60000);
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORE, document.getElementById("key-input").value.trim());
  start();
});
document.getElementById("nav-overview").addEventListener("click", () => showOverview());
document.getElementById("lang").addEventListener("click", () => {
  localStorage.setItem(LANG_STORE, lang() === "zh" ? "en" : "zh");
  const url = new URL(location.href);
  url.searchParams.delete("lang");
  history.replaceState(null, "", url.pathname + url.search);
  applyLanguage();
  if (state.view === "park" && state.site) showSite(state.site.id); else if (sessionStorage.getItem(KEY_STORE)) showOverview();
});
wirePicker();
start();
