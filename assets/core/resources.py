"""Dagster resources: where the landing folder, the warehouse and the published copy are.

One `StrataPaths` resource carries the three locations and the configuration file, so every asset
agrees on them. The warehouse is written by one process at a time (see docs/architecture.md).
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


# The resource's fields that the code location takes from the environment (docs/operations.md), and
# their values when the variable is unset.
FROM_ENV = {
    "landing_dir": ("STRATA_LANDING", "demo/landing"),
    "out_dir": ("STRATA_OUT", "demo/out"),
    "config_file": ("STRATA_CONFIG", str(DEFAULT_CONFIG_FILE)),
}


def paths_from_env() -> StrataPaths:
    """The resource as `dagster dev -w workspace.yaml` loads it (when Dagster loads the definitions,
    never at import): each set STRATA_* variable as a `dg.EnvVar`, which Dagster resolves when a run
    or tick starts and shows by name, not value, in the UI; an unset one takes its default."""
    fields = {field: (dg.EnvVar(name) if name in os.environ else default)
              for field, (name, default) in FROM_ENV.items()}
    return StrataPaths(**fields, dbt_target=resolve_target())  # STRATA_DBT_TARGET, refused at load if unknown


def settings_from_env() -> Settings:
    """The configuration the code location runs with ($STRATA_CONFIG, else the default file), read
    when the definitions are built: the month partitions start at its first month."""
    name, default = FROM_ENV["config_file"]
    return load_settings(os.environ.get(name) or default)
