"""Service settings: defaults < settings file (TOML) < environment < explicit overrides.

Environment variables carry the prefix ``MICROGRID_`` (``MICROGRID_DATABASE_URL``,
``MICROGRID_DEMO``, ...). The settings file is named by the ``config_file`` override
(``microgrid serve --config FILE``) or by ``MICROGRID_CONFIG_FILE``; its keys are the field
names below, unknown keys are errors.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import InitSettingsSource

from sites.errors import MicrogridError

ENV_PREFIX = "MICROGRID_"
CONFIG_FILE_ENV = f"{ENV_PREFIX}CONFIG_FILE"
DEFAULT_DATABASE_URL = "sqlite:///var/microgrid.db"


class SettingsError(MicrogridError):
    """A settings file or variable that cannot be used; names the source, field and rule."""


class ServiceSettings(BaseSettings):
    """Everything ``microgrid serve`` can be configured by."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    config_file: Path | None = Field(default=None, description="TOML settings file")
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: a SQLite file (WAL mode) or postgresql+psycopg://...",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="FULL",
        description="FULL: a committed write survives power loss; NORMAL: it survives a crash "
        "of the process (faster ingestion)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    sites: list[str] = Field(
        default=[],
        description="parks to run, each a bundled id or the path of a site YAML; empty = every "
        "bundled park",
    )
    site_files: list[Path] = Field(default=[], description="site YAML files of your own parks")
    demo: bool = Field(
        default=False, description="replay each park's historical year as live measurements"
    )
    demo_backfill_days: int = Field(
        default=42, ge=1, le=120, description="days of replayed history written at start"
    )
    scheduler: bool = Field(default=True, description="run the day-ahead and intraday jobs")
    startup_catch_up: bool = Field(
        default=True, description="at start, make the plans missed while the service was down"
    )
    misfire_grace_s: int = Field(default=600, ge=1)
    history_days: int = Field(
        default=42,
        ge=2,
        le=400,
        description="measurement history handed to the forecaster (its features look back 36 days)",
    )
    forecast_refit_hours: float = Field(
        default=24.0, gt=0, description="refit a park's forecast models when this old"
    )
    forecast_processes: int | None = Field(
        default=None,
        ge=0,
        description="worker processes fitting forecast models (parks fit in parallel); "
        "0 = fit in the planning thread; default: one per core, at most one per park",
    )
    planning_processes: int = Field(
        default=1,
        ge=0,
        le=1,
        description="1 = plans are made in a worker process of their own (plan polls never "
        "wait for the planner's interpreter); 0 = in the planning thread",
    )
    plan_cache_size: int = Field(
        default=8,
        ge=1,
        description="compiled planning problems kept (each park plans on a few at a time; "
        "each is tens of MB)",
    )
    forecast_retention_days: int = Field(default=7, ge=1)
    run_lock_timeout_s: float = Field(
        default=600.0, gt=0, description="how long a run waits for the park's previous run"
    )
    key_cache_ttl_s: float = Field(
        default=5.0, ge=0, description="how long a verified API key is trusted without a lookup"
    )
    store_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="how often plans stored and keys revoked by other processes are looked for",
    )
    plan_body_cache_size: int = Field(default=256, ge=1)
    db_busy_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="how long a write waits for a database lock (SQLite busy timeout, "
        "PostgreSQL lock_timeout) before the API answers 503 database busy",
    )
    db_statement_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, description="PostgreSQL statement_timeout"
    )
    db_write_slots: int = Field(
        default=8,
        ge=1,
        le=64,
        description="write transactions at once; the others wait (reads never wait for them)",
    )
    db_write_wait_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="how long a write waits for a write slot before the API answers 503",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="largest request body accepted (413 beyond, checked before parsing)",
    )
    auth_failures_per_minute: int = Field(
        default=600,
        ge=1,
        description="refused keys (401) per client address per minute before its requests "
        "with keys not already verified get 429 for the rest of the minute",
    )
    measurement_plausibility_checks: bool = Field(
        default=True,
        description="refuse PV at night and state-of-charge jumps beyond the battery's power "
        "(off only to load synthetic data)",
    )
    measurement_max_age_days: float = Field(
        default=400.0,
        gt=0,
        description="measurements older than this (before now) are refused",
    )
    measurement_future_skew_s: float = Field(
        default=900.0,
        ge=0,
        description="measurements may start at most this far after now (clock skew)",
    )
    max_measurement_batch: int = Field(default=100_000, ge=1)
    field_devices: bool | None = Field(
        default=None,
        description="read and control the parks' field devices through their device maps "
        "(in demo mode: each park's simulated plant); default: in demo mode only",
    )
    device_maps: list[Path] = Field(
        default=[], description="device map files of your own parks (bundled parks: their example)"
    )
    mqtt_host: str = Field(default="127.0.0.1", description="MQTT broker; empty: Modbus only")
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    log_level: str = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        return (init_settings, env_settings, _TomlFileSource(settings_cls, init_settings))

    @property
    def field(self) -> bool:
        """Whether the field loop runs (``field_devices``, by default on in demo mode)."""
        return self.demo if self.field_devices is None else self.field_devices

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class _TomlFileSource(PydanticBaseSettingsSource):
    """The settings file named by the ``config_file`` override or ``MICROGRID_CONFIG_FILE``."""

    def __init__(self, settings_cls: type[BaseSettings], init: InitSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self._init.init_kwargs.get("config_file") or os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            return tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: must be a readable TOML settings file ({exc})") from None


def load_settings(**overrides: Any) -> ServiceSettings:
    """Settings from every source; ``None`` overrides are ignored (an option not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServiceSettings(**given)
    except ValidationError as exc:
        lines = [
            f"  - {'.'.join(map(str, e['loc']))}: got {e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        ]
        raise SettingsError("service settings do not validate:\n" + "\n".join(lines)) from None
