"""Planning: forecast + measured state -> dispatch plan, its KPIs, its check.

The public API other packages use is in ``__all__``; the rooms inside (``inputs``,
``network``, ``model``, ``plans``, ``solver``, ``fallback``) are the package's own
(docs/architecture.md draws the path and holds the import rules). ``controller.columns``, the
plan frame's column names, is public as a module; ``controller.service`` and ``controller.cli``
are the running controller and the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sites.lazy_api import lazy_api

if TYPE_CHECKING:
    from controller.config import DEFAULT_CONFIG, DispatchConfig, Objective
    from controller.fallback.rules import fallback_dispatch
    from controller.inputs.cop import (
        cascade_cop,
        cascade_electric_per_heat,
        heat_pump_cop,
        site_heat_pump_cops,
    )
    from controller.inputs.dispatch_inputs import DispatchInputs, NetworkData, prepare
    from controller.inputs.flexible import delivered_in_open_windows
    from controller.inputs.forecast_data import as_forecast
    from controller.inputs.layout import Layout
    from controller.inputs.state import (
        MeasuredState,
        RenewableTally,
        default_state,
        year_fraction_left,
    )
    from controller.kinds import PlanKind, PlanStatus, Solver
    from controller.network.linear import LinearNetwork, network_for
    from controller.peak_target import MonthPeakTarget
    from controller.planner import plan, rule_based_plan
    from controller.plans.adherence import Adherence, adherence_of, outside_band_kw
    from controller.plans.check import (
        CheckReport,
        check_plan,
        electric_balance_error_kw,
        electric_sources_and_uses_kw,
    )
    from controller.plans.dispatch import Dispatch, dispatch_frame, net_connection_flows
    from controller.plans.kpi import Kpis, billing_months, compute_kpis, demand_charge_cny
    from controller.plans.plan import Binding, NetworkSummary, Plan, PlanMetadata, Relaxation
    from controller.plans.provenance import code_version, input_hash, replay_input_hash
    from controller.plans.serialise import (
        plan_from_dict,
        plan_from_json,
        plan_to_csv,
        plan_to_dict,
        plan_to_json,
    )
    from controller.solver.cache import DEFAULT_CACHE, ModelCache
    from controller.solver.highs import new_highs

_HOME: dict[str, str] = {
    "new_highs": "controller.solver.highs",
    "delivered_in_open_windows": "controller.inputs.flexible",
    "NetworkData": "controller.inputs.dispatch_inputs",
    "Layout": "controller.inputs.layout",
    "Adherence": "controller.plans.adherence",
    "Binding": "controller.plans.plan",
    "CheckReport": "controller.plans.check",
    "DEFAULT_CACHE": "controller.solver.cache",
    "DEFAULT_CONFIG": "controller.config",
    "Dispatch": "controller.plans.dispatch",
    "DispatchConfig": "controller.config",
    "DispatchInputs": "controller.inputs.dispatch_inputs",
    "Kpis": "controller.plans.kpi",
    "LinearNetwork": "controller.network.linear",
    "MeasuredState": "controller.inputs.state",
    "ModelCache": "controller.solver.cache",
    "MonthPeakTarget": "controller.peak_target",
    "NetworkSummary": "controller.plans.plan",
    "Objective": "controller.config",
    "Plan": "controller.plans.plan",
    "PlanKind": "controller.kinds",
    "PlanMetadata": "controller.plans.plan",
    "PlanStatus": "controller.kinds",
    "Relaxation": "controller.plans.plan",
    "RenewableTally": "controller.inputs.state",
    "Solver": "controller.kinds",
    "adherence_of": "controller.plans.adherence",
    "as_forecast": "controller.inputs.forecast_data",
    "billing_months": "controller.plans.kpi",
    "check_plan": "controller.plans.check",
    "code_version": "controller.plans.provenance",
    "compute_kpis": "controller.plans.kpi",
    "default_state": "controller.inputs.state",
    "demand_charge_cny": "controller.plans.kpi",
    "dispatch_frame": "controller.plans.dispatch",
    "electric_balance_error_kw": "controller.plans.check",
    "electric_sources_and_uses_kw": "controller.plans.check",
    "fallback_dispatch": "controller.fallback.rules",
    "heat_pump_cop": "controller.inputs.cop",
    "site_heat_pump_cops": "controller.inputs.cop",
    "cascade_cop": "controller.inputs.cop",
    "cascade_electric_per_heat": "controller.inputs.cop",
    "input_hash": "controller.plans.provenance",
    "net_connection_flows": "controller.plans.dispatch",
    "network_for": "controller.network.linear",
    "outside_band_kw": "controller.plans.adherence",
    "plan": "controller.planner",
    "plan_from_dict": "controller.plans.serialise",
    "plan_from_json": "controller.plans.serialise",
    "plan_to_csv": "controller.plans.serialise",
    "plan_to_dict": "controller.plans.serialise",
    "plan_to_json": "controller.plans.serialise",
    "prepare": "controller.inputs.dispatch_inputs",
    "replay_input_hash": "controller.plans.provenance",
    "rule_based_plan": "controller.planner",
    "year_fraction_left": "controller.inputs.state",
}
"""Each public name and the module that defines it: imported when the name is first read,
so that importing one light module of the package does not load the whole of it."""

__all__ = [
    "new_highs",
    "delivered_in_open_windows",
    "NetworkData",
    "Layout",
    "Adherence",
    "Binding",
    "CheckReport",
    "DEFAULT_CACHE",
    "DEFAULT_CONFIG",
    "Dispatch",
    "DispatchConfig",
    "DispatchInputs",
    "Kpis",
    "LinearNetwork",
    "MeasuredState",
    "ModelCache",
    "MonthPeakTarget",
    "NetworkSummary",
    "Objective",
    "Plan",
    "PlanKind",
    "PlanMetadata",
    "PlanStatus",
    "Relaxation",
    "RenewableTally",
    "Solver",
    "adherence_of",
    "as_forecast",
    "billing_months",
    "check_plan",
    "code_version",
    "compute_kpis",
    "default_state",
    "demand_charge_cny",
    "dispatch_frame",
    "electric_balance_error_kw",
    "electric_sources_and_uses_kw",
    "fallback_dispatch",
    "heat_pump_cop",
    "site_heat_pump_cops",
    "cascade_cop",
    "cascade_electric_per_heat",
    "input_hash",
    "net_connection_flows",
    "network_for",
    "outside_band_kw",
    "plan",
    "plan_from_dict",
    "plan_from_json",
    "plan_to_csv",
    "plan_to_dict",
    "plan_to_json",
    "prepare",
    "replay_input_hash",
    "rule_based_plan",
    "year_fraction_left",
]


__getattr__, __dir__ = lazy_api(__name__, _HOME, globals(), __all__)
