"""Storage (and renewable build-out) candidates of a sizing sweep, and the park each one is.

A candidate fixes the park's total battery energy [kWh] and power [kW] (or its duration [h]),
the capacity of each thermal store [kWh_th], and scale factors on the PV and wind capacity.
:func:`variant_site` turns it into a full site (a copy of the frozen site, checked again as a
site file is), :func:`scaled_truth` the history into the one the scaled renewables would have
produced.

- the battery energy is the park's total, split over its batteries in proportion to their
  present capacities; charge and discharge power likewise (from ``battery_kw``, or from the
  energy / ``duration_h``, or, with neither, at each battery's present duration); 0 kWh
  removes the batteries;
- a thermal store keeps its charge and discharge rates per kWh_th of capacity; 0 removes it;
- PV arrays scale their peak and inverter, wind turbines their rated power, and the history's
  available PV and wind scale with them (the same weather, more or fewer panels).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from sites import DataError, Site, columns
from sites.loader import load_site_mapping


@dataclass(frozen=True)
class Candidate:
    battery_kwh: float
    """Total battery energy of the park [kWh] (0: no battery)."""
    battery_kw: float
    """Total battery charge (= discharge) power [kW]."""
    tank_kwh_th: tuple[tuple[str, float], ...] = ()
    """(tank name, capacity [kWh_th]) per thermal store of the park."""
    pv_scale: float = 1.0
    wind_scale: float = 1.0

    @property
    def label(self) -> str:
        tanks = " ".join(f"{name} {kwh / 1000:g} MWh_th" for name, kwh in self.tank_kwh_th)
        parts = [f"battery {self.battery_kwh / 1000:g} MWh / {self.battery_kw / 1000:g} MW"]
        if tanks:
            parts.append(tanks)
        if self.pv_scale != 1.0:
            parts.append(f"PV x{self.pv_scale:g}")
        if self.wind_scale != 1.0:
            parts.append(f"wind x{self.wind_scale:g}")
        return ", ".join(parts)

    @property
    def tank_total_kwh_th(self) -> float:
        return float(sum(kwh for _, kwh in self.tank_kwh_th))

    @property
    def renewables(self) -> tuple[float, float]:
        """What the forecasts and the no-storage baseline depend on."""
        return (self.pv_scale, self.wind_scale)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["tank_kwh_th"] = dict(self.tank_kwh_th)
        return out


@dataclass(frozen=True)
class CandidateGrid:
    """Lists of values to combine (every combination is a candidate).

    ``battery_kw`` and ``duration_h`` are alternatives (at most one given); empty lists keep
    the site's present value."""

    battery_kwh: Sequence[float] = ()
    battery_kw: Sequence[float] = ()
    duration_h: Sequence[float] = ()
    tank_kwh_th: Sequence[float] = ()
    """Capacity of every thermal store [kWh_th] (each tank gets each value)."""
    tanks: Mapping[str, Sequence[float]] = field(default_factory=dict)
    """Per tank name: its capacities [kWh_th] (overrides ``tank_kwh_th`` for that tank)."""
    pv_scale: Sequence[float] = ()
    wind_scale: Sequence[float] = ()

    def candidates(self, site: Site) -> list[Candidate]:
        """Every combination, in a stable order, duplicates removed."""
        _check_values("--battery-kwh", self.battery_kwh, allow_zero=True)
        _check_values("--battery-kw", self.battery_kw, allow_zero=False)
        _check_values("--duration-h", self.duration_h, allow_zero=False)
        _check_values("--tank-kwh-th", self.tank_kwh_th, allow_zero=True)
        _check_values("--pv-scale", self.pv_scale, allow_zero=False)
        _check_values("--wind-scale", self.wind_scale, allow_zero=False)
        if self.battery_kw and self.duration_h:
            raise DataError(
                "--battery-kw and --duration-h: got both; give the battery power either in kW "
                "or as a duration in hours"
            )
        batteries = site.assets.batteries
        tanks = site.assets.thermal_storage
        energy_now = sum(b.capacity_kwh for b in batteries)
        power_now = sum(b.discharge_kw for b in batteries)
        if not batteries and any(v > 0 for v in self.battery_kwh):
            raise DataError(
                f"--battery-kwh: {site.id} has no battery to size; add one to the site file "
                "(its bus, efficiencies and SoC limits), then sweep its size"
            )
        unknown = sorted(set(self.tanks) - {t.name for t in tanks})
        if unknown:
            raise DataError(
                f"--tank: got {', '.join(unknown)}; {site.id}'s thermal stores are: "
                f"{', '.join(t.name for t in tanks) or 'none'}"
            )
        if not tanks and any(v > 0 for v in self.tank_kwh_th):
            raise DataError(f"--tank-kwh-th: {site.id} has no thermal store to size")
        if self.wind_scale and not site.assets.wind:
            raise DataError(f"--wind-scale: {site.id} has no wind turbine to scale")
        if self.pv_scale and not site.assets.pv:
            raise DataError(f"--pv-scale: {site.id} has no PV array to scale")
        energies = list(self.battery_kwh) or [energy_now]
        tank_lists = [
            list(self.tanks.get(t.name, self.tank_kwh_th)) or [t.capacity_kwh_th] for t in tanks
        ]
        found: dict[Candidate, None] = {}
        for energy, tank_values, pv, wind in itertools.product(
            energies,
            itertools.product(*tank_lists),
            list(self.pv_scale) or [1.0],
            list(self.wind_scale) or [1.0],
        ):
            for power in self._powers(energy, energy_now, power_now):
                tank_kwh = tuple(
                    (t.name, float(v)) for t, v in zip(tanks, tank_values, strict=True)
                )
                found[Candidate(float(energy), float(power), tank_kwh, float(pv), float(wind))] = (
                    None
                )
        return list(found)

    def _powers(self, energy: float, energy_now: float, power_now: float) -> list[float]:
        if energy == 0:
            return [0.0]
        if self.battery_kw:
            return [float(p) for p in self.battery_kw]
        if self.duration_h:
            return [energy / h for h in self.duration_h]
        return [energy * power_now / energy_now]


def _check_values(option: str, values: Sequence[float], allow_zero: bool) -> None:
    for v in values:
        if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
            accepted = "0 or above" if allow_zero else "above 0"
            raise DataError(f"{option}: got {v}; every value must be a finite number {accepted}")


def parse_values(option: str, text: str | None) -> list[float]:
    """``"0,12000,24000"`` or a range ``"0:24000:6000"`` (start:stop:step, stop included)."""
    if text is None or not text.strip():
        return []
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            return [round(start + k * step, 9) for k in range(count)]
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DataError(
            f"{option}: got {text!r}; give values separated by commas (0,12000,24000) or a "
            "range start:stop:step with step above 0 (0:24000:6000)"
        ) from None


def variant_site(site: Site, candidate: Candidate) -> Site:
    """The park with the candidate's storage and renewables, checked as a site file is."""
    a = site.assets
    energy_now = sum(b.capacity_kwh for b in a.batteries)
    power_now = sum(b.discharge_kw for b in a.batteries)
    batteries = []
    if candidate.battery_kwh > 0:
        for b in a.batteries:
            e_share = b.capacity_kwh / energy_now
            charge_share = b.charge_kw / power_now
            discharge_share = b.discharge_kw / power_now
            batteries.append(
                b.model_copy(
                    update={
                        "capacity_kwh": candidate.battery_kwh * e_share,
                        "charge_kw": candidate.battery_kw * charge_share,
                        "discharge_kw": candidate.battery_kw * discharge_share,
                    }
                )
            )
    sizes = dict(candidate.tank_kwh_th)
    tanks = []
    for t in a.thermal_storage:
        size = sizes.get(t.name, t.capacity_kwh_th)
        if size > 0:
            rate = size / t.capacity_kwh_th
            tanks.append(
                t.model_copy(
                    update={
                        "capacity_kwh_th": size,
                        "charge_kw_th": t.charge_kw_th * rate,
                        "discharge_kw_th": t.discharge_kw_th * rate,
                    }
                )
            )
    pv = [
        x.model_copy(
            update={
                "peak_kw": x.peak_kw * candidate.pv_scale,
                "inverter_kva": x.inverter_kva * candidate.pv_scale,
            }
        )
        for x in a.pv
    ]
    wind = [x.model_copy(update={"rated_kw": x.rated_kw * candidate.wind_scale}) for x in a.wind]
    assets = a.model_copy(
        update={"batteries": batteries, "thermal_storage": tanks, "pv": pv, "wind": wind}
    )
    variant = site.model_copy(update={"assets": assets})
    # a copy is not validated: check it again as a site file is
    return load_site_mapping(variant.model_dump(mode="json"), source=f"candidate {candidate.label}")


def scaled_truth(
    site: Site, truth: pd.DataFrame, pv_scale: float, wind_scale: float
) -> pd.DataFrame:
    """The history with the available PV and wind of scaled arrays (a new frame)."""
    if pv_scale == 1.0 and wind_scale == 1.0:
        return truth
    out = truth.copy()
    for x in site.assets.pv:
        out[columns.pv_kw(x.name)] = truth[columns.pv_kw(x.name)] * pv_scale
    for w in site.assets.wind:
        out[columns.wind_kw(w.name)] = truth[columns.wind_kw(w.name)] * wind_scale
    return out


def frame_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    return digest.hexdigest()


def digest(*parts: object) -> str:
    """A stable hash of JSON-able parts (sites as their JSON dump)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Site):
            h.update(part.model_dump_json().encode())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()
