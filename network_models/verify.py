"""AC verification of per-interval injections (a plan, or replayed actuals) against limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from network_models.build import KW_PER_MW, Element, ParkNetwork, build_network
from network_models.powerflow import BatchPowerFlow, BatchResult
from sites import DataError, Site

VIOLATION_COLUMNS = ["interval", "element", "quantity", "value", "limit"]


@dataclass(frozen=True)
class Verification:
    """Per-interval AC results and every limit they break.

    ``intervals`` has one row per interval: ``vm_min_pu``, ``vm_max_pu``,
    ``max_line_loading_percent``, ``max_trafo_loading_percent``, ``grid_import_kw``,
    ``grid_export_kw``, ``grid_reactive_kvar``, ``losses_kw``, ``converged``.
    ``line_loading_percent`` / ``trafo_loading_percent`` / ``vm_pu`` hold every element,
    columns by name. ``violations`` has one row per (interval, element, quantity).

    The frames are built from the arrays when first read (a planning step reads few of them).
    """

    index: pd.Index
    result: BatchResult
    """The power flow's arrays, rows in ``index`` order."""
    bus_names: pd.Index
    line_names: pd.Index
    trafo_names: pd.Index
    found: tuple[_Exceeding, ...]
    """Each limit check that some interval breaks (the rows of ``violations``, unsorted)."""

    @property
    def ok(self) -> bool:
        return not self.found

    @property
    def vm_pu_values(self) -> np.ndarray:
        """(T, n_bus) bus voltages [pu], columns as ``vm_pu`` (read only)."""
        return self.result.vm_pu

    @cached_property
    def interval_values(self) -> dict[str, np.ndarray]:
        """The columns of ``intervals`` as arrays (read only), without building the frame."""
        r = self.result
        return {
            "vm_min_pu": _row_extreme(np.fmin, r.vm_pu, np.nan),
            "vm_max_pu": _row_extreme(np.fmax, r.vm_pu, np.nan),
            "max_line_loading_percent": _row_extreme(np.fmax, r.line_loading_percent, 0.0),
            "max_trafo_loading_percent": _row_extreme(np.fmax, r.trafo_loading_percent, 0.0),
            "grid_import_kw": _grid_import_kw(r),
            "grid_export_kw": _grid_export_kw(r),
            "grid_reactive_kvar": r.ext_grid_q_mvar * KW_PER_MW,
            "losses_kw": r.losses_p_mw * KW_PER_MW,
            "converged": r.converged,
        }

    @cached_property
    def intervals(self) -> pd.DataFrame:
        return pd.DataFrame(self.interval_values, index=self.index, copy=True)

    @cached_property
    def vm_pu(self) -> pd.DataFrame:
        return pd.DataFrame(self.result.vm_pu, index=self.index, columns=self.bus_names.copy())

    @cached_property
    def line_loading_percent(self) -> pd.DataFrame:
        r = self.result
        return pd.DataFrame(
            r.line_loading_percent, index=self.index, columns=self.line_names.copy()
        )

    @cached_property
    def trafo_loading_percent(self) -> pd.DataFrame:
        r = self.result
        return pd.DataFrame(
            r.trafo_loading_percent, index=self.index, columns=self.trafo_names.copy()
        )

    @cached_property
    def violations(self) -> pd.DataFrame:
        return _violations(self.index, list(self.found))


def _grid_import_kw(r: BatchResult) -> np.ndarray:
    return np.clip(r.ext_grid_p_mw * KW_PER_MW, 0, None)


def _grid_export_kw(r: BatchResult) -> np.ndarray:
    return np.clip(-(r.ext_grid_p_mw * KW_PER_MW), 0, None)


class NetworkVerifier:
    """Verifies frames of injections for one site; build once, call for many frames."""

    def __init__(self, site: Site, park: ParkNetwork | None = None) -> None:
        self.site = site
        self.park = park or build_network(site)
        self.flow = BatchPowerFlow(self.park.net)
        net = self.park.net
        # Everything a call reads of the network, worked out once: column labels of the
        # per-element frames (each frame gets its own copy), where each injection column goes
        # (element table, position, sign, Q per P), and the limits in the order their
        # violations are listed before sorting.
        self._columns = self.park.columns()
        bus_names = [str(n) for n in net.bus["name"]]
        line_names = [str(n) for n in net.line["name"]]
        trafo_names = [str(n) for n in net.trafo["name"]]
        self._bus_names, self._line_names = pd.Index(bus_names), pd.Index(line_names)
        self._trafo_names = pd.Index(trafo_names)
        self._sizes = {e: len(net[e.value]) for e in Element}
        positions = {e: {int(ix): k for k, ix in enumerate(net[e.value].index)} for e in Element}
        self._targets = [
            (j, inj.element, positions[inj.element][inj.index], inj.sign, inj.q_per_p)
            for j, inj in enumerate(self.park.injections)
        ]
        limits = site.network.limits
        grid = site.grid_connection
        # each bus against its own voltage level's limits (network.limits.voltage_levels)
        self._checks = (
            _Check.of("bus", bus_names, "vm_pu", self.park.vm_max_pu, above=True),
            _Check.of("bus", bus_names, "vm_pu", self.park.vm_min_pu, above=False),
            _Check.of("line", line_names, "loading_percent", limits.max_line_loading_percent),
            _Check.of("trafo", trafo_names, "loading_percent", limits.max_trafo_loading_percent),
            _Check.of("grid_connection", ["grid_import_kw"], "import_kw", grid.import_limit_kw),
            _Check.of("grid_connection", ["grid_export_kw"], "export_kw", grid.export_limit_kw),
        )

    def verify(self, frame: pd.DataFrame) -> Verification:
        """Run AC power flow for every row of ``frame`` (columns from :mod:`sites.columns`, kW)."""
        p, q = self._setpoints(frame)
        result = self.flow.run(
            load_p_mw=p[Element.LOAD],
            load_q_mvar=q[Element.LOAD],
            sgen_p_mw=p[Element.SGEN],
            sgen_q_mvar=q[Element.SGEN],
            storage_p_mw=p[Element.STORAGE],
            storage_q_mvar=q[Element.STORAGE],
        )
        return self._verification(frame.index, result)

    def _setpoints(
        self, frame: pd.DataFrame
    ) -> tuple[dict[Element, np.ndarray], dict[Element, np.ndarray]]:
        """Active and reactive setpoints [MW, Mvar] per element table, (T, n_element)."""
        missing = [c for c in self._columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{self.site.id}: injection frame lacks columns {missing}; "
                f"expected all of {self._columns}"
            )
        values = _columns_as_floats(frame, self._columns)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row, col = (int(x[0]) for x in np.nonzero(bad))
            raise DataError(
                f"{self.site.id}: column {self._columns[col]} at {frame.index[row]} is "
                f"{values[row, col]}; injections must be finite and >= 0 kW"
            )
        n_rows = len(frame)
        p = {e: np.zeros((n_rows, size)) for e, size in self._sizes.items()}
        q = {e: np.zeros((n_rows, size)) for e, size in self._sizes.items()}
        for j, element, k, sign, q_per_p in self._targets:
            mw = values[:, j] * sign / KW_PER_MW
            p[element][:, k] += mw
            q[element][:, k] += mw * q_per_p
        return p, q

    def _verification(self, index: pd.Index, r: BatchResult) -> Verification:
        arrays = (
            r.vm_pu,
            r.vm_pu,
            r.line_loading_percent,
            r.trafo_loading_percent,
            _grid_import_kw(r)[:, None],
            _grid_export_kw(r)[:, None],
        )
        found = [
            check.exceeding(values) for check, values in zip(self._checks, arrays, strict=True)
        ]
        not_converged = np.flatnonzero(~r.converged)
        if not_converged.size:
            found.append(_Exceeding.network_not_converged(not_converged))
        return Verification(
            index,
            r,
            self._bus_names,
            self._line_names,
            self._trafo_names,
            tuple(f for f in found if f.rows.size),
        )


def verify(site: Site, frame: pd.DataFrame) -> Verification:
    """One-off verification; hold a :class:`NetworkVerifier` to verify many frames."""
    return NetworkVerifier(site).verify(frame)


def _row_extreme(reduce: np.ufunc, values: np.ndarray, no_columns: float) -> np.ndarray:
    """Row minimum or maximum ignoring NaN (NaN where a row has no number), as pandas'
    ``DataFrame.min(axis=1)`` gives it; ``no_columns`` where there is no column at all."""
    if values.shape[1] == 0:
        return np.full(values.shape[0], no_columns)
    return reduce.reduce(values, axis=1)


@dataclass(frozen=True)
class _Exceeding:
    """The (interval, element) pairs of one limit check that break it."""

    rows: np.ndarray
    """Interval positions."""
    elements: np.ndarray
    """Element names (object)."""
    quantity: str
    values: np.ndarray
    limits: np.ndarray
    """The limit each value breaks (per element: a bus's voltage level's)."""

    @classmethod
    def network_not_converged(cls, rows: np.ndarray) -> _Exceeding:
        elements = np.full(rows.size, "network", dtype=object)
        missing = np.full(rows.size, np.nan)
        return cls(rows, elements, "power_flow_not_converged", missing, missing)


@dataclass(frozen=True)
class _Check:
    """One limit on a (T, n_element) array of results, element names as the verifier
    reports them ('bus f1', 'line l_x'; just 'grid_connection' for the connection)."""

    names: np.ndarray
    """(n_element,) object."""
    quantity: str
    limit: np.ndarray
    """(n_element,) each element's limit."""
    above: bool = True

    @classmethod
    def of(
        cls,
        kind: str,
        columns: list[str],
        quantity: str,
        limit: float | Sequence[float],
        above: bool = True,
    ) -> _Check:
        names = [f"{kind} {c}" if kind != "grid_connection" else kind for c in columns]
        limits = np.broadcast_to(np.asarray(limit, dtype=float), (len(names),))
        return cls(np.asarray(names, dtype=object), quantity, limits, above)

    def exceeding(self, values: np.ndarray) -> _Exceeding:
        with np.errstate(invalid="ignore"):
            mask = values > self.limit if self.above else values < self.limit
        rows, cols = np.nonzero(mask)
        return _Exceeding(
            rows, self.names[cols], self.quantity, values[rows, cols], self.limit[cols]
        )


def _violations(index: pd.Index, found: list[_Exceeding]) -> pd.DataFrame:
    """One row per (interval, element, quantity), by interval and then element (ties in the
    order of ``found``): one frame built at the end, not one per check and a concat."""
    if not found:
        return _empty()
    rows = np.concatenate([f.rows for f in found])
    elements = np.concatenate([f.elements for f in found])
    quantities = np.concatenate([np.full(f.rows.size, f.quantity, dtype=object) for f in found])
    values = np.concatenate([f.values for f in found])
    limits = np.concatenate([f.limits for f in found])
    interval_codes, _ = pd.factorize(index, sort=True)
    # pandas sorts missing time stamps last
    interval_codes = np.where(interval_codes < 0, len(index), interval_codes)
    element_codes = np.unique(elements, return_inverse=True)[1]
    order = np.lexsort((element_codes, interval_codes[rows]))
    return pd.DataFrame(
        {
            "interval": index[rows[order]],
            "element": elements[order],
            "quantity": quantities[order],
            "value": values[order],
            "limit": limits[order],
        }
    )


_NO_VIOLATIONS = pd.DataFrame({c: pd.Series(dtype=object) for c in VIOLATION_COLUMNS})


def _empty() -> pd.DataFrame:
    """No violation: the five columns, empty, of object dtype (a copy of one made once)."""
    return _NO_VIOLATIONS.copy()


def _columns_as_floats(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """``frame[columns].to_numpy(dtype=float)``, one column at a time (selecting a sub-frame
    costs pandas more than reading a dozen columns)."""
    if not frame.columns.is_unique:
        return frame[columns].to_numpy(dtype=float)
    out = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        out[:, j] = frame[column].to_numpy(dtype=float)
    return out
