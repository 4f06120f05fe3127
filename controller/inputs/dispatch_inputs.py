"""Problem preparation: site + forecast + state (+ commitment) -> plain arrays. Pure.

Bad data does not raise: gaps are filled, impossible values clipped, missing columns
assumed conservatively, and each repair is recorded in ``DispatchInputs.issues`` so that
the plan can report it.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.config import DispatchConfig
from controller.inputs.cop import cascade_cop, site_heat_pump_cops
from controller.inputs.flexible import FlexibleInputs, prepare_flexible
from controller.inputs.forecast_data import clean_index, read_series, spread
from controller.inputs.hydrogen import HydrogenInputs, prepare_hydrogen
from controller.inputs.layout import Layout
from controller.inputs.state import (
    MeasuredState,
    battery_start,
    committed_end_levels,
    storage_start,
)
from controller.kinds import PlanKind
from sites import Site, columns
from sites.schema import Fuel
from sites.tariff import Tariff, site_tariff
from sites.time_step import HOURS_PER_STEP, STEP, STEP_NS

HOURS_PER_YEAR = 8760.0
NO_LIMIT = 1e9
"""Stands in for 'unbounded' in a parameter (cvxpy parameters cannot be infinite); the HiGHS
interface turns any bound at or above it into infinity. 1e9 kW is far above any park."""
DEFAULT_AMBIENT_DEGC = 0.0  # assumed when the forecast has no temperature: a cold-side COP
SITE_CACHE_SIZE = 16
"""Sites whose derived constants :func:`per_site` keeps (a process plans for a few parks)."""

_Value = TypeVar("_Value")


def per_site(build: Callable[[Site], _Value]) -> Callable[[Site], _Value]:
    """``build(site)``, computed once per Site object (for the last ``SITE_CACHE_SIZE`` ones).

    For values that depend on the site alone and are needed on every planning step. A Site
    is frozen and never edited in place, so such a value holds as long as the object lives.
    Sites are not hashable (they hold lists) and their JSON costs more than most of what is
    cached, so entries are found by identity; each entry keeps its site alive, so that no
    other object can take its id while the entry exists.
    """
    entries: OrderedDict[int, tuple[Site, _Value]] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(build)
    def cached(site: Site) -> _Value:
        with lock:
            hit = entries.get(id(site))
            if hit is not None and hit[0] is site:
                entries.move_to_end(id(site))
                return hit[1]
        value = build(site)
        with lock:
            entries[id(site)] = (site, value)
            entries.move_to_end(id(site))
            while len(entries) > SITE_CACHE_SIZE:
                entries.popitem(last=False)
        return value

    return cached


@per_site
def site_json(site: Site) -> str:
    """The site's configuration as JSON, once per Site object (model caches and input hashes
    key on it; it costs more than the rest of a look-up)."""
    return site.model_dump_json()


@per_site
def structure_json(site: Site) -> str:
    """The site's JSON without the prices posted to it: what its network and compiled models
    are keyed on. Posted prices change between plans (the horizon slides, the operator posts)
    and enter a model only as data, through its price parameters; the input hash keeps them
    (:func:`site_json`)."""
    return site.model_dump_json(exclude={"tariff": {"posted_prices"}})


layout_for = per_site(Layout)
"""The site's :class:`Layout`, one per Site object, so its cached properties stay computed."""


@dataclass(frozen=True)
class NetworkData:
    """Right-hand sides of the linear network rows and the expected losses, per interval."""

    rhs: np.ndarray
    """(n_rows, horizon) in the rows' scaled units (see :mod:`controller.network.linear`)."""
    losses_kw: np.ndarray
    """(horizon,)"""


@dataclass(frozen=True)
class DispatchInputs:
    """Everything one planning step needs, as arrays padded to ``horizon`` intervals.

    Rows follow :class:`~controller.inputs.layout.Layout`. The real intervals are the last
    ``n_steps`` columns; the columns before them (``start`` of them) are padding in which
    nothing can run (zero availability, demand, grid limits and ``active``; data that
    multiplies a variable, such as prices and COPs, repeats the first real value, so the
    matrix does not change as a horizon shrinks). Padding in front keeps each interval of
    the day in the same column as a horizon shrinks, so one compiled problem serves every
    intraday step of a bucket and each solve can start from the previous step's basis.
    """

    site_id: str
    kind: PlanKind
    index: pd.DatetimeIndex
    horizon: int
    pv_available_kw: np.ndarray
    wind_available_kw: np.ndarray
    load_kw: np.ndarray
    heat_demand_kw_th: np.ndarray
    waste_heat_available_kw_th: np.ndarray
    ambient_temperature_degc: np.ndarray
    cop: np.ndarray
    price_cny_per_kwh: np.ndarray
    bands: tuple[str, ...]
    export_price_cny_per_kwh: np.ndarray
    import_limit_kw: np.ndarray
    export_limit_kw: np.ndarray
    battery_soc0_kwh: np.ndarray
    battery_soc_target_kwh: np.ndarray
    storage_level0_kwh_th: np.ndarray
    storage_level_target_kwh_th: np.ndarray
    month_peak_import_kw: float
    peak_free_kw: np.ndarray
    """(2, horizon) per billing month the horizon touches (its first, the next), the import
    the plan may reach without demand charge: the month's peak allowance (0 for the next
    month, nothing billed yet); ``NO_LIMIT`` in intervals of the other month and in padding."""
    peak_margin_kw: np.ndarray
    """(horizon,) how far the import may come in above plan (the forecast band scaled by
    ``DispatchConfig.peak_margin_scale``; 0 in padding): the plan keeps it below the
    allowance, or as battery charge the batteries' local controller can shed."""
    spill_budget_kwh: float
    """Spill beyond the self-consumption target's share of the horizon that the year so far
    affords this horizon (negative: spill the horizon must make up for)."""
    export_budget_kwh: float
    """The same for the export target."""
    demand_charge_cny_per_kw: float
    grid_co2_kg_per_kwh: float
    committed_net_import_kw: np.ndarray
    deviation_band_kw: np.ndarray
    terminal_mask: np.ndarray
    active: np.ndarray
    """(horizon,) 1 in real intervals, 0 in padding."""
    storage_keep: np.ndarray
    """(n_storage, horizon) share of the level kept over an interval (standing loss)."""
    storage_level_in: np.ndarray
    """(n_storage, horizon) the starting level entering the first real column, 0 elsewhere."""
    network: NetworkData | None = None
    forecast_error_kw: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Per load, PV and wind column, how far the true value may lie above and below the plan's
    P50 in each real interval (see ``_forecast_error_kw``; times
    ``DispatchConfig.network_margin_scale``): the network rows keep that margin (see
    :func:`controller.network.tightening.forecast_margin`)."""
    issues: tuple[str, ...] = field(default=())
    month_peak_metered: bool = True
    """From the state (:attr:`controller.inputs.state.MeasuredState.month_peak_metered`)."""
    chp_was_on: np.ndarray | None = None
    """(n_chp,) 1 where a CHP unit runs as the horizon starts, from the state (``None``:
    the site file's ``initially_on``)."""
    grid_caps_kw: np.ndarray | None = None
    """(2, horizon) import and export limits below the connection's, per interval, from
    :attr:`controller.inputs.state.MeasuredState.grid_limits_kw` (``NO_LIMIT`` where none);
    ``None``: the connection's limits throughout (see :func:`connection_limits`)."""
    flexible: FlexibleInputs | None = None
    """The flexible process loads' windows and backlogs (:mod:`controller.inputs.flexible`)."""
    hydrogen: HydrogenInputs | None = None
    """The hydrogen tanks' start levels (:mod:`controller.inputs.hydrogen`)."""
    hours_per_step: float = HOURS_PER_STEP
    """The intervals' length [h]: the planner's step, or an hour where the sizing LP averages
    them (:mod:`sim.sizing.coarse`)."""

    @property
    def n_steps(self) -> int:
        return len(self.index)

    @property
    def start(self) -> int:
        """Column of the first real interval."""
        return self.horizon - self.n_steps

    def real(self, values: np.ndarray) -> np.ndarray:
        """The real intervals of a (..., horizon) array."""
        return np.asarray(values)[..., self.start :]

    @property
    def has_commitment(self) -> bool:
        return bool((self.real(self.deviation_band_kw) < NO_LIMIT).any())


def padded_horizon(n_steps: int, bucket: int) -> int:
    return max(bucket, int(math.ceil(n_steps / bucket)) * bucket)


def _pad(values: np.ndarray, horizon: int, fill: float = 0.0) -> np.ndarray:
    """Right-align ``values`` (..., n) in (..., horizon), ``fill`` in front."""
    out = np.full(values.shape[:-1] + (horizon,), fill, dtype=float)
    n = values.shape[-1]
    if n:
        out[..., horizon - n :] = values
    return out


def _pad_edge(values: np.ndarray, horizon: int) -> np.ndarray:
    """Right-align ``values`` (..., n) in (..., horizon), the first value in front (1 where
    there is none). For data that multiplies a variable: padding then keeps the coefficients
    the column had when it was real, so only right-hand sides move as a horizon shrinks."""
    out = _pad(values, horizon, fill=1.0)
    n = values.shape[-1]
    if n:
        out[..., : horizon - n] = values[..., :1]
    return out


def _rows(arrays: list[np.ndarray], n: int, horizon: int) -> np.ndarray:
    if not arrays:
        return np.zeros((0, horizon))
    return _pad(np.vstack(arrays), horizon) if n else np.zeros((0, horizon))


def _committed_net(committed: pd.DataFrame | None, index: pd.DatetimeIndex) -> np.ndarray:
    """Committed import - export on ``index``; NaN where nothing was committed."""
    if committed is None:
        return np.full(len(index), np.nan)
    names = committed.columns
    if pc.GRID_IMPORT_KW not in names or pc.GRID_EXPORT_KW not in names:
        return np.full(len(index), np.nan)
    imports = committed[pc.GRID_IMPORT_KW].to_numpy(dtype=float)
    net = imports - committed[pc.GRID_EXPORT_KW].to_numpy(dtype=float)
    # aligned as ``Series.reindex`` aligns: same index, else by label where labels are unique
    source = committed.index
    if source.equals(index):
        return net
    out = np.full(len(index), np.nan)
    if not source.is_unique:
        return out
    try:
        positions = source.get_indexer(index)
    except (TypeError, ValueError):
        return out
    found = positions >= 0
    out[found] = net[positions[found]]
    return out


def _bands_and_prices(
    tariff: Tariff, index: pd.DatetimeIndex
) -> tuple[tuple[str, ...], np.ndarray]:
    """The price band and energy price of each interval (the bands looked up once: that
    takes the tariff about a millisecond)."""
    if not len(index):
        return (), np.zeros(0)
    bands = list(tariff.bands(index))
    return tuple(str(b) for b in bands), tariff.import_prices(index, tariff.band_prices(bands))


BAND_SPAN_STEPS = 4 * 96
"""Intervals after a horizon whose price bands are looked up with it: the following steps'
horizons, each a step later, then find theirs there (a lookup takes the tariff about a
millisecond, a planning step in a replay or the service is a step after the last one)."""


@dataclass(frozen=True)
class _BandSpan:
    """Price bands and energy prices of a regular 15-minute range of intervals."""

    zone: str
    start_ns: int
    bands: tuple[str, ...]
    prices: np.ndarray

    def get(self, zone: str, stamps_ns: np.ndarray) -> tuple[tuple[str, ...], np.ndarray] | None:
        """Those of a regular range ``stamps_ns`` (int64 UTC nanoseconds) within this one."""
        offset, off_grid = divmod(int(stamps_ns[0]) - self.start_ns, STEP_NS)
        end = offset + len(stamps_ns)
        if zone != self.zone or off_grid or offset < 0 or end > len(self.bands):
            return None
        return self.bands[offset:end], self.prices[offset:end].copy()


class _Prices:
    """A site's tariff and the price bands of its last horizon (one per Site object)."""

    def __init__(self, site: Site) -> None:
        self.tariff = site_tariff(site)
        self.span: _BandSpan | None = None

    def bands_and_prices(self, index: pd.DatetimeIndex) -> tuple[tuple[str, ...], np.ndarray]:
        """The price band and energy price of each interval of ``index``."""
        n = len(index)
        if not n:
            return (), np.zeros(0)
        if index.tz is None or index.unit != "ns":
            return _bands_and_prices(self.tariff, index)
        stamps = index.values.view(np.int64)
        if n > 1 and not (np.diff(stamps) == STEP_NS).all():
            return _bands_and_prices(self.tariff, index)
        zone = str(index.tz)
        span = self.span
        found = span.get(zone, stamps) if span is not None else None
        if found is not None:
            return found
        extended = pd.date_range(index[0], periods=n + BAND_SPAN_STEPS, freq=STEP)
        bands, prices = _bands_and_prices(self.tariff, extended)
        span = _BandSpan(zone, int(stamps[0]), bands, prices)
        self.span = span
        found = span.get(zone, stamps)
        assert found is not None  # the span starts at the horizon and is longer
        return found


prices_for = per_site(_Prices)


def _power(value: float, name: str, issues: list[str]) -> float:
    """A measured or decided power of the state, 0 where it is not one (recorded)."""
    value = float(value)
    if not math.isfinite(value) or value < 0:
        issues.append(f"{name}={value} is not a power; 0 assumed")
        return 0.0
    return value


def _forecast_band_kw(
    site: Site, errors: dict[str, tuple[np.ndarray, np.ndarray]], n: int
) -> np.ndarray:
    """Per interval, how far the import may lie above plan: the root sum of squares (errors
    taken as independent) of the loads' P90 - P50, the renewables' P50 - P10 and the heat
    demands' P90 - P50 as the draw of their electric sources (the plant meets heat above plan
    with them), from the per-column ``errors`` of :func:`_forecast_error_kw`."""
    a = site.assets
    renewable = {columns.pv_kw(x.name) for x in a.pv} | {columns.wind_kw(x.name) for x in a.wind}
    parts = [below if name in renewable else above for name, (above, below) in errors.items()]
    return np.sqrt(np.sum(np.square([np.zeros(n), *parts]), axis=0))


def _forecast_error_kw(
    site: Site,
    frame: pd.DataFrame,
    loads: list[np.ndarray],
    pv: list[np.ndarray],
    wind: list[np.ndarray],
    heat: list[np.ndarray],
    cops: list[np.ndarray],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per injection column: (above, below) its P50 per interval.
    Loads: P90 - P50 and P50 - P10. PV and wind: 0 and P50 - P10; more sun or wind than
    planned adds to a flow only where the plan did not curtail (where it did, the plant holds
    the unit at its setpoint), and where a flow is at its limit the plan curtails. Heat
    demands: the plant meets heat above plan with its heat pumps and boilers, so a demand's
    P90 - P50 and P50 - P10 enter as the electric draw of its electric source that draws the
    most per kWh_th (an electric boiler, else its heat pump of lowest COP); two demands on
    one source add as independent errors."""
    a = site.assets
    out = {}
    for load, p50 in zip(a.electric_loads, loads, strict=True):
        name = columns.load_kw(load.name)
        out[name] = (spread(frame, name, p50, 90), spread(frame, name, p50, 10))
    renewable = [columns.pv_kw(x.name) for x in a.pv] + [columns.wind_kw(x.name) for x in a.wind]
    for name, p50 in zip(renewable, pv + wind, strict=True):
        out[name] = (np.zeros(len(frame)), spread(frame, name, p50, 10))
    for demand, p50 in zip(a.heat_demands, heat, strict=True):
        backup = _electric_backup(site, demand.name, cops)
        if backup is None:
            continue
        column, kw_per_kw_th = backup
        name = columns.heat_demand_kw_th(demand.name)
        above = spread(frame, name, p50, 90) * kw_per_kw_th
        below = spread(frame, name, p50, 10) * kw_per_kw_th
        if column in out:
            above, below = np.hypot(out[column][0], above), np.hypot(out[column][1], below)
        out[column] = (above, below)
    return out


def _electric_backup(
    site: Site, demand: str, cops: list[np.ndarray]
) -> tuple[str, np.ndarray] | None:
    """The electric source of ``demand`` that draws the most per kWh_th, and that draw per
    interval [kW per kW_th]; None for a demand without one. A cascade of heat pumps counts as
    one source at its combined COP, its draw put on its top stage's column."""
    a = site.assets
    boilers = [b for b in a.boilers if b.supplies == demand and b.fuel is Fuel.ELECTRIC]
    if boilers:
        boiler = min(boilers, key=lambda b: b.efficiency)
        return columns.boiler_kw(boiler.name), np.asarray(1.0 / boiler.efficiency)
    pumps = [
        (a.heat_pumps[unit[0]], cascade_cop([cops[k] for k in unit]))
        for unit in layout_for(site).heat_pump_units
        if a.heat_pumps[unit[0]].supplies == demand
    ]
    if not pumps:
        return None
    hp, cop = min(pumps, key=lambda pair: float(np.mean(pair[1])))
    return columns.heat_pump_kw(hp.name), 1.0 / np.maximum(cop, 1.0)


def _policy_budgets(site: Site, state: MeasuredState, n_steps: int) -> tuple[float, float]:
    """What the year so far leaves the horizon of the annual targets' spill and export, as
    the horizon's share of the rest of the year (the rest taken to be at the targets)."""
    tally = state.renewables_year_to_date
    left = tally.year_fraction_left
    if not (math.isfinite(left) and left > 0):
        return 0.0, 0.0
    share = min(n_steps * HOURS_PER_STEP / (left * HOURS_PER_YEAR), 1.0)
    policy = site.policy
    spill = tally.spill_budget_kwh(policy.min_self_consumption_ratio)
    export = tally.export_budget_kwh(policy.max_export_ratio)
    return float(spill * share), float(export * share)


def _peak_free(index: pd.DatetimeIndex, allowance_kw: float, horizon: int) -> np.ndarray:
    """Rows of :attr:`DispatchInputs.peak_free_kw`: the first month's allowance in its
    intervals; the next month's (nothing billed yet) in its intervals."""
    n = len(index)
    first = np.ones(n, dtype=bool)
    if n:
        first = (index.month == index[0].month) & (index.year == index[0].year)
    rows = np.full((2, n), NO_LIMIT)
    rows[0, first] = allowance_kw
    rows[1, ~first] = 0.0
    return _pad(rows, horizon, fill=NO_LIMIT)


def _grid_caps(
    index: pd.DatetimeIndex, limits: tuple[tuple[pd.Timestamp, float, float], ...], horizon: int
) -> np.ndarray | None:
    if not limits:
        return None
    caps = np.full((2, len(index)), NO_LIMIT)
    position = {int(t.value): i for i, t in enumerate(index)}
    for start, imports, exports in limits:
        i = position.get(int(pd.Timestamp(start).value))
        if i is not None:
            caps[0, i] = min(caps[0, i], max(float(imports), 0.0))
            caps[1, i] = min(caps[1, i], max(float(exports), 0.0))
    return _pad(caps, horizon, fill=NO_LIMIT)


def connection_limits(site: Site, inputs: DispatchInputs) -> tuple[np.ndarray, np.ndarray]:
    """Import and export limits per interval: the connection's, or a grid event's where
    lower (0 in padding)."""
    grid = site.grid_connection
    import_limit = grid.import_limit_kw * inputs.active
    export_limit = grid.export_limit_kw * inputs.active
    caps = inputs.grid_caps_kw
    if caps is not None:
        import_limit = np.minimum(import_limit, caps[0] * inputs.active)
        export_limit = np.minimum(export_limit, caps[1] * inputs.active)
    return import_limit, export_limit


def prepare(
    site: Site,
    forecast: pd.DataFrame,
    state: MeasuredState,
    kind: PlanKind,
    config: DispatchConfig,
    committed: pd.DataFrame | None = None,
) -> DispatchInputs:
    """Arrays of one planning step (without network data; see :mod:`controller.network.linear`)."""
    issues: list[str] = []
    frame = clean_index(site, forecast, issues)
    index = pd.DatetimeIndex(frame.index)
    n = len(index)
    horizon = padded_horizon(n, config.horizon_bucket_steps)
    a = site.assets

    pv = [
        read_series(frame, columns.pv_kw(x.name), 0.0, issues, upper=x.inverter_kva) for x in a.pv
    ]
    wind = [
        read_series(frame, columns.wind_kw(x.name), 0.0, issues, upper=x.total_rated_kw)
        for x in a.wind
    ]
    loads = [
        read_series(frame, columns.load_kw(x.name), x.peak_kw, issues) for x in a.electric_loads
    ]
    heat = [
        read_series(frame, columns.heat_demand_kw_th(x.name), x.peak_kw_th, issues)
        for x in a.heat_demands
    ]
    waste = []
    for x in a.waste_heat:
        name = columns.waste_heat_kw_th(x.name)
        p50 = read_series(frame, name, 0.0, issues, upper=x.max_kw_th)
        low = config.waste_heat_quantile
        waste.append(np.clip(p50 - spread(frame, name, p50, low), 0.0, None) if low < 50 else p50)
    ambient = read_series(
        frame, columns.AMBIENT_TEMPERATURE_DEGC, DEFAULT_AMBIENT_DEGC, issues, non_negative=False
    )
    cops = list(site_heat_pump_cops(site, ambient))

    site_prices = prices_for(site)
    tariff = site_prices.tariff
    bands, prices = site_prices.bands_and_prices(index)

    soc0, soc_target = battery_start(site, state, config, issues)
    level0, level_target = storage_start(site, state, config, issues)
    if kind is PlanKind.INTRADAY and config.keep_storage_level:
        soc_target, level_target = committed_end_levels(
            site, committed, index, soc_target, level_target
        )
    month_peak = _power(state.month_peak_import_kw, "month_peak_import_kw", issues)
    allowance = max(month_peak, _power(state.month_peak_target_kw, "month_peak_target_kw", issues))
    errors = _forecast_error_kw(site, frame, loads, pv, wind, heat, cops)
    margin = config.peak_margin_scale * _forecast_band_kw(site, errors, n)
    scale = config.network_margin_scale
    forecast_error = {k: (scale * above, scale * below) for k, (above, below) in errors.items()}
    peak_free = _peak_free(index, allowance, horizon)
    spill_budget, export_budget = _policy_budgets(site, state, n)

    committed_net = _committed_net(committed if kind is PlanKind.INTRADAY else None, index)
    band = np.nan_to_num(config.deviation_band_kw(committed_net), nan=NO_LIMIT)
    if kind is PlanKind.INTRADAY and n and np.isnan(committed_net).all():
        issues.append("intraday plan without a committed schedule: no deviation penalty")
    terminal = np.zeros(horizon)
    terminal[-1] = 1.0
    active = _pad(np.ones(n), horizon)
    # Padding keeps the standing loss of real columns (see ``_pad_edge``); padding levels
    # stay at zero and the start level enters the first real column.
    kept = np.array([t.kept_over(HOURS_PER_STEP) for t in a.thermal_storage])
    keep = np.repeat(kept[:, None], horizon, axis=1)
    level_in = np.zeros((len(a.thermal_storage), horizon))
    level_in[:, min(horizon - n, horizon - 1)] = level0 * keep[:, 0]
    grid = site.grid_connection
    grid_caps = _grid_caps(index, state.grid_limits_kw, horizon)
    caps = grid_caps if grid_caps is not None else np.full((2, horizon), NO_LIMIT)
    load_low = [
        np.clip(p50 - errors[columns.load_kw(x.name)][1], 0.0, None)
        for x, p50 in zip(a.electric_loads, loads, strict=True)
    ]
    flexible = prepare_flexible(site, index, horizon, state, load_low, issues)
    hydrogen = prepare_hydrogen(site, horizon, n, state, issues)
    return DispatchInputs(
        site_id=site.id,
        kind=kind,
        index=index,
        horizon=horizon,
        pv_available_kw=_rows(pv, len(a.pv), horizon),
        wind_available_kw=_rows(wind, len(a.wind), horizon),
        load_kw=_rows(loads, len(a.electric_loads), horizon),
        heat_demand_kw_th=_rows(heat, len(a.heat_demands), horizon),
        waste_heat_available_kw_th=_rows(waste, len(a.waste_heat), horizon),
        ambient_temperature_degc=_pad(ambient, horizon),
        cop=_pad_edge(np.vstack(cops), horizon) if cops else np.zeros((0, horizon)),
        price_cny_per_kwh=_pad_edge(prices, horizon),
        bands=bands,
        export_price_cny_per_kwh=_pad_edge(tariff.export_prices(index), horizon),
        import_limit_kw=np.minimum(grid.import_limit_kw, caps[0]) * active,
        export_limit_kw=np.minimum(grid.export_limit_kw, caps[1]) * active,
        battery_soc0_kwh=soc0,
        battery_soc_target_kwh=soc_target,
        storage_level0_kwh_th=level0,
        storage_level_target_kwh_th=level_target,
        month_peak_import_kw=month_peak,
        peak_free_kw=peak_free,
        peak_margin_kw=_pad(margin, horizon),
        spill_budget_kwh=spill_budget,
        export_budget_kwh=export_budget,
        demand_charge_cny_per_kw=tariff.demand_charge_cny_per_kw_month * config.demand_charge_share,
        grid_co2_kg_per_kwh=site.grid_emission_factor.kg_co2_per_kwh,
        committed_net_import_kw=_pad(np.nan_to_num(committed_net), horizon),
        deviation_band_kw=_pad(band, horizon, fill=NO_LIMIT),
        terminal_mask=terminal,
        active=active,
        storage_keep=keep,
        storage_level_in=level_in,
        forecast_error_kw=forecast_error,
        issues=tuple(issues),
        month_peak_metered=state.month_peak_metered,
        grid_caps_kw=grid_caps,
        flexible=flexible,
        hydrogen=hydrogen,
        chp_was_on=np.array(
            [1.0 if state.chp_on.get(c.name, c.initially_on) else 0.0 for c in a.chp]
        ),
    )


def chp_was_on(site: Site, inputs: DispatchInputs) -> np.ndarray:
    """(n_chp,) 1 where a CHP unit runs as the horizon starts."""
    if inputs.chp_was_on is not None:
        return np.asarray(inputs.chp_was_on, dtype=float)
    return np.array([1.0 if c.initially_on else 0.0 for c in site.assets.chp])
