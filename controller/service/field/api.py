"""``/api/v1/sites/{id}/field``: the park's field devices, their alarms, manual mode and the
setpoints sent (operator keys).

``PUT .../field/mode`` switches the park (no ``device``) or one device to manual, which stops
every write to it from the next interval on, or back to automatic. ``/health`` and the
dashboard list the park's field alarms and manual modes among its reasons.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from controller.service import db
from controller.service.api.deps import OperatorSite, ServiceDep
from controller.service.context import Service
from controller.service.field import records
from controller.service.field.loop import FieldLoop

router = APIRouter(prefix="/api/v1/sites/{site_id}/field", tags=["field"])


class ModeIn(BaseModel):
    manual: bool
    device: str | None = Field(default=None, description="one device; default the whole park")
    note: str = Field(default="", max_length=500)


class SetpointOut(BaseModel):
    device: str
    point: str
    setpoint: str
    interval_start: datetime
    plan_id: int | None
    planned_value: float | None
    sent_value: float | None
    reported_value: float | None
    status: str
    detail: str
    sent_at: datetime
    answered_at: datetime | None


def _loop(service: Service, site_id: str) -> FieldLoop:
    loop = service.field_loop
    if loop is None or site_id not in loop.parks:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"{site_id!r} has no field devices in this service (serve with field_devices on "
            "and a device map for the park)",
        )
    return loop


def manual_reasons(service: Service, site_id: str) -> list[str]:
    """Manual modes in force, as /health reasons (no field loop: none)."""
    if service.field_loop is None or site_id not in service.field_loop.parks:
        return []
    with db.read(service.engine) as connection:
        manual = records.manual_devices(connection, site_id)
    return [
        f"field {'park' if device == records.PARK else f'device {device!r}'} in manual mode "
        f"since {at:%Y-%m-%d %H:%M} UTC: no setpoints written" + (f" ({note})" if note else "")
        for device, (at, note) in sorted(manual.items())
    ]


@router.get("")
def field_state(
    site: OperatorSite,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="setpoint records")] = 100,
) -> dict[str, Any]:
    """Devices (answering, each point's quality), alarms, manual modes, newest setpoints."""
    loop = _loop(service, site.id)
    with db.read(service.engine) as connection:
        manual = records.manual_devices(connection, site.id)
        sent = records.recent(connection, site.id, limit)
    document = loop.parks[site.id].status.document()
    document["alarms"] = loop.alarms(site.id)
    document["manual"] = {
        device: {"since": at.isoformat(), "note": note} for device, (at, note) in manual.items()
    }
    document["setpoints"] = [
        SetpointOut.model_validate(asdict(r) | {"status": r.status.value}).model_dump(mode="json")
        for r in sent
    ]
    return document


@router.get("/readings")
def field_readings(
    site: OperatorSite,
    service: ServiceDep,
    start: Annotated[AwareDatetime, Query(description="first interval start (inclusive)")],
    end: Annotated[AwareDatetime, Query(description="last interval start (exclusive)")],
    series: Annotated[list[str] | None, Query(description="repeat for several")] = None,
) -> list[dict[str, Any]]:
    """Each field series' quality flag per interval: ``good`` (the value stored), or where no
    reading in the interval was good, the latest reading's (``stale``, ``out_of_range``,
    ``comms_lost``) with its value and why; and how many readings were taken and good."""
    if end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end must be after start")
    with db.read(service.engine) as connection:
        found = records.readings(connection, site.id, series, start, end)
    return [asdict(r) | {"quality": r.quality.value} for r in found]


@router.put("/mode")
def set_mode(site: OperatorSite, body: ModeIn, service: ServiceDep) -> dict[str, Any]:
    """Manual (no writes) or automatic, for the park or one of its devices."""
    loop = _loop(service, site.id)
    known = [d.name for d in loop.parks[site.id].map.devices]
    if body.device is not None and body.device not in known:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"device: got {body.device!r}: must be one of {known} (or left out for the park)",
        )
    device = body.device or records.PARK
    with db.write(service.engine) as connection:
        records.set_mode(connection, site.id, device, body.manual, service.now(), body.note)
    return {"site_id": site.id, "device": body.device, "manual": body.manual}
