"""Posted prices in the store: a posting and its intervals are written once, never edited
(but for the posting's re-plan run); the price of an interval is its newest posting's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from controller.service.models import posted_prices as p_t
from controller.service.models import price_postings as s_t
from sites.schema.tariff import PostedPrice

INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class PricePosting:
    id: int
    site_id: str
    start: datetime
    end: datetime
    intervals: int
    note: str
    created_at: datetime
    key_id: str
    replan_run_id: int | None


def _posting(r: Row[Any]) -> PricePosting:
    return PricePosting(
        id=r.id,
        site_id=r.site_id,
        start=r.start_at,
        end=r.end_at,
        intervals=r.intervals,
        note=r.note,
        created_at=r.created_at,
        key_id=r.key_id,
        replan_run_id=r.replan_run_id,
    )


def add(
    connection: Connection,
    site_id: str,
    prices: Sequence[PostedPrice],
    note: str,
    key_id: str,
    at: datetime,
) -> PricePosting:
    """One posting and its intervals (call inside one write transaction)."""
    stamps = [p.timestamp for p in prices]
    result = connection.execute(
        insert(s_t).values(
            site_id=site_id,
            start_at=min(stamps),
            end_at=max(stamps) + INTERVAL,
            intervals=len(prices),
            note=note,
            created_at=at,
            key_id=key_id,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    posting_id = int(key[0])
    connection.execute(
        insert(p_t),
        [
            {
                "posting_id": posting_id,
                "site_id": site_id,
                "start_at": p.timestamp,
                "import_price_cny_per_kwh": p.import_price_cny_per_kwh,
                "export_price_cny_per_kwh": p.export_price_cny_per_kwh,
            }
            for p in prices
        ],
    )
    found = get(connection, site_id, posting_id)
    assert found is not None
    return found


def set_replan(connection: Connection, posting_id: int, run_id: int) -> None:
    connection.execute(update(s_t).where(s_t.c.id == posting_id).values(replan_run_id=run_id))


def get(connection: Connection, site_id: str, posting_id: int) -> PricePosting | None:
    row = connection.execute(
        select(s_t).where(s_t.c.id == posting_id, s_t.c.site_id == site_id)
    ).first()
    return _posting(row) if row is not None else None


def recent(connection: Connection, site_id: str, limit: int) -> list[PricePosting]:
    rows = connection.execute(
        select(s_t).where(s_t.c.site_id == site_id).order_by(s_t.c.id.desc()).limit(limit)
    )
    return [_posting(r) for r in rows]


def prices_of(connection: Connection, posting_id: int) -> list[PostedPrice]:
    rows = connection.execute(
        select(p_t).where(p_t.c.posting_id == posting_id).order_by(p_t.c.start_at)
    )
    return [_price(r) for r in rows]


def in_window(
    connection: Connection, site_id: str, start: datetime, end: datetime
) -> list[PostedPrice]:
    """The price of each interval in ``[start, end)`` that has one: its newest posting's."""
    rows = connection.execute(
        select(p_t)
        .where(p_t.c.site_id == site_id, p_t.c.start_at >= start, p_t.c.start_at < end)
        .order_by(p_t.c.start_at, p_t.c.posting_id)
    )
    newest: dict[datetime, PostedPrice] = {}
    for r in rows:
        newest[r.start_at] = _price(r)  # later postings come later
    return list(newest.values())


def _price(r: Row[Any]) -> PostedPrice:
    return PostedPrice(
        timestamp=r.start_at,
        import_price_cny_per_kwh=r.import_price_cny_per_kwh,
        export_price_cny_per_kwh=r.export_price_cny_per_kwh,
    )
