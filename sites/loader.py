"""Reading site and tariff files: the only way in, so every site is checked the same way."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sites.catalogues import catalogue_problems
from sites.errors import ConfigProblem, SiteConfigError
from sites.references import reference_problems, resolve_relative
from sites.schema import Site, TariffCalendar


def data_dir() -> Path:
    """Folder of the bundled data (site files, tariff calendars, history)."""
    return Path(str(files("sites") / "data"))


def bundled_site_paths() -> dict[str, Path]:
    """Bundled site files by site id (the file stem)."""
    return {p.stem: p for p in sorted(data_dir().glob("*.yaml"))}


def load_bundled_site(site_id: str) -> Site:
    paths = bundled_site_paths()
    if site_id not in paths:
        raise SiteConfigError(
            [ConfigProblem("<bundled>", "id", site_id, f"must be one of {', '.join(paths)}")]
        )
    return load_site(paths[site_id])


def bundled_sites() -> list[Site]:
    return [load_site(path) for path in bundled_site_paths().values()]


def load_site(path: str | Path) -> Site:
    """Load and fully check a site file; raises :class:`SiteConfigError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteConfigError(
            [ConfigProblem(str(path), "(file)", str(path), f"must be a readable file ({exc})")]
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise SiteConfigError(
            [ConfigProblem(str(path), where, None, f"must be valid YAML ({exc})")]
        ) from None
    return load_site_mapping(raw, source=str(path), base_dir=path.parent)


def load_site_mapping(raw: Any, source: str = "<mapping>", base_dir: Path | None = None) -> Site:
    """Check a site given as a mapping (as parsed from YAML or JSON) and build it."""
    if not isinstance(raw, Mapping):
        raise SiteConfigError(
            [ConfigProblem(source, "(document)", type(raw).__name__, "must be a mapping of fields")]
        )
    problems: list[ConfigProblem] = []
    site: Site | None = None
    try:
        site = Site.model_validate(raw)
    except ValidationError as exc:
        problems += [_problem(source, err) for err in exc.errors()]
    problems += reference_problems(raw, source, base_dir)
    problems += _tariff_problems(raw, source, base_dir)
    problems += _price_series_problems(raw, source, base_dir)
    problems += catalogue_problems(raw, source)
    if problems or site is None:
        raise SiteConfigError(problems)
    if site.network.pandapower_file is not None:
        absolute = resolve_relative(site.network.pandapower_file, base_dir).resolve()
        network = site.network.model_copy(update={"pandapower_file": str(absolute)})
        site = site.model_copy(update={"network": network})
    for name in ("calendar_file", "price_series_file"):
        ref = getattr(site.tariff, name)
        if ref is not None:
            absolute = resolve_relative(ref, base_dir).resolve()
            tariff = site.tariff.model_copy(update={name: str(absolute)})
            site = site.model_copy(update={"tariff": tariff})
    return site


@cache
def load_tariff_calendar(calendar_id: str) -> TariffCalendar:
    path = data_dir() / "tariffs" / f"{calendar_id}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (data_dir() / "tariffs").glob("*.yaml"))
        raise SiteConfigError(
            [ConfigProblem(str(path), "tariff.calendar", calendar_id, f"must be one of {known}")]
        )
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return TariffCalendar.model_validate(raw)
    except ValidationError as exc:
        raise SiteConfigError([_problem(str(path), err) for err in exc.errors()]) from None


@cache
def load_tariff_calendar_file(path: str) -> TariffCalendar:
    """A site's own tariff calendar (the bundled calendars' format), from its file."""
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SiteConfigError(
            [ConfigProblem(path, "(file)", path, f"must be a readable YAML calendar ({exc})")]
        ) from None
    try:
        return TariffCalendar.model_validate(raw)
    except ValidationError as exc:
        raise SiteConfigError([_problem(path, err) for err in exc.errors()]) from None


def _tariff_problems(
    raw: Mapping[str, Any], source: str, base_dir: Path | None = None
) -> list[ConfigProblem]:
    tariff = raw.get("tariff")
    if not isinstance(tariff, Mapping):
        return []
    calendar_file = tariff.get("calendar_file")
    if calendar_file is not None and "calendar" in tariff:
        rule = "give calendar (a bundled one) or calendar_file (your own), not both"
        return [ConfigProblem(source, "tariff.calendar_file", calendar_file, rule)]
    if calendar_file is not None:
        path = resolve_relative(str(calendar_file), base_dir).resolve()
        try:
            calendar = load_tariff_calendar_file(str(path))
        except SiteConfigError as exc:
            return [
                ConfigProblem(
                    source,
                    "tariff.calendar_file",
                    calendar_file,
                    f"{p.field}: got {p.value!r}: {p.rule}" if p.field != "(file)" else p.rule,
                )
                for p in exc.problems
            ]
        return _voltage_class_problems(tariff, calendar, source)
    calendar_id = tariff.get("calendar", "shandong-2025")
    try:
        calendar = load_tariff_calendar(str(calendar_id))
    except SiteConfigError as exc:
        return [ConfigProblem(source, "tariff.calendar", calendar_id, p.rule) for p in exc.problems]
    return _voltage_class_problems(tariff, calendar, source)


def _price_series_problems(
    raw: Mapping[str, Any], source: str, base_dir: Path | None
) -> list[ConfigProblem]:
    tariff = raw.get("tariff")
    if not isinstance(tariff, Mapping) or tariff.get("price_series_file") is None:
        return []
    from sites.price_series import price_series_problems  # pandas, only for a site with a file

    ref = tariff["price_series_file"]
    location = raw.get("location")
    zone = location.get("timezone", "Asia/Shanghai") if isinstance(location, Mapping) else None
    path = resolve_relative(str(ref), base_dir).resolve()
    return price_series_problems(
        path, "tariff.price_series_file", ref, source, str(zone or "Asia/Shanghai")
    )


def _voltage_class_problems(
    tariff: Mapping[str, Any], calendar: TariffCalendar, source: str
) -> list[ConfigProblem]:
    voltage_class = tariff.get("voltage_class")
    if voltage_class is not None and voltage_class not in calendar.flat_price_cny_per_kwh:
        return [
            ConfigProblem(
                source,
                "tariff.voltage_class",
                voltage_class,
                f"must be one of {sorted(calendar.flat_price_cny_per_kwh)} of calendar "
                f"'{calendar.id}'",
            )
        ]
    return []


def _problem(source: str, err: Any) -> ConfigProblem:
    loc = tuple(err.get("loc", ()))
    field = _format_loc(loc)
    rule = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        accepted = _accepted_fields(Site, loc[:-1])
        rule = "unknown field" + (f"; accepted here: {', '.join(accepted)}" if accepted else "")
    elif err.get("type") == "missing":
        rule = "required field is missing"
    return ConfigProblem(source, field, err.get("input"), rule)


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(document)"


def _accepted_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names a model accepts at ``loc`` (walking lists and nested models)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


__all__ = [
    "bundled_site_paths",
    "bundled_sites",
    "data_dir",
    "load_bundled_site",
    "load_site",
    "load_site_mapping",
    "load_tariff_calendar",
    "load_tariff_calendar_file",
]
