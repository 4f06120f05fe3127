"""Shared fixtures: a bundled park, its history, and models fitted once per test session."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting import ForecastModels, fit
from sites import load_bundled_site
from sites.history.derive import load_history
from sites.schema import Site

SITE_ID = "chiping-aluminium"  # every kind of series: PV, wind, loads, heat, waste heat
TZ = "Asia/Shanghai"
FIT_UNTIL = pd.Timestamp("2016-02-20 00:00", tz=TZ)  # 50 days: every model, shortly
ISSUE = pd.Timestamp("2016-02-25 10:00", tz=TZ)
HORIZON = pd.Timedelta(hours=48)


@pytest.fixture(scope="session")
def site() -> Site:
    return load_bundled_site(SITE_ID)


@pytest.fixture(scope="session")
def history(site: Site) -> pd.DataFrame:
    return load_history(site).frame


@pytest.fixture(scope="session")
def models(site: Site, history: pd.DataFrame) -> ForecastModels:
    return fit(site, history, until=FIT_UNTIL)
