"""Pandapower's internal power-flow model, extracted once and held as plain arrays.

`extract_internal_model` deep-copies a net, runs one `pandapower.runpp` on the copy and keeps
what a power flow over many intervals needs: the dense bus admittance matrix of the internal
("ppci") buses, the slack voltages, the constant part of the bus demand, the ZIP coefficients
pandapower applies per bus, how loads, sgens and storages map onto the internal buses, and the
branch admittances and ratings of lines and two-winding transformers.

Everything here is in pandapower's units: MW, Mvar, kV, kA and per unit on `net.sn_mva`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

# Column numbers of pandapower's ppc arrays (pandapower.pypower.idx_bus / idx_brch).
from pandapower.pypower.idx_brch import F_BUS, T_BUS
from pandapower.pypower.idx_bus import (
    BASE_KV,
    BUS_TYPE,
    CID_P,
    CID_Q,
    CZD_P,
    CZD_Q,
    NONE,
    PD,
    QD,
    VA,
    VM,
)

INJECTION_ELEMENTS: tuple[str, ...] = ("load", "sgen", "storage")
"""Element tables whose p_mw / q_mvar may vary per interval."""

_SQRT3 = float(np.sqrt(3.0))
_UNSUPPORTED_IN_SERVICE: tuple[str, ...] = ("gen", "dcline", "svc", "tcsc", "ssc", "vsc")


@dataclass(frozen=True)
class InjectionMap:
    """How one element table (load, sgen or storage) adds to the internal bus demand.

    Demand at internal bus `ppci_bus[k]` grows by `demand_per_unit_setpoint[k] * p_mw[k]`
    (and likewise for q). The factor folds in pandapower's sign (sgen: -1), `scaling` and
    whether the element is in service and connected; it is 0 for elements that do not count.
    """

    element: str
    index: pd.Index
    ppci_bus: np.ndarray
    demand_per_unit_setpoint: np.ndarray
    static_p_mw: np.ndarray
    static_q_mvar: np.ndarray


@dataclass(frozen=True)
class BranchModel:
    """Lines or two-winding transformers in pandapower's branch model (from = hv for trafos).

    Currents are in per unit of the internal bus base; `loading_per_current_*` turns |I| in
    per unit into pandapower's loading in percent at that side.
    """

    index: pd.Index
    in_service: np.ndarray
    ends_energised: np.ndarray
    from_bus: np.ndarray
    to_bus: np.ndarray
    y_ff: np.ndarray
    y_ft: np.ndarray
    y_tf: np.ndarray
    y_tt: np.ndarray
    loading_per_current_from: np.ndarray
    loading_per_current_to: np.ndarray
    zero_rating: np.ndarray
    rating_from_mva: np.ndarray

    @classmethod
    def empty(cls, index: pd.Index) -> BranchModel:
        """A table with no branches in the internal model (e.g. no lines at all)."""
        n = len(index)
        flags = np.zeros(n, bool)
        bus = np.zeros(n, np.int64)
        admittance = np.zeros(n, np.complex128)
        factor = np.zeros(n)
        return cls(
            index=index.copy(),
            in_service=flags,
            ends_energised=flags,
            from_bus=bus,
            to_bus=bus,
            y_ff=admittance,
            y_ft=admittance,
            y_tf=admittance,
            y_tt=admittance,
            loading_per_current_from=factor,
            loading_per_current_to=factor,
            zero_rating=flags,
            rating_from_mva=factor,
        )

    def currents(self, voltage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Complex current into the branch at the from and to end [pu], (T, n_branch) each."""
        v_from = voltage[:, self.from_bus]
        v_to = voltage[:, self.to_bus]
        return self.y_ff * v_from + self.y_ft * v_to, self.y_tf * v_from + self.y_tt * v_to

    def loading_percent(self, i_from: np.ndarray, i_to: np.ndarray) -> np.ndarray:
        """pandapower's loading [%] from the end currents [pu], (T, n_branch).

        Out-of-service branches load 0 % (NaN if an end bus is not energised, as in
        pandapower); a zero rating gives inf.
        """
        loading = np.maximum(
            np.abs(i_from) * self.loading_per_current_from,
            np.abs(i_to) * self.loading_per_current_to,
        )
        loading[:, ~self.in_service] = np.where(self.ends_energised[~self.in_service], 0.0, np.nan)
        loading[:, self.zero_rating] = np.inf
        return loading


@dataclass(frozen=True)
class InternalModel:
    """The converged base case of a net in pandapower's internal numbering.

    `ybus` is dense over the internal buses; `ref` / `pq` index the slack and PQ buses;
    `v_base` is the converged complex voltage; `other_demand_mva` is the nominal bus demand of
    everything that does not vary per interval (motors, wards, asymmetric loads, ...);
    `zip_*` are pandapower's per-bus constant-current / constant-impedance shares;
    `bus_ppci[k]` is the internal bus of `net.bus.index[k]` (-1 if not energised).
    """

    base_mva: float
    ybus: np.ndarray
    ref: np.ndarray
    pq: np.ndarray
    v_base: np.ndarray
    other_demand_mva: np.ndarray
    zip_i_p: np.ndarray
    zip_z_p: np.ndarray
    zip_i_q: np.ndarray
    zip_z_q: np.ndarray
    bus_index: pd.Index
    bus_ppci: np.ndarray
    injections: Mapping[str, InjectionMap]
    lines: BranchModel
    trafos: BranchModel

    @property
    def n_bus(self) -> int:
        """Number of internal buses."""
        return int(self.ybus.shape[0])

    @property
    def has_voltage_dependent_demand(self) -> bool:
        """Whether any bus carries constant-current or constant-impedance load shares."""
        return bool(
            np.any(self.zip_i_p)
            or np.any(self.zip_z_p)
            or np.any(self.zip_i_q)
            or np.any(self.zip_z_q)
        )

    def setpoint_tables(self) -> dict[str, tuple[pd.Index, np.ndarray, np.ndarray]]:
        """Per element table: (index, static p_mw, static q_mvar), for `coerce_setpoints`."""
        return {
            element: (inj.index, inj.static_p_mw, inj.static_q_mvar)
            for element, inj in self.injections.items()
        }

    def demand_mva(self, setpoints: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Nominal complex demand per internal bus [MVA], shape (T, n_bus).

        `setpoints[element] = (p_mw, q_mvar)`, each (T, n_element) in `net.<element>` order.
        """
        n_intervals = next(iter(setpoints.values()))[0].shape[0]
        demand = np.tile(self.other_demand_mva, (n_intervals, 1))
        for element, (p_mw, q_mvar) in setpoints.items():
            inj = self.injections[element]
            if inj.ppci_bus.size == 0:
                continue
            incidence = np.zeros((inj.ppci_bus.size, self.n_bus))
            incidence[np.arange(inj.ppci_bus.size), inj.ppci_bus] = inj.demand_per_unit_setpoint
            demand += p_mw @ incidence + 1j * (q_mvar @ incidence)
        return demand


def extract_internal_model(net: Any) -> InternalModel:
    """Run `pandapower.runpp` on a deep copy of `net` and extract its internal model.

    Raises ValueError if elements this model cannot represent are in service or the base case
    does not converge. The caller's net is not touched.
    """
    work = copy.deepcopy(net)
    _reject_unsupported_elements(work)
    try:
        pp.runpp(work, numba=False)
    except pp.LoadflowNotConverged as exc:
        raise ValueError(
            "the net's base case (its static p_mw/q_mvar values) does not converge in "
            "pandapower.runpp; fix the net or its static set points before batching"
        ) from exc
    _reject_unsupported_options(work["_options"])
    ppc = work["_ppc"]
    internal = ppc["internal"]
    if "pq" in internal:
        ybus = np.asarray(internal["Ybus"].toarray(), dtype=np.complex128)
        n_bus = ybus.shape[0]
        bus_arr = np.asarray(internal["bus"])
        base_mva = float(internal["baseMVA"])
        ref = np.asarray(internal["ref"], dtype=np.int64)
        pq = np.asarray(internal["pq"], dtype=np.int64)
        pv = np.asarray(internal["pv"], dtype=np.int64)
        v_base = np.asarray(internal["V"], dtype=np.complex128).copy()
    else:
        # pandapower skips the power flow when no bus voltage is unknown, as in a one-bus park
        # (everything at the connection point): the model is that bus at its slack voltage,
        # with no branch and no PQ bus, so the grid takes the bus balance without losses.
        bus_arr = np.asarray(ppc["bus"])
        bus_arr = bus_arr[bus_arr[:, BUS_TYPE].real != NONE]
        n_bus = bus_arr.shape[0]
        branch_is = np.asarray(internal.get("branch_is", np.zeros(0, bool)), dtype=bool)
        if n_bus != 1 or branch_is.any():
            raise ValueError(
                f"the net has no PQ bus but {n_bus} energised bus(es) and "
                f"{int(branch_is.sum())} branch(es) in service; the batched power flow "
                "supports a net without PQ bus only as a single bus without branches"
            )
        ybus = np.zeros((1, 1), np.complex128)
        base_mva = float(ppc["baseMVA"])
        ref = np.zeros(1, np.int64)
        pq = np.zeros(0, np.int64)
        pv = np.zeros(0, np.int64)
        v_base = bus_arr[:, VM].real * np.exp(1j * np.deg2rad(bus_arr[:, VA].real))
    if len(pv) > 0:
        raise ValueError(
            f"the net has {len(pv)} voltage-controlled bus(es) (e.g. from xward or "
            "dcline elements); only PQ injections are supported"
        )
    lookup = np.asarray(work["_pd2ppc_lookups"]["bus"], dtype=np.int64)
    bus_ppci = lookup[work.bus.index.to_numpy()]
    bus_ppci = np.where((bus_ppci >= 0) & (bus_ppci < n_bus), bus_ppci, -1)

    injections = {
        element: _injection_map(work, element, lookup, n_bus) for element in INJECTION_ELEMENTS
    }
    demand = bus_arr[:, PD].real + 1j * bus_arr[:, QD].real
    for inj in injections.values():
        np.add.at(
            demand,
            inj.ppci_bus,
            -inj.demand_per_unit_setpoint * (inj.static_p_mw + 1j * inj.static_q_mvar),
        )

    branch_lookup = work["_pd2ppc_lookups"]["branch"]
    return InternalModel(
        base_mva=base_mva,
        ybus=ybus,
        ref=ref,
        pq=pq,
        v_base=np.asarray(v_base, dtype=np.complex128),
        other_demand_mva=demand,
        zip_i_p=bus_arr[:, CID_P].real.copy(),
        zip_z_p=bus_arr[:, CZD_P].real.copy(),
        zip_i_q=bus_arr[:, CID_Q].real.copy(),
        zip_z_q=bus_arr[:, CZD_Q].real.copy(),
        bus_index=work.bus.index.copy(),
        bus_ppci=bus_ppci,
        injections=injections,
        lines=_branch_model(work, "line", branch_lookup.get("line"), base_mva, n_bus),
        trafos=_branch_model(work, "trafo", branch_lookup.get("trafo"), base_mva, n_bus),
    )


def _reject_unsupported_elements(net: Any) -> None:
    for element in _UNSUPPORTED_IN_SERVICE:
        table = net.get(element, None)
        if table is None or len(table) == 0:
            continue
        in_service = table["in_service"].to_numpy(dtype=bool)
        if in_service.any():
            names = list(table.index[in_service][:5])
            raise ValueError(
                f"net.{element} has {int(in_service.sum())} element(s) in service (index "
                f"{names}...); only PQ injections (load, sgen, storage) are supported, so set "
                f"them out of service or model them as sgen with fixed p_mw/q_mvar"
            )


def _reject_unsupported_options(options: Mapping[str, Any]) -> None:
    """Power-flow options (e.g. from `net.user_pf_options`) the batched model does not mirror."""
    wanted = {
        "trafo_loading": "current",
        "distributed_slack": False,
        "enforce_p_lims": False,
        "enforce_q_lims": False,
        "tdpf": False,
    }
    differing = {
        key: options.get(key)
        for key, value in wanted.items()
        if key in options and options[key] != value
    }
    if differing:
        raise ValueError(
            f"power-flow options {differing} are not supported by the batched power flow; "
            f"it needs {wanted} (check net.user_pf_options)"
        )


def _injection_map(net: Any, element: str, lookup: np.ndarray, n_bus: int) -> InjectionMap:
    table = net[element]
    if len(table) == 0:
        empty = np.zeros(0)
        return InjectionMap(element, table.index.copy(), np.zeros(0, np.int64), empty, empty, empty)
    active = np.asarray(net["_is_elements"][element], dtype=bool)
    ppci_bus = lookup[table["bus"].to_numpy(dtype=np.int64)]
    active &= (ppci_bus >= 0) & (ppci_bus < n_bus)
    sign = -1.0 if element == "sgen" else 1.0
    factor = np.where(active, sign * table["scaling"].to_numpy(dtype=float), 0.0)
    return InjectionMap(
        element=element,
        index=table.index.copy(),
        ppci_bus=np.where(active, ppci_bus, 0),
        demand_per_unit_setpoint=factor,
        static_p_mw=table["p_mw"].to_numpy(dtype=float).copy(),
        static_q_mvar=table["q_mvar"].to_numpy(dtype=float).copy(),
    )


def _branch_model(
    net: Any, element: str, rows: tuple[int, int] | None, base_mva: float, n_bus: int
) -> BranchModel:
    table = net[element]
    n = len(table)
    if rows is None or n == 0:
        return BranchModel.empty(table.index)
    start, stop = rows
    ppc = net["_ppc"]
    internal = ppc["internal"]
    branch_is = np.asarray(internal["branch_is"], dtype=bool)
    ppci_row = np.cumsum(branch_is) - 1
    in_service = branch_is[start:stop]
    rows_ppci = ppci_row[start:stop][in_service]

    ppc_from = ppc["branch"][start:stop, F_BUS].real.astype(np.int64)
    ppc_to = ppc["branch"][start:stop, T_BUS].real.astype(np.int64)
    ends_energised = (ppc_from < n_bus) & (ppc_to < n_bus)
    from_bus = np.where(ends_energised, ppc_from, 0)
    to_bus = np.where(ends_energised, ppc_to, 0)

    yf = internal["Yf"].tocsr()
    yt = internal["Yt"].tocsr()
    y_ff = np.zeros(n, np.complex128)
    y_ft = np.zeros(n, np.complex128)
    y_tf = np.zeros(n, np.complex128)
    y_tt = np.zeros(n, np.complex128)
    f_is, t_is = from_bus[in_service], to_bus[in_service]
    # A branch whose ends share an internal bus (e.g. in parallel to a closed bus-bus switch)
    # has one entry per row of Yf / Yt; it goes into y_ff / y_tf.
    other_end = (f_is != t_is).astype(float)
    y_ff[in_service] = np.asarray(yf[rows_ppci, f_is]).ravel()
    y_ft[in_service] = np.asarray(yf[rows_ppci, t_is]).ravel() * other_end
    y_tf[in_service] = np.asarray(yt[rows_ppci, f_is]).ravel()
    y_tt[in_service] = np.asarray(yt[rows_ppci, t_is]).ravel() * other_end

    base_kv = np.asarray(internal["bus"])[:, BASE_KV].real
    i_base_from_ka = base_mva / (_SQRT3 * base_kv[from_bus])
    i_base_to_ka = base_mva / (_SQRT3 * base_kv[to_bus])
    derate = table["df"].to_numpy(dtype=float) * table["parallel"].to_numpy(dtype=float)
    if element == "line":
        # pandapower: loading = max(i_from_ka, i_to_ka) / (max_i_ka * df * parallel) * 100
        rating_ka = table["max_i_ka"].to_numpy(dtype=float) * derate
        zero_rating = rating_ka == 0.0
        safe_rating = np.where(zero_rating, 1.0, rating_ka)
        per_from = i_base_from_ka / safe_rating * 100.0
        per_to = i_base_to_ka / safe_rating * 100.0
        rating_from_mva = _SQRT3 * base_kv[from_bus] * rating_ka
    else:
        # pandapower (trafo_loading="current"): loading =
        # max(i_hv_ka * vn_hv_kv, i_lv_ka * vn_lv_kv) * sqrt(3) / sn_mva * 100 / (df * parallel)
        sn_mva = table["sn_mva"].to_numpy(dtype=float)
        vn_hv_kv = table["vn_hv_kv"].to_numpy(dtype=float)
        vn_lv_kv = table["vn_lv_kv"].to_numpy(dtype=float)
        zero_rating = np.zeros(n, bool)
        percent_per_kv_ka = _SQRT3 * 100.0 / (sn_mva * derate)
        per_from = i_base_from_ka * vn_hv_kv * percent_per_kv_ka
        per_to = i_base_to_ka * vn_lv_kv * percent_per_kv_ka
        rating_from_mva = sn_mva * derate * base_kv[from_bus] / vn_hv_kv
    return BranchModel(
        index=table.index.copy(),
        in_service=in_service,
        ends_energised=ends_energised,
        from_bus=from_bus,
        to_bus=to_bus,
        y_ff=y_ff,
        y_ft=y_ft,
        y_tf=y_tf,
        y_tt=y_tt,
        loading_per_current_from=per_from,
        loading_per_current_to=per_to,
        zero_rating=zero_rating,
        rating_from_mva=rating_from_mva,
    )
