"""The Dagster instance configurations strata ships (each a `dagster.yaml` for a DAGSTER_HOME).

- `local/dagster.yaml`: SQLite under DAGSTER_HOME; what `strata materialize` puts into
  `<out>/dagster_home` and `dagster dev` reads there.
- `production/dagster.yaml`: runs, events and schedules in PostgreSQL (dagster-postgres), the
  connection from the DAGSTER_PG_* environment variables.

Both set the `warehouse_writer` pool to one slot and queue the strata jobs' runs one at a time,
so two runs never hold warehouse.duckdb together (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

HERE = Path(__file__).resolve().parent
LOCAL_CONFIG = HERE / "local" / "dagster.yaml"
PRODUCTION_CONFIG = HERE / "production" / "dagster.yaml"

# What `strata materialize` wrote into new homes before these configurations existed.
_LEGACY_LOCAL = "telemetry:\n  enabled: false\n"


def install(home: Path | str, config: Path = LOCAL_CONFIG) -> Path:
    """Put `config` into the instance folder `home` as its dagster.yaml, unless it has its own.

    A dagster.yaml that someone wrote (or a production one copied there) is never overwritten;
    the bare telemetry-only file of earlier versions is upgraded. Returns the dagster.yaml path.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") == _LEGACY_LOCAL:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
        tmp.replace(target)
    return target


def dagster_home(out: Path) -> Path:
    return out / "dagster_home"


def open_instance(out: Path) -> dg.DagsterInstance:
    """The persistent instance kept beside the warehouse (runs, events, schedule and sensor state)."""
    home = dagster_home(out)
    # orchestration/dagster_instances/local/dagster.yaml (unless the folder has its own): telemetry
    # off, one writer of the warehouse at a time (pool warehouse_writer), run monitoring.
    install(home)
    # `local_temp` with a folder is Dagster's public constructor of a persistent instance in that
    # folder, configured by its dagster.yaml (the name is about its default, a temporary folder).
    return dg.DagsterInstance.local_temp(tempdir=str(home))
