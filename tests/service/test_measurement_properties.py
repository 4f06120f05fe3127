"""Property: the measurement parser and its checks take any input, and either accept a point
or name its problem; they never raise (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from controller.service.api.measurements import MeasurementBatch
from controller.service.validation import Window, check_points, series_bounds
from sites import load_bundled_site

SITE = load_bundled_site("gaotang-textile")
BOUNDS = series_bounds(SITE)
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=400), NOW + timedelta(minutes=15))
LOCATION = (SITE.location.latitude, SITE.location.longitude)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)
values = st.floats(allow_nan=True, allow_infinity=True)
series = st.sampled_from([*BOUNDS, "pv_nowhere_kw", ""])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(series, times, values), min_size=1, max_size=20))
def test_check_points_names_a_problem_or_accepts_never_raises(
    points: list[tuple[str, datetime, float]],
) -> None:
    problems = check_points(BOUNDS, points, WINDOW, LOCATION, {})
    for problem in problems:
        assert 0 <= problem.index < len(points)
        assert problem.field in ("series", "ts", "value") and problem.rule


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
point_like = st.fixed_dictionaries(
    {"series": json_values | series, "ts": json_values | times.map(datetime.isoformat)},
    optional={"value": json_values | values, "unit": json_values},
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.fixed_dictionaries({"points": st.lists(point_like)})))
def test_the_batch_parser_refuses_with_a_validation_error_or_parses(body: Any) -> None:
    try:
        batch = MeasurementBatch.model_validate(body)
    except ValidationError as exc:
        assert exc.errors()  # each problem located
        return
    for point in batch.points:
        assert not isinstance(point.value, bool)
        assert point.ts.utcoffset() is not None
