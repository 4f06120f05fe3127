"""Network limits for the optimiser: linear rows from sensitivities, and AC tightening.

Rows (one per limit and, for branches, per side of a polygon):

- branch loading: pandapower's loading is current-based, |S_from| <= rating x |V_from|. The
  active and reactive flow at the from end are linear in the injections to high accuracy
  (sensitivities at a reference point); |S| <= r is replaced by a circumscribed regular
  polygon with ``FLOW_SIDES`` sides whose first side is normal to the P axis (exact for pure
  active flows, at most 1/cos(pi/16) - 1 = 2 % optimistic at a vertex - the AC check and
  tightening catch that); the voltage at the from end is the AC value at the operating point;
- bus voltage: vm(t) = vm_AC(x0(t)) + dvm/dx (x(t) - x0(t)), upper and lower;

Rows that no injection within its rating can bring near its limit are screened out. Each row
is scaled by 1 / its largest coefficient (kW-equivalents), so one unit of slack is about one
kW at the most sensitive injection. Per-step right-hand sides and the AC tightening are in
:mod:`controller.network.tightening`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from controller.inputs.dispatch_inputs import NO_LIMIT, per_site, structure_json
from controller.inputs.layout import Layout
from network_models import (
    KW_PER_MW,
    BranchSensitivities,
    NetworkVerifier,
    ParkNetwork,
    build_network,
    injection_incidence,
    sensitivities,
)
from sites import Site

FLOW_SIDES = 16
SCREEN_FRACTION = 0.8  # keep a branch side that can reach 80 % of its rating
VOLTAGE_SCREEN_MARGIN_PU = 0.02  # keep a voltage row that can come within 0.02 pu of its limit
REFERENCE_LOAD_FRACTION = 0.5  # sensitivities at loads half their peak, everything else off
COEF_RTOL = 1e-6
UNBOUNDED_RHS = NO_LIMIT  # right-hand side of a row in padding intervals


class RowKind(StrEnum):
    """What a network row limits."""

    FLOW = "flow"
    """A branch side's flow (MW along the side's normal) below its rating."""
    VM_MAX = "vm_max"
    """A bus voltage below its upper limit."""
    VM_MIN = "vm_min"
    """A bus voltage above its lower limit."""


@dataclass(frozen=True)
class NetworkRow:
    element: str
    """As the AC verifier names it: 'line l_x', 'trafo t1', 'bus f1'."""
    kind: RowKind
    position: int
    """Branch position (lines, then transformers) or bus position (``net.bus`` order)."""


@dataclass(frozen=True)
class LinearNetwork:
    """Every candidate row of a site; ``screened`` marks the rows an optimiser needs."""

    site_id: str
    columns: tuple[str, ...]
    rows: tuple[NetworkRow, ...]
    coef: np.ndarray
    """(n_rows, n_columns) raw coefficients [MW/kW for flow rows, pu/kW for voltage rows]."""
    scale: np.ndarray
    """(n_rows,) 1 / max |coef|: scaled rows have coefficients of at most 1 per kW."""
    offset: np.ndarray
    """(n_rows,) flow rows: the linear flow at x = 0 projected on the side's normal [MW]."""
    rating_mva: np.ndarray
    """(n_rows,) flow rows: the branch rating at 1 pu [MVA]."""
    from_bus: np.ndarray
    """(n_rows,) flow rows: bus position of the branch's from end."""
    screened: np.ndarray
    bus_vm_min_pu: np.ndarray
    """(n_bus,) each bus's lower voltage limit (its voltage level's), ``net.bus`` order."""
    bus_vm_max_pu: np.ndarray
    """(n_bus,) each bus's upper voltage limit."""

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @cached_property
    def rows_of_kind(self) -> dict[RowKind, np.ndarray]:
        """Row numbers of each kind ('flow', 'vm_max', 'vm_min'), found once per network:
        the right-hand sides are computed for all rows of a kind at once."""
        kinds = np.array([row.kind for row in self.rows], dtype=object)
        return {kind: np.flatnonzero(kinds == kind) for kind in RowKind}

    @cached_property
    def rows_of_element(self) -> dict[str, tuple[int, ...]]:
        """Row numbers of each element, in row order (found once per network)."""
        found: dict[str, list[int]] = {}
        for r, row in enumerate(self.rows):
            found.setdefault(row.element, []).append(r)
        return {element: tuple(rows) for element, rows in found.items()}

    @cached_property
    def positions(self) -> np.ndarray:
        """(n_rows,) each row's ``position``."""
        return np.array([row.position for row in self.rows], dtype=int)

    @cached_property
    def coef_positive(self) -> np.ndarray:
        """``coef`` clipped at 0 from below (for a row's worst case over a box)."""
        return np.clip(self.coef, 0, None)

    @cached_property
    def coef_negative(self) -> np.ndarray:
        """``coef`` clipped at 0 from above."""
        return np.clip(self.coef, None, 0)

    def elements(self) -> list[str]:
        return sorted({r.element for r in self.rows})


def _setpoints(park: ParkNetwork, values_kw: dict[str, float]) -> dict[str, np.ndarray]:
    net = park.net
    out = {
        f"{e}_{q}": np.zeros(len(net[e]))
        for e in ("load", "sgen", "storage")
        for q in ("p_mw", "q_mvar")
    }
    for inj in park.injections:
        k = net[inj.element.value].index.get_loc(inj.index)
        mw = values_kw.get(inj.column, 0.0) * inj.sign / KW_PER_MW
        out[f"{inj.element.value}_p_mw"][k] += mw
        out[f"{inj.element.value}_q_mvar"][k] += mw * inj.q_per_p
    return out


def _column_injections(park: ParkNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Bus injection per kW of each column: active [MW] and reactive [Mvar], (n_bus, n_col)."""
    net = park.net
    incidence = {e: injection_incidence(net, e) for e in ("load", "sgen", "storage")}
    p = np.zeros((len(net.bus), len(park.injections)))
    q = np.zeros_like(p)
    for j, inj in enumerate(park.injections):
        k = net[inj.element.value].index.get_loc(inj.index)
        column = incidence[inj.element.value][:, k] * inj.sign / KW_PER_MW
        p[:, j] = column
        q[:, j] = column * inj.q_per_p
    return p, q


def _branch_rows(
    name: str,
    branches: BranchSensitivities,
    names: list[str],
    from_buses: np.ndarray,
    p_inj: np.ndarray,
    q_inj: np.ndarray,
    first_position: int,
) -> tuple[list[NetworkRow], list[np.ndarray], list[float], list[float], list[int]]:
    rows, coefs, offsets, ratings, buses = [], [], [], [], []
    dp = branches.dp_from_dp @ p_inj + branches.dp_from_dq @ q_inj
    dq = branches.dq_from_dp @ p_inj + branches.dq_from_dq @ q_inj
    for b in range(len(branches.index)):
        rating = float(branches.rating_from_mva[b])
        if not np.isfinite(rating) or rating <= 0:
            continue
        for m in range(FLOW_SIDES):
            angle = 2 * np.pi * m / FLOW_SIDES
            c, s = np.cos(angle), np.sin(angle)
            coef = c * dp[b] + s * dq[b]
            # flow at x = 0 by the linear model around the reference point
            offset = c * branches.p_from_mw_base[b] + s * branches.q_from_mvar_base[b]
            rows.append(NetworkRow(f"{name} {names[b]}", RowKind.FLOW, first_position + b))
            coefs.append(coef)
            offsets.append(float(offset))
            ratings.append(rating)
            buses.append(int(from_buses[b]))
    return rows, coefs, offsets, ratings, buses


@lru_cache(maxsize=16)
def _linear_network_cached(site_json: str) -> tuple[LinearNetwork, NetworkVerifier]:
    site = Site.model_validate_json(site_json)
    park = build_network(site)
    verifier = NetworkVerifier(site, park)
    return build_linear_network(site, park), verifier


@per_site
def network_for(site: Site) -> tuple[LinearNetwork, NetworkVerifier]:
    """The site's linear network and AC verifier (built once per site and process).

    Keyed by the site's configuration (its JSON without posted prices,
    :func:`controller.inputs.dispatch_inputs.structure_json`), so equal sites share one build; the
    JSON of a site costs more than planning steps should pay, so each Site object finds its entry
    by identity after the first call (see :func:`controller.inputs.dispatch_inputs.per_site`)."""
    return _linear_network_cached(structure_json(site))


def build_linear_network(site: Site, park: ParkNetwork) -> LinearNetwork:
    net = park.net
    layout = Layout(site)
    caps = layout.injection_capacity_kw
    columns = park.columns()
    reference = {
        c: REFERENCE_LOAD_FRACTION * caps.get(c, 0.0) for c in columns if c.startswith("load_")
    }
    x_ref = np.array([reference.get(c, 0.0) for c in columns])
    setpoints = _setpoints(park, reference)
    sens = sensitivities(
        net,
        load_p_mw=setpoints["load_p_mw"],
        load_q_mvar=setpoints["load_q_mvar"],
        sgen_p_mw=setpoints["sgen_p_mw"],
        sgen_q_mvar=setpoints["sgen_q_mvar"],
        storage_p_mw=setpoints["storage_p_mw"],
        storage_q_mvar=setpoints["storage_q_mvar"],
    )
    p_inj, q_inj = _column_injections(park)
    bus_pos = {int(b): k for k, b in enumerate(net.bus.index)}

    rows: list[NetworkRow] = []
    coefs: list[np.ndarray] = []
    offsets: list[float] = []
    ratings: list[float] = []
    from_buses: list[int] = []
    line_from = np.array([bus_pos[int(b)] for b in net.line["from_bus"]], dtype=int)
    trafo_from = np.array([bus_pos[int(b)] for b in net.trafo["hv_bus"]], dtype=int)
    for part in (
        _branch_rows(
            "line", sens.line, [str(n) for n in net.line["name"]], line_from, p_inj, q_inj, 0
        ),
        _branch_rows(
            "trafo",
            sens.trafo,
            [str(n) for n in net.trafo["name"]],
            trafo_from,
            p_inj,
            q_inj,
            len(net.line),
        ),
    ):
        rows += part[0]
        coefs += part[1]
        offsets += [o - float(c @ x_ref) for o, c in zip(part[2], part[1], strict=True)]
        ratings += part[3]
        from_buses += part[4]

    dvm = sens.dvm_dp @ p_inj + sens.dvm_dq @ q_inj
    vm_min, vm_max = np.asarray(park.vm_min_pu), np.asarray(park.vm_max_pu)
    vm_rows: list[tuple[NetworkRow, np.ndarray, float]] = []
    names = [str(n) for n in net.bus["name"]]
    for k in range(len(net.bus)):
        if not np.all(np.isfinite(dvm[k])) or not np.isfinite(sens.vm_pu_base[k]):
            continue
        if np.abs(dvm[k]).max() == 0:
            continue  # the slack bus
        # worst case over the box of ratings, by the linear model around the reference
        base = sens.vm_pu_base[k] - float(dvm[k] @ x_ref)
        cap = np.array([caps.get(c, 0.0) for c in columns])
        high = base + float(np.clip(dvm[k], 0, None) @ cap)
        low = base + float(np.clip(dvm[k], None, 0) @ cap)
        vm_rows.append((NetworkRow(f"bus {names[k]}", RowKind.VM_MAX, k), dvm[k], high))
        vm_rows.append((NetworkRow(f"bus {names[k]}", RowKind.VM_MIN, k), -dvm[k], low))

    cap = np.array([caps.get(c, 0.0) for c in columns])
    screened = [
        offset + float(np.clip(coef, 0, None) @ cap) > SCREEN_FRACTION * rating * vm_min[bus]
        for coef, offset, rating, bus in zip(coefs, offsets, ratings, from_buses, strict=True)
    ]
    for row, coef, worst in vm_rows:
        rows.append(row)
        coefs.append(coef)
        offsets.append(0.0)
        ratings.append(0.0)
        from_buses.append(-1)
        if row.kind is RowKind.VM_MAX:
            screened.append(worst > vm_max[row.position] - VOLTAGE_SCREEN_MARGIN_PU)
        else:
            screened.append(worst < vm_min[row.position] + VOLTAGE_SCREEN_MARGIN_PU)
    coef_matrix = np.vstack(coefs) if coefs else np.zeros((0, len(columns)))
    # coefficients below 1e-6 of the row's largest are linearisation noise, not coupling
    row_max = np.abs(coef_matrix).max(axis=1, keepdims=True) if len(coefs) else coef_matrix
    coef_matrix = np.where(np.abs(coef_matrix) < COEF_RTOL * row_max, 0.0, coef_matrix)
    largest = np.abs(coef_matrix).max(axis=1) if len(coefs) else np.zeros(0)
    scale = np.divide(1.0, largest, out=np.zeros_like(largest), where=largest > 0)
    screened_arr = np.asarray(screened, dtype=bool) & (largest > 0)
    return LinearNetwork(
        site_id=site.id,
        columns=tuple(columns),
        rows=tuple(rows),
        coef=coef_matrix,
        scale=scale,
        offset=np.asarray(offsets, dtype=float),
        rating_mva=np.asarray(ratings, dtype=float),
        from_bus=np.asarray(from_buses, dtype=int),
        screened=screened_arr,
        bus_vm_min_pu=vm_min,
        bus_vm_max_pu=vm_max,
    )


def injections_matrix(linear: LinearNetwork, frame: pd.DataFrame) -> np.ndarray:
    """(T, n_columns) kW of the network's injection columns (0 where a column is missing)."""
    out = np.zeros((len(frame), len(linear.columns)))
    positions = frame.columns.get_indexer(pd.Index(linear.columns))
    present = np.flatnonzero(positions >= 0)
    if present.size:  # one selection of all the columns (a lookup each costs more)
        selected = frame[[linear.columns[j] for j in present]]
        out[:, present] = selected.to_numpy(dtype=float)
    return out
