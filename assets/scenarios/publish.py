"""A scenario's published result: `<out>/scenarios/<name>/`, replaced atomically.

`<out>/scenarios/<name>` is a symbolic link to a version folder `<out>/scenarios/.versions/<name>-<stamp>`
holding one folder a table (`scenario_customers/data.parquet`, `scenario_migrations/…`,
`scenario_segments/…`), the report page `report/index.html`, the scenario's configuration
(`scenario.yml`) and `_scenario.json` (what was changed and rebuilt, rows, timings). A version is
written beside the link, made read-only, then the link is repointed with one `os.replace`: a reader
sees the previous result or the new one, never half of one. Nothing here touches `<out>/published`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import yaml

from assets.core.settings import Settings
from assets.publishing import TMP_SUFFIX, seal, sql_ident, sql_literal, swap_link
from assets.scenarios.plan import ScenarioError, check_name
from assets.scenarios.run import (
    PARQUET_FILE,
    SCENARIO_CONFIG,
    SCENARIO_MANIFEST,
    TABLE_KEYS,
    TABLES,
    VERSIONS_DIR,
    VERSIONS_KEPT,
    scenarios_root,
)


def publish_scenario(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    name: str,
    description: dict[str, Any],
    scenario: Settings,
    production: Settings,
) -> tuple[Path, dict[str, int]]:
    """Write the comparison tables of `con` (temp tables named TABLES) and the report as the
    scenario's current result. Returns the scenario's folder (the link) and rows per table."""
    from assets.report.scenario_report import write_scenario_report

    check_name(name)
    root = scenarios_root(out)
    versions = root / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    for leftover in versions.glob(f"{name}-*{TMP_SUFFIX}"):  # a killed run's half-written version
        shutil.rmtree(leftover, ignore_errors=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    final = versions / f"{name}-{stamp}"
    tmp = final.with_name(final.name + TMP_SUFFIX)
    tmp.mkdir()
    try:
        tables = {}
        for table in TABLES:
            (tmp / table).mkdir()
            target = tmp / table / PARQUET_FILE
            con.execute(
                f"COPY {sql_ident(table)} TO {sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
            )
            rows = con.execute(f"SELECT count(*) FROM {sql_ident(table)}").fetchone()[0]
            written = con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(target)})").fetchone()[0]
            if rows != written:
                raise ScenarioError(f"{table}: {rows} rows computed but {written} written to {target}")
            columns = [
                {"name": n, "type": t} for n, t, *_ in con.execute(f"DESCRIBE {sql_ident(table)}").fetchall()
            ]
            tables[table] = {
                "rows": rows,
                "key": list(TABLE_KEYS[table]),
                "path": f"{table}/{PARQUET_FILE}",
                "columns": columns,
            }
        write_scenario_report(con, tmp / "report", description, lcy=production.currency.lcy)
        (tmp / SCENARIO_CONFIG).write_text(
            f"# scenario {name}: the configuration it ran with (version {scenario.version})\n"
            + yaml.safe_dump(scenario.business(), sort_keys=False),
            encoding="utf-8",
        )
        manifest = {**description, "tables": tables, "version": final.name}
        (tmp / SCENARIO_MANIFEST).write_text(
            json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
        )
        seal(tmp)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    link = root / name
    swap_link(link, final, what="a scenario's link", error=ScenarioError)
    _prune(versions, name, keep=VERSIONS_KEPT)
    return link, {t: v["rows"] for t, v in tables.items()}


def _versions_of(versions: Path, name: str) -> list[Path]:
    """The complete version folders of scenario `name`, oldest first (`a` never matches `a_b`'s)."""
    if not versions.is_dir():
        return []
    found = []
    for p in versions.iterdir():
        base, _, _stamp = p.name.rpartition("-")
        if p.is_dir() and base == name and not p.name.endswith(TMP_SUFFIX):
            found.append(p)
    return sorted(found)


def _prune(versions: Path, name: str, keep: int) -> None:
    for old in _versions_of(versions, name)[:-keep]:
        shutil.rmtree(old)


def remove_scenario_folder(out: Path, name: str) -> list[str]:
    """Remove the scenario's link and every version folder of it."""
    check_name(name)
    root = scenarios_root(out)
    removed = []
    link = root / name
    if link.is_symlink():
        link.unlink()
        removed.append(str(link))
    for version in _versions_of(root / VERSIONS_DIR, name):
        shutil.rmtree(version)
        removed.append(str(version))
    return removed


def list_scenarios(out: Path) -> list[dict[str, Any]]:
    """Every published scenario under `out`, as its `_scenario.json` says, by name."""
    root = scenarios_root(out)
    if not root.is_dir():
        return []
    found = []
    for link in sorted(root.iterdir()):
        if link.is_symlink() and (link / SCENARIO_MANIFEST).is_file():
            found.append(json.loads((link / SCENARIO_MANIFEST).read_text(encoding="utf-8")))
    return found
