"""``/api/v1/sites/{id}/prices``: the operator posts per-interval prices for a park (e.g. the
spot market's day-ahead or real-time prices of each quarter hour) and reads them back.

A posting is a list of intervals, each its start (ISO 8601 with UTC offset, on a quarter
hour), its import price and optionally its export price [CNY/kWh]. It is checked whole
before anything is stored: a bad posting is answered 422 with every problem (field, value,
what is accepted) and stores nothing. A good one is stored as a new posting (nothing is
edited: the price of an interval is that of its newest posting, and every posting stays
readable) and, when it covers an interval not yet past, re-plans the park at once (a job run
with trigger ``prices``). Every later plan prices the intervals they cover with them
(:mod:`controller.service.prices.rule`). Operator and admin keys may post and read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from controller.service import db
from controller.service.api.deps import OperatorKey, OperatorSite, ServiceDep
from controller.service.context import Service
from controller.service.prices import store
from controller.service.prices.store import INTERVAL, PricePosting
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, Trigger
from sites.schema.tariff import PostedPrice

router = APIRouter(prefix="/api/v1/sites/{site_id}/prices", tags=["prices"])
MAX_SPAN = timedelta(days=7)
MAX_INTERVALS = int(MAX_SPAN / INTERVAL)


class PricesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prices: list[PostedPrice] = Field(
        min_length=1,
        max_length=MAX_INTERVALS,
        description="one entry per interval (at most 7 days of quarter hours)",
    )
    note: str = Field(default="", max_length=500, examples=["day-ahead market, 2026-05-11"])


def _problems(body: PricesIn) -> list[str]:
    out = []
    first_at: dict[Any, int] = {}
    for i, price in enumerate(body.prices):
        stamp = price.timestamp
        if stamp in first_at:
            out.append(
                f"prices[{i}].timestamp: got {stamp.isoformat()}: already given at "
                f"prices[{first_at[stamp]}]; one price per interval"
            )
        else:
            first_at[stamp] = i
    stamps = [p.timestamp for p in body.prices]
    if max(stamps) + INTERVAL - min(stamps) > MAX_SPAN:
        out.append(
            f"prices: got intervals from {min(stamps).isoformat()} to {max(stamps).isoformat()}: "
            "a posting may span at most 7 days"
        )
    return out


def outcome(service: Service, posting: PricePosting, with_prices: bool) -> dict[str, Any]:
    """The posting and the re-plan it triggered (blocking: call off the loop)."""
    with db.read(service.engine) as connection:
        run = (
            run_store.get(connection, posting.replan_run_id)
            if posting.replan_run_id is not None
            else None
        )
        prices = store.prices_of(connection, posting.id) if with_prices else None
    body: dict[str, Any] = {
        "id": posting.id,
        "site_id": posting.site_id,
        "start": posting.start.isoformat(),
        "end": posting.end.isoformat(),
        "intervals": posting.intervals,
        "note": posting.note,
        "created_at": posting.created_at.isoformat(),
        "replan": None
        if run is None
        else {"run_id": run.id, "status": run.status.value, "plan_id": run.plan_id},
    }
    if prices is not None:
        body["prices"] = [p.model_dump(mode="json") for p in prices]
    return body


@router.post("", status_code=status.HTTP_201_CREATED)
async def post_prices(
    site: OperatorSite,
    principal: OperatorKey,
    body: PricesIn,
    service: ServiceDep,
    wait: Annotated[bool, Query(description="answer once the re-plan has finished")] = False,
) -> dict[str, Any]:
    """Store a posting; one that covers an interval not yet past re-plans the park at once."""
    problems = _problems(body)
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"problems": problems})
    now = service.now()

    def record() -> PricePosting:
        with db.write(service.engine) as connection:
            return store.add(connection, site.id, body.prices, body.note, principal.key_id, now)

    posting = await run_in_threadpool(record)

    def replan() -> None:
        run = service.runner.run(site.id, Job.INTRADAY, Trigger.PRICES)
        with db.write(service.engine) as connection:
            store.set_replan(connection, posting.id, run.id)

    if posting.end > now:
        if wait:
            await run_in_threadpool(replan)
        else:
            service.submit(replan)

    def read() -> dict[str, Any]:
        with db.read(service.engine) as connection:
            fresh = store.get(connection, site.id, posting.id)
        assert fresh is not None
        return outcome(service, fresh, with_prices=False)

    return await run_in_threadpool(read)


@router.get("")
def list_postings(
    site: OperatorSite,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The park's postings, newest first (without their prices)."""
    with db.read(service.engine) as connection:
        postings = store.recent(connection, site.id, limit)
    return [outcome(service, p, with_prices=False) for p in postings]


@router.get("/{posting_id}")
def get_posting(site: OperatorSite, posting_id: int, service: ServiceDep) -> dict[str, Any]:
    """One posting with its prices, as posted."""
    with db.read(service.engine) as connection:
        posting = store.get(connection, site.id, posting_id)
    if posting is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no price posting {posting_id} of {site.id!r}"
        )
    return outcome(service, posting, with_prices=True)
