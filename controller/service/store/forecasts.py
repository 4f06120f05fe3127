"""Forecasts as made: the frame (every quantile column) and the forecaster's metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from controller.service.jsonable import to_jsonable
from controller.service.models import forecasts as f_t


@dataclass(frozen=True)
class StoredForecast:
    id: int
    site_id: str
    issued_at: datetime
    created_at: datetime
    info: Mapping[str, Any]
    frame: pd.DataFrame
    """On the park's local index (a fresh frame on every read)."""


def insert(
    connection: Connection,
    site_id: str,
    frame: pd.DataFrame,
    issued_at: datetime,
    info: Mapping[str, Any],
) -> int:
    index = pd.DatetimeIndex(frame.index)
    step = pd.Timedelta(minutes=15)
    body = {
        "index": [t.isoformat() for t in index.tz_convert(UTC)],
        "data": to_jsonable(frame.to_numpy().tolist()),
    }
    result = connection.execute(
        f_t.insert().values(
            site_id=site_id,
            issued_at=issued_at,
            created_at=datetime.now(UTC),
            start_at=index[0].to_pydatetime() if len(index) else issued_at,
            end_at=(index[-1] + step).to_pydatetime() if len(index) else issued_at,
            n_rows=len(index),
            columns=[str(c) for c in frame.columns],
            body=json.dumps(body, allow_nan=False),
            info=to_jsonable(dict(info)),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def latest(connection: Connection, site_id: str, timezone: str) -> StoredForecast | None:
    row = connection.execute(
        select(f_t)
        .where(f_t.c.site_id == site_id)
        .order_by(f_t.c.issued_at.desc(), f_t.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    body = json.loads(row.body)
    index = pd.DatetimeIndex(pd.to_datetime(body["index"], utc=True)).tz_convert(timezone)
    frame = pd.DataFrame(body["data"], index=index, columns=list(row.columns), dtype=float)
    return StoredForecast(row.id, row.site_id, row.issued_at, row.created_at, row.info, frame)


def prune(connection: Connection, site_id: str, older_than: datetime) -> int:
    """Delete forecasts issued before ``older_than``.

    A plan keeps the id, issue time and input hash of its forecast in its provenance, so a
    pruned forecast leaves a plan unchanged (plans are immutable).
    """
    result = connection.execute(
        delete(f_t).where(f_t.c.site_id == site_id, f_t.c.issued_at < older_than)
    )
    return int(result.rowcount or 0)
