"""Prometheus metrics of the field loop, in the service's registry (or a test's own)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.service.field.status import FieldStatus


class _StatusCollector(Collector):
    def __init__(self, statuses: Callable[[], Iterable[FieldStatus]]) -> None:
        self._statuses = statuses

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "microgrid_field_device_up",
            "1 while a field device answers, 0 when its comms are lost (absent before contact)",
            labels=["site", "device"],
        )
        alarms = GaugeMetricFamily(
            "microgrid_field_alarms", "Field alarms of the park now (see /health)", labels=["site"]
        )
        for status in self._statuses():
            for d in status.devices():
                if d.up is not None:
                    up.add_metric([status.site_id, d.name], 1.0 if d.up else 0.0)
            alarms.add_metric([status.site_id], float(len(status.alarms())))
        yield up
        yield alarms


class FieldMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.points = Counter(
            "microgrid_field_points_read",
            "Field point readings by protocol and quality",
            ["site", "protocol", "quality"],
            registry=registry,
        )
        self.setpoints = Counter(
            "microgrid_field_setpoints",
            "Setpoints written to field devices by outcome",
            ["site", "status"],
            registry=registry,
        )
        self.setpoint_seconds = Histogram(
            "microgrid_field_setpoint_round_seconds",
            "Interval start to the last setpoint of the round confirmed",
            ["site"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=registry,
        )
        self._registry = registry

    def watch(self, statuses: Callable[[], Iterable[FieldStatus]]) -> None:
        self._registry.register(_StatusCollector(statuses))
