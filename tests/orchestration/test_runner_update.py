"""The runner's update path (only some months' batches) and its dbt manifest preparation."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.core.partitions import month_partitions
from orchestration.runner import PREPARED_STAMP, MaterializeError, _loaded_before, _run_months, prepare_dbt

REGISTERED = ["2025-01", "2025-02", "2025-03", "2025-04"]


def test_all_months_by_default():
    assert _run_months(REGISTERED, None, Path("landing")) == REGISTERED
    assert _run_months(REGISTERED, [], Path("landing")) == REGISTERED


def test_exactly_the_wanted_months():
    assert _run_months(REGISTERED, ["2025-04"], Path("landing")) == ["2025-04"]
    assert _run_months(REGISTERED, ["2025-04", "2025-02"], Path("landing")) == ["2025-02", "2025-04"]


def test_an_unknown_month_is_refused_by_name():
    with pytest.raises(MaterializeError, match="2025-09"):
        _run_months(REGISTERED, ["2025-09"], Path("landing"))


def test_a_month_loaded_before_counts_as_known():
    """A month whose folder is gone but whose batches a run loaded may be asked for again."""
    fx = dg.AssetKey(["erp", "fx_rates"])

    @dg.asset(key=fx, partitions_def=month_partitions("2026-01"))
    def loaded() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([loaded], instance=instance, partition_key="2026-03").success
    keys = [dg.AssetKey(["erp", "sales_lines"]), fx]
    assert _loaded_before(instance, keys, {"2026-02", "2026-03"}) == {"2026-03"}
    assert _loaded_before(instance, keys, set()) == set()


class _FakeProject:
    """A dbt project folder of its own, so that the shared checkout's dbt_project/ cannot interfere."""

    def __init__(self, root: Path):
        self.project_dir = root
        self.manifest_path = root / "target" / "manifest.json"
        (root / "models").mkdir(parents=True)
        (root / "models" / "m.sql").write_text("select 1 as x")
        (root / "dbt_project.yml").write_text("name: fake\n")


def test_prepare_parses_only_when_something_changed(tmp_path, monkeypatch):
    import assets.core.dbt
    import orchestration.prepare

    project = _FakeProject(tmp_path / "dbt")
    parses = []

    def fake_parse(project_dir, args, target):
        assert (project_dir, target) == (project.project_dir, project.manifest_path.parent)
        parses.append(args)
        project.manifest_path.write_text("{}")
        (target / "partial_parse.msgpack").write_bytes(b"")

    monkeypatch.setattr(assets.core.dbt, "dbt_project", lambda: project)
    monkeypatch.setattr(orchestration.prepare, "_parse", fake_parse)
    warehouse = tmp_path / "out" / "warehouse.duckdb"

    assert prepare_dbt(warehouse=warehouse) is True
    assert parses[0][0] == "parse" and "--vars" in parses[0]
    assert json.loads((project.manifest_path.parent / PREPARED_STAMP).read_text())["fingerprint"]
    assert prepare_dbt(warehouse=warehouse) is False  # nothing changed: no parse
    assert prepare_dbt(warehouse=tmp_path / "other" / "warehouse.duckdb") is True  # the profile's path
    assert prepare_dbt(warehouse=tmp_path / "other" / "warehouse.duckdb") is False
    (project.project_dir / "models" / "m.sql").write_text("select 2 as x")  # a model changed
    assert prepare_dbt(warehouse=tmp_path / "other" / "warehouse.duckdb") is True
    monkeypatch.setenv("STRATA_SOMETHING_NEW", "1")  # the environment the profile may read
    assert prepare_dbt(warehouse=tmp_path / "other" / "warehouse.duckdb") is True
    assert prepare_dbt(warehouse=tmp_path / "other" / "warehouse.duckdb", force=True) is True
    assert len(parses) == 5


def test_ingestion_only_loads_every_batch_and_builds_nothing_else(demo_landing, tmp_path):
    """The benchmark's ingestion measure: the 16 ingestion assets over all months, no dbt, no publishing."""
    import duckdb

    from assets.core.contract import entities
    from orchestration.runner import materialize

    report = materialize(demo_landing, tmp_path / "out", ingestion_only=True)
    assert report.success, report.failures
    loaded = {f"{e.system}/{e.name}" for e in entities().values()}
    assert loaded <= set(report.materialized)
    assert {key.split("/")[0] for key in report.materialized} == {"erp", "crm", "psa"}
    assert not (tmp_path / "out" / "published").exists()
    con = duckdb.connect(str(report.warehouse), read_only=True)
    try:
        months, schemas = con.execute(
            "SELECT count(DISTINCT batch), (SELECT list(DISTINCT schema_name ORDER BY schema_name) "
            "FROM duckdb_tables()) FROM audit.load_batches WHERE status = 'LOADED'").fetchone()
    finally:
        con.close()
    assert months == len(report.months)
    assert schemas == ["audit", "raw"]
