"""The one Dagster resource: where the landing folder, the warehouse and the published copy are, and
every runtime setting.

One `StrataPaths` resource (key `paths`) carries the three locations, the configuration file and the
runtime settings (the landing sensor's quiet period, the alert webhook, the PostgreSQL target, the
schedules' time zone), so every asset, check, sensor and schedule agrees on them and nothing reads
the environment on its own. The warehouse is written by one process at a time (docs/architecture.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.core.engines import raw_parquet_dir, resolve_target, spark_warehouse_dir
from assets.core.settings import DEFAULT_CONFIG_FILE, Settings, load_settings


class StrataPaths(dg.ConfigurableResource):
    """The landing root (input), the output folder (warehouse and published copy), the settings,
    and the engine dbt runs on.

    `dbt_target` is the one switch between the engines (docs/spark.md): `duckdb` or `spark`; unset,
    it is the environment variable STRATA_DBT_TARGET, else `duckdb`. Every asset asks `target`.
    """

    landing_dir: str
    out_dir: str
    config_file: str = str(DEFAULT_CONFIG_FILE)
    dbt_target: str | None = None
    # How long a landing batch must be unchanged before the landing sensor loads it.
    landing_quiet_seconds: int = 60
    # The schedules' time zone: fixed when the definitions are built (a schedule's time zone is part
    # of its definition), so never an EnvVar.
    timezone: str = "UTC"
    # The run-failure alert: where to POST it (a secret) and the UI's base URL for its link.
    alert_webhook_url: str | None = None
    dagster_url: str | None = None
    # PostgreSQL publishing (assets/publishing/postgres.py): off while the URL is unset or empty.
    postgres_url: str | None = None
    postgres_schema: str = "marts"
    postgres_bi_role: str = "strata_bi"
    postgres_bi_login: str = "false"  # true/yes/1/on: the BI role may log in (an EnvVar is a string)
    postgres_bi_password: str | None = None

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def out(self) -> Path:
        return Path(self.out_dir)

    @property
    def warehouse(self) -> Path:
        return self.out / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.out / "published"

    @property
    def target(self) -> str:
        """The dbt target (profile output) the models are built with: `duckdb` or `spark`."""
        return resolve_target(self.dbt_target)

    @property
    def raw_parquet(self) -> Path:
        """The raw layer exported as Parquet for the Spark target (assets/core/engines.py)."""
        return raw_parquet_dir(self.out)

    @property
    def spark_warehouse(self) -> Path:
        """Where the Spark target writes its tables (and keeps its catalog)."""
        return spark_warehouse_dir(self.out)

    def settings(self) -> Settings:
        return load_settings(self.config_file)


# The resource's fields that come from the environment (docs/operations.md): each set variable as a
# `dg.EnvVar`, resolved when a run or tick starts; an unset one leaves the field's default (the
# folders' defaults are the demo's).
FROM_ENV = {
    "landing_dir": "STRATA_LANDING",
    "out_dir": "STRATA_OUT",
    "config_file": "STRATA_CONFIG",
    "landing_quiet_seconds": "STRATA_LANDING_QUIET_SECONDS",
    "alert_webhook_url": "STRATA_ALERT_WEBHOOK_URL",
    "dagster_url": "STRATA_DAGSTER_URL",
    "postgres_url": "STRATA_POSTGRES_URL",
    "postgres_schema": "STRATA_POSTGRES_SCHEMA",
    "postgres_bi_role": "STRATA_POSTGRES_BI_ROLE",
    "postgres_bi_login": "STRATA_POSTGRES_BI_LOGIN",
    "postgres_bi_password": "STRATA_POSTGRES_BI_PASSWORD",
}
DEMO_FOLDERS = {"landing_dir": "demo/landing", "out_dir": "demo/out"}
# Read once, when the resource is built (like STRATA_DBT_TARGET): the schedules are defined with it.
TIMEZONE_ENV = "STRATA_TIMEZONE"


def paths_from_env(**given) -> StrataPaths:
    """The resource with every setting the environment holds, built when the definitions are (never
    at import): `dagster dev -w workspace.yaml` calls it bare, `strata materialize` and `strata
    scenario` with their folders in `given`, which win over the environment.

    A set variable becomes a `dg.EnvVar`: Dagster resolves it when a run or tick starts and shows
    it by name, never by value, in the UI (the PostgreSQL URL and the webhook carry secrets).
    STRATA_DBT_TARGET and STRATA_TIMEZONE are read here, once: the engine is refused at load if
    unknown, and a schedule's time zone is part of its definition."""
    fields: dict = dict(DEMO_FOLDERS)
    for field, name in FROM_ENV.items():
        if name in os.environ:
            as_int = StrataPaths.model_fields[field].annotation is int
            fields[field] = dg.EnvVar.int(name) if as_int else dg.EnvVar(name)
    fields.update(given)
    fields.setdefault("dbt_target", resolve_target())
    if os.environ.get(TIMEZONE_ENV):
        fields.setdefault("timezone", os.environ[TIMEZONE_ENV])
    return StrataPaths(**fields)


def settings_from_env() -> Settings:
    """The configuration the code location runs with ($STRATA_CONFIG, else the default file), read
    when the definitions are built: the month partitions start at its first month."""
    return load_settings(os.environ.get(FROM_ENV["config_file"]) or DEFAULT_CONFIG_FILE)
