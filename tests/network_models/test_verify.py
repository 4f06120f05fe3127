"""Site-level AC verification: agrees with pandapower's runpp, and reports what breaks limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from network_models.build import KW_PER_MW
from network_models.design import design_check
from network_models.reference import history_injections, runpp_row
from network_models.verify import NetworkVerifier
from sites import DataError, bundled_sites, columns, load_bundled_site

VM_TOL_PU = 1e-5  # the agreement bound for bus voltages
LOADING_TOL_PERCENT = 0.01  # ... and for line and transformer loading
GRID_TOL_KW = 1.0  # ext_grid power: 1 kW of a 10-60 MW connection, far below metering accuracy
N_INTERVALS = 300
N_SAMPLED = 12


def _injections(site_id: str, n: int, seed: int = 7) -> tuple[NetworkVerifier, pd.DataFrame]:
    """Real history rows, with battery and heat pumps at random feasible setpoints."""
    site = load_bundled_site(site_id)
    verifier = NetworkVerifier(site)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(35_136, n, replace=False))
    return verifier, history_injections(site, verifier.park, rows, seed)


@pytest.mark.parametrize("site_id", [s.id for s in bundled_sites()])
def test_batched_verification_matches_runpp(site_id: str) -> None:
    verifier, frame = _injections(site_id, N_INTERVALS)
    result = verifier.verify(frame)
    assert result.intervals["converged"].all()
    for i in np.linspace(0, N_INTERVALS - 1, N_SAMPLED).astype(int):
        net = runpp_row(verifier.park, frame.iloc[i])
        np.testing.assert_allclose(result.vm_pu.iloc[i], net.res_bus.vm_pu, rtol=0, atol=VM_TOL_PU)
        np.testing.assert_allclose(
            result.line_loading_percent.iloc[i],
            net.res_line.loading_percent,
            rtol=0,
            atol=LOADING_TOL_PERCENT,
        )
        np.testing.assert_allclose(
            result.trafo_loading_percent.iloc[i],
            net.res_trafo.loading_percent,
            rtol=0,
            atol=LOADING_TOL_PERCENT,
        )
        grid_kw = net.res_ext_grid.p_mw.sum() * KW_PER_MW
        got = result.intervals.iloc[i]
        assert got.grid_import_kw - got.grid_export_kw == pytest.approx(grid_kw, abs=GRID_TOL_KW)
        losses_kw = (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * KW_PER_MW
        assert got.losses_kw == pytest.approx(losses_kw, abs=GRID_TOL_KW)


def test_overloaded_interval_is_reported() -> None:
    verifier, frame = _injections("chiping-aluminium", 24)
    frame = frame.copy()
    frame[columns.battery_charge_kw("bess_main")] = 0.0
    frame[columns.battery_discharge_kw("bess_main")] = 0.0
    frame[columns.heat_pump_kw("hp_cooling_water")] = 0.0
    assert verifier.verify(frame).violations.empty  # the plain history breaks no limit
    overloaded = frame.index[5]
    # 9 MW on the single 7.3 MVA cable of the east PV feeder.
    frame.loc[overloaded, columns.pv_kw("pv_roof_east")] = 9000.0
    result = verifier.verify(frame)
    lines = result.violations[result.violations.element == "line l_pv_east"]
    assert list(lines.interval) == [overloaded]
    assert lines.iloc[0].value > 100.0 and lines.iloc[0].limit == 100.0
    assert (result.violations.interval == overloaded).all()


def test_grid_limits_are_violations_too() -> None:
    verifier, frame = _injections("gaotang-textile", 4)
    frame = frame.copy()
    frame[columns.load_kw("spinning_weaving")] = 0.0
    frame[columns.pv_kw("pv_weaving")] = 3600.0
    frame[columns.pv_kw("pv_dye_house")] = 5400.0
    frame[columns.battery_discharge_kw("bess")] = 4000.0
    frame[columns.battery_charge_kw("bess")] = 0.0
    for col in frame.columns:
        if col.startswith("load_") or col.startswith("heat_pump_"):
            frame[col] = 0.0
    result = verifier.verify(frame)
    exports = result.violations[result.violations.quantity == "export_kw"]
    assert len(exports) == 4 and (exports.value > 5000.0).all()


def test_violations_are_listed_by_interval_then_element_whatever_the_row_order() -> None:
    verifier, frame = _injections("chiping-aluminium", 48)
    frame = frame.copy()
    for col in frame.columns:
        if col.startswith("load_"):
            frame[col] = frame[col] * 3.0  # voltage, line, transformer and import violations
    shuffled = frame.iloc[np.random.default_rng(3).permutation(len(frame))]
    for injections in (frame, shuffled):
        found = verifier.verify(injections).violations
        assert len(found) > 48 and found["element"].nunique() > 3
        assert list(found.columns) == ["interval", "element", "quantity", "value", "limit"]
        in_order = found.sort_values(["interval", "element"], kind="stable")
        pd.testing.assert_frame_equal(found, in_order.reset_index(drop=True), check_exact=True)
    # the same violations, each with the value of its own interval (to the solver's tolerance:
    # the batch converges along another path when its rows are in another order)
    by_key = verifier.verify(frame).violations.set_index(["interval", "element", "quantity"])
    again = verifier.verify(shuffled).violations.set_index(["interval", "element", "quantity"])
    pd.testing.assert_frame_equal(by_key, again.loc[by_key.index], rtol=1e-9)


def test_no_violation_gives_an_empty_table_of_the_same_columns() -> None:
    verifier, frame = _injections("gaotang-textile", 4)
    for col in frame.columns:
        frame[col] = 0.0
    found = verifier.verify(frame).violations
    assert found.empty and list(found.columns) == [
        "interval",
        "element",
        "quantity",
        "value",
        "limit",
    ]
    found.loc[0] = [frame.index[0], "bus x", "vm_pu", 1.1, 1.07]  # a copy of its own
    assert verifier.verify(frame).violations.empty


def test_bad_injections_are_refused_with_the_column() -> None:
    verifier, frame = _injections("gaotang-textile", 4)
    with pytest.raises(DataError, match="lacks columns \\['pv_pv_weaving_kw'\\]"):
        verifier.verify(frame.drop(columns=[columns.pv_kw("pv_weaving")]))
    bad = frame.copy()
    bad.iloc[2, 0] = -1.0
    with pytest.raises(DataError, match=f"column {frame.columns[0]} at .* is -1.0"):
        verifier.verify(bad)


@pytest.mark.parametrize("site_id", [s.id for s in bundled_sites()])
def test_design_check_reports_every_exceeded_limit(site_id: str) -> None:
    site = load_bundled_site(site_id)
    check = design_check(site)
    table = check.table()
    limits = site.network.limits
    assert list(table.index) == ["peak_load", "peak_generation"]
    for name, row in table.iterrows():
        expected = int(
            (
                check.verification.line_loading_percent.loc[name] > limits.max_line_loading_percent
            ).sum()
        )
        expected += int((check.verification.vm_pu.loc[name] < limits.vm_min_pu).sum())
        expected += int((check.verification.vm_pu.loc[name] > limits.vm_max_pu).sum())
        expected += int(
            (
                check.verification.trafo_loading_percent.loc[name]
                > limits.max_trafo_loading_percent
            ).sum()
        )
        expected += int(row.grid_import_kw > site.grid_connection.import_limit_kw)
        expected += int(row.grid_export_kw > site.grid_connection.export_limit_kw)
        assert row.violations == expected
    # Peak generation of every bundled park exceeds its export limit: the plan must curtail,
    # store or consume.
    assert table.loc["peak_generation", "grid_export_kw"] > site.grid_connection.export_limit_kw
