"""`strata prepare` and the start of `strata materialize`: the dbt manifest, parsed again only when
something it depends on changed (assets/core/dbt_parse.py)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from assets.core.dbt_parse import PREPARED_STAMP, ensure_parsed, ensure_run_parsed, project_files
from assets.core.settings import load_settings

__all__ = ["PREPARED_STAMP", "prepare_dbt", "start_run_parse"]


def prepare_dbt(
    warehouse: Path | None = None, settings_file: Path | None = None, force: bool = False
) -> bool:
    """Build the dbt manifest unless it was built from exactly this project; True if it parsed.

    A changed dbt project is never run from a stale manifest: the project's `target/` holds the
    manifest the Dagster definitions load, parsed again only when the project, dbt, the vars or the
    environment changed, or when `force` (`strata prepare`); otherwise the ~10-30 s of a `dbt parse`
    are saved. `warehouse` (a run's warehouse file) adds the run's own parse in its output folder
    (`ensure_run_parsed`).
    """
    from assets.core.dbt import dbt_project
    from assets.core.engines import resolve_target

    settings = load_settings(settings_file)
    target = resolve_target()
    files = project_files(Path(dbt_project().project_dir))
    parsed = ensure_parsed(target, settings, force=force, files=files)
    if warehouse is not None:
        parsed = ensure_run_parsed(target, warehouse, warehouse.parent, settings, force, files) or parsed
    return parsed


def start_run_parse(target: str, warehouse: Path, settings) -> threading.Thread:
    """The run's own parse (`ensure_run_parsed`) in a background thread, started before the batches
    load: dbt parses in its own process on the other core while ingestion runs, and the first dbt
    step waits only for what is left of it (the folder's lock). A failure here is not reported: the
    dbt step parses again and fails there, naming the error."""

    def parse() -> None:
        # Not lost: a failed parse writes no stamp, so the dbt step parses again and fails there.
        with contextlib.suppress(Exception):
            ensure_run_parsed(target, warehouse, warehouse.parent, settings)

    thread = threading.Thread(target=parse, name="strata-dbt-parse", daemon=True)
    thread.start()
    return thread
