"""AC verification of per-interval injections (a plan, or replayed actuals) against limits."""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    intervals: pd.DataFrame
    vm_pu: pd.DataFrame
    line_loading_percent: pd.DataFrame
    trafo_loading_percent: pd.DataFrame
    violations: pd.DataFrame

    @property
    def ok(self) -> bool:
        return self.violations.empty


class NetworkVerifier:
    """Verifies frames of injections for one site; build once, call for many frames."""

    def __init__(self, site: Site, park: ParkNetwork | None = None) -> None:
        self.site = site
        self.park = park or build_network(site)
        self.flow = BatchPowerFlow(self.park.net)
        net = self.park.net
        self._bus_names = [str(n) for n in net.bus["name"]]
        self._line_names = [str(n) for n in net.line["name"]]
        self._trafo_names = [str(n) for n in net.trafo["name"]]

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
        missing = [c for c in self.park.columns() if c not in frame.columns]
        if missing:
            raise DataError(
                f"{self.site.id}: injection frame lacks columns {missing}; "
                f"expected all of {self.park.columns()}"
            )
        values = frame[self.park.columns()].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row, col = (int(x[0]) for x in np.nonzero(bad))
            raise DataError(
                f"{self.site.id}: column {self.park.columns()[col]} at {frame.index[row]} is "
                f"{values[row, col]}; injections must be finite and >= 0 kW"
            )
        net = self.park.net
        n_rows = len(frame)
        p = {e: np.zeros((n_rows, len(net[e.value]))) for e in Element}
        q = {e: np.zeros((n_rows, len(net[e.value]))) for e in Element}
        positions = {e: {int(ix): k for k, ix in enumerate(net[e.value].index)} for e in Element}
        for j, inj in enumerate(self.park.injections):
            k = positions[inj.element][inj.index]
            mw = values[:, j] * inj.sign / KW_PER_MW
            p[inj.element][:, k] += mw
            q[inj.element][:, k] += mw * inj.q_per_p
        return p, q

    def _verification(self, index: pd.Index, r: BatchResult) -> Verification:
        limits = self.site.network.limits
        grid = self.site.grid_connection
        grid_kw = r.ext_grid_p_mw * KW_PER_MW
        vm = pd.DataFrame(r.vm_pu, index=index, columns=self._bus_names)
        lines = pd.DataFrame(r.line_loading_percent, index=index, columns=self._line_names)
        trafos = pd.DataFrame(r.trafo_loading_percent, index=index, columns=self._trafo_names)
        intervals = pd.DataFrame(
            {
                "vm_min_pu": vm.min(axis=1),
                "vm_max_pu": vm.max(axis=1),
                "max_line_loading_percent": lines.max(axis=1) if len(lines.columns) else 0.0,
                "max_trafo_loading_percent": trafos.max(axis=1) if len(trafos.columns) else 0.0,
                "grid_import_kw": np.clip(grid_kw, 0, None),
                "grid_export_kw": np.clip(-grid_kw, 0, None),
                "grid_reactive_kvar": r.ext_grid_q_mvar * KW_PER_MW,
                "losses_kw": r.losses_p_mw * KW_PER_MW,
                "converged": r.converged,
            },
            index=index,
        )
        found: list[pd.DataFrame | None] = [
            _exceeding(index, vm, "bus", "vm_pu", limits.vm_max_pu, above=True),
            _exceeding(index, vm, "bus", "vm_pu", limits.vm_min_pu, above=False),
            _exceeding(index, lines, "line", "loading_percent", limits.max_line_loading_percent),
            _exceeding(index, trafos, "trafo", "loading_percent", limits.max_trafo_loading_percent),
            _exceeding(
                index,
                intervals[["grid_import_kw"]],
                "grid_connection",
                "import_kw",
                grid.import_limit_kw,
            ),
            _exceeding(
                index,
                intervals[["grid_export_kw"]],
                "grid_connection",
                "export_kw",
                grid.export_limit_kw,
            ),
        ]
        not_converged = ~r.converged
        if not_converged.any():
            found.append(
                pd.DataFrame(
                    {
                        "interval": index[not_converged],
                        "element": "network",
                        "quantity": "power_flow_not_converged",
                        "value": np.nan,
                        "limit": np.nan,
                    }
                )
            )
        present = [f for f in found if f is not None]
        if not present:
            return Verification(intervals, vm, lines, trafos, _empty())
        violations = pd.concat(present, ignore_index=True)
        violations = violations.sort_values(["interval", "element"], kind="stable")
        return Verification(intervals, vm, lines, trafos, violations.reset_index(drop=True))


def verify(site: Site, frame: pd.DataFrame) -> Verification:
    """One-off verification; hold a :class:`NetworkVerifier` to verify many frames."""
    return NetworkVerifier(site).verify(frame)


def _exceeding(
    index: pd.Index,
    values: pd.DataFrame,
    kind: str,
    quantity: str,
    limit: float,
    above: bool = True,
) -> pd.DataFrame | None:
    """The (interval, element) pairs beyond ``limit``, or None where there are none."""
    data = values.to_numpy()
    with np.errstate(invalid="ignore"):
        mask = data > limit if above else data < limit
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    names = np.asarray(
        [f"{kind} {c}" if kind != "grid_connection" else kind for c in values.columns]
    )
    return pd.DataFrame(
        {
            "interval": index[rows],
            "element": names[cols],
            "quantity": quantity,
            "value": data[rows, cols],
            "limit": limit,
        }
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in VIOLATION_COLUMNS})
