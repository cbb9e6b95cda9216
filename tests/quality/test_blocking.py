"""Blocking really blocks: a real Dagster run over stand-in upstream assets.

The stand-ins (`margin_reconciliation`, `customer_segments` writing their marts into the run's
warehouse, and `published_marts` downstream of both) exist ONLY in this module, so the mechanism is
tested before the real loader and dbt models run end to end (see test_end_to_end_quality.py for the
run through `orchestration.runner.materialize`). The checks are the real ones from
`quality.checks.all_checks`.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.core.resources import StrataPaths
from quality.checks import all_checks, check_defs
from quality.summary import failed_checks
from tests.quality.conftest import MART_DDL

MAR = dt.date(2026, 3, 31)
SEGMENT = ("CORE", "NURTURE_AND_RETAIN", "HIGH", "ADVANCED", "EDUCATE", "UNKNOWN")


class Plant(dg.Config):
    cost_pool_status: str = "OK"
    revenue_status: str = "OK"
    duplicate_segment: bool = False


def _write(paths: StrataPaths, table: str, rows: list[tuple]) -> None:
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"DROP TABLE IF EXISTS marts.{table}")
        con.execute(MART_DDL[table])
        if rows:
            con.executemany(f"INSERT INTO marts.{table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


@dg.asset(name="margin_reconciliation")
def margin_reconciliation(config: Plant, paths: StrataPaths) -> None:
    _write(
        paths,
        "margin_reconciliation",
        [
            (
                MAR,
                "REVENUE",
                100,
                0,
                None,
                None,
                100 if config.revenue_status == "OK" else 90,
                0 if config.revenue_status == "OK" else 10,
                config.revenue_status,
            ),
            (
                MAR,
                "COST_POOL:WAREHOUSE",
                50,
                0,
                0,
                0,
                50 if config.cost_pool_status == "OK" else 60,
                0 if config.cost_pool_status == "OK" else -10,
                config.cost_pool_status,
            ),
        ],
    )


@dg.asset(name="customer_segments")
def customer_segments(config: Plant, paths: StrataPaths) -> None:
    with duckdb.connect(str(paths.warehouse)) as con:  # the active customers, as dbt's model lists them
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(
            "CREATE OR REPLACE TABLE intermediate.int_segment_customer_t12m AS SELECT * FROM (VALUES "
            "(DATE '2026-03-31', 'C1', 10.00), (DATE '2026-03-31', 'C2', 20.00)) t(month, customer_no, net_revenue_t12m)"
        )
    rows = [(MAR, c, c, 1, *SEGMENT, "v1") for c in ("C1", "C2")]
    if config.duplicate_segment:
        rows.append((MAR, "C2", "C2", 1, "MARGINAL", *SEGMENT[1:], "v1"))
    _write(paths, "customer_segments", rows)


@dg.asset(name="published_marts", deps=[margin_reconciliation, customer_segments])
def published_marts(paths: StrataPaths) -> None:
    (paths.out / "published.txt").write_text("published", encoding="utf-8")


ASSETS = [margin_reconciliation, customer_segments, published_marts]


def run(tmp_path: Path, plant: dict | None = None):
    paths = StrataPaths(landing_dir=str(tmp_path / "landing"), out_dir=str(tmp_path))
    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=all_checks(ASSETS),
        jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())],
        resources={"paths": paths},
        executor=dg.in_process_executor,
    )
    plant = plant or {}
    config = {"ops": {name: {"config": plant} for name in ("margin_reconciliation", "customer_segments")}}
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("all").execute_in_process(
        instance=instance, raise_on_error=False, run_config=config
    )
    return result, instance, paths


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events if e.is_step_materialization}


def evaluations(result) -> dict[str, tuple[bool, str]]:
    return {
        e.asset_check_evaluation_data.check_name: (
            e.asset_check_evaluation_data.passed,
            e.asset_check_evaluation_data.severity.value,
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_only_checks_of_existing_assets_are_built():
    checks = all_checks(ASSETS)
    keys = sorted((k.asset_key.to_user_string(), k.name) for c in checks for k in c.check_keys)
    assert keys == [
        ("customer_segments", "one_segment_per_customer"),
        ("margin_reconciliation", "cost_pools_reconcile"),
        ("margin_reconciliation", "ledger_differences"),
    ]
    blocking = {k.name: c.check_specs_by_output_name for c in checks for k in c.check_keys}
    assert all(
        spec.blocking == (spec.name != "ledger_differences")
        for specs in blocking.values()
        for spec in specs.values()
    )
    ingestion = all_checks([dg.AssetSpec(["erp", "sales_lines"]), dg.AssetSpec(["erp", "customers"]),
                            dg.AssetSpec(["intermediate", "int_customers"])])
    names = sorted((k.asset_key.to_user_string(), k.name) for c in ingestion for k in c.check_keys)
    assert ("erp/sales_lines", "customer_coverage") in names and ("erp/customers", "batch_freshness") in names
    coverage = next(c for c in ingestion if any(k.name == "customer_coverage" for k in c.check_keys))
    assert dg.AssetKey(["intermediate", "int_customers"]) in {
        d.asset_key for spec in coverage.check_specs for d in spec.additional_deps
    }
    assert len(check_defs()) == 56


def test_clean_data_runs_and_publishes(tmp_path):
    result, _, paths = run(tmp_path)
    assert result.success
    assert {name: passed for name, (passed, _) in evaluations(result).items()} == {
        "cost_pools_reconcile": True,
        "ledger_differences": True,
        "one_segment_per_customer": True,
    }
    assert "published_marts" in materialized(result)
    assert (paths.out / "published.txt").exists()
    assert not failed_checks(result)


@pytest.mark.parametrize(
    ("plant", "check", "asset"),
    [
        ({"cost_pool_status": "DIFFERENCE"}, "cost_pools_reconcile", "margin_reconciliation"),
        ({"duplicate_segment": True}, "one_segment_per_customer", "customer_segments"),
    ],
)
def test_a_blocking_failure_stops_publishing_in_the_same_run(tmp_path, plant, check, asset):
    result, instance, paths = run(tmp_path, plant)
    assert not result.success
    assert evaluations(result)[check] == (False, "ERROR")
    assert "published_marts" not in materialized(result)
    assert not (paths.out / "published.txt").exists()
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "published_marts" not in started  # never started: its blocking dependency failed
    assert result.get_step_failure_events()[0].step_key == f"{asset}_{check}"
    assert materialized(result) == {"margin_reconciliation", "customer_segments"}
    checks = failed_checks(result)
    assert checks.warnings == []
    assert len(checks.blocking) == 1
    assert checks.blocking[0].startswith(f"ERROR {asset}:{check} (blocking) — data failed: ")
    assert failed_checks(instance, result.run_id) == checks


def test_a_warning_lets_the_run_finish(tmp_path):
    result, instance, paths = run(tmp_path, {"revenue_status": "DIFFERENCE"})
    assert result.success
    assert evaluations(result)["ledger_differences"] == (False, "WARN")
    assert "published_marts" in materialized(result)
    assert (paths.out / "published.txt").exists()
    assert failed_checks(instance, result.run_id).blocking == []
    assert failed_checks(instance, result.run_id).warnings == [
        "WARN margin_reconciliation:ledger_differences — data failed: revenue, COGS, rebates, services and "
        "freight agree with the ledger: 1 rows in 2026-03-31 REVENUE"
    ]


def test_mart_checks_follow_the_graphs_key_for_a_model():
    checks = all_checks(
        [dg.AssetSpec(["marts", "margin_reconciliation"]), dg.AssetSpec(["marts", "segment_kpis"])]
    )
    keys = sorted((k.asset_key.to_user_string(), k.name) for c in checks for k in c.check_keys)
    assert keys == [
        ("marts/margin_reconciliation", "cost_pools_reconcile"),
        ("marts/margin_reconciliation", "ledger_differences"),
        ("marts/segment_kpis", "kpis_in_range"),
    ]


# --- ingestion: partitioned stand-ins, grouped checks ---------------------------------------------

months = dg.DynamicPartitionsDefinition(name="month")


class Quarantine(dg.Config):
    quarantined: int = 0


def _load(paths: StrataPaths, system: str, name: str, batch: str, rows: list[dict], quarantined: int) -> None:
    from assets.core.contract import create_raw_tables, entity
    from assets.ingestion.audit import create_audit_tables

    ent = entity(system, name)
    with duckdb.connect(str(paths.warehouse)) as con:
        create_raw_tables(con)
        create_audit_tables(con)
        con.execute(f"DELETE FROM raw.{ent.table} WHERE _batch = ?", [batch])
        con.execute(
            "DELETE FROM audit.load_batches WHERE system = ? AND entity = ? AND batch = ?",
            [system, name, batch],
        )
        for i, row in enumerate(rows, start=2):
            cols = [*row, "_batch", "_file", "_line"]
            con.execute(
                f"INSERT INTO raw.{ent.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [*row.values(), batch, f"{system}/{name}/{batch}/part-0001.csv", i],
            )
        con.execute(
            "INSERT INTO audit.load_batches VALUES (?, ?, ?, 'f', ?, ?, ?, 'LOADED', '', now(), 'x')",
            [system, name, batch, len(rows) + quarantined, len(rows), quarantined],
        )


@dg.asset(key=["erp", "customers"], partitions_def=months)
def erp_customers(context: dg.AssetExecutionContext, paths: StrataPaths) -> None:
    for batch in context.partition_keys:
        _load(paths, "erp", "customers", batch, [{"customer_no": "C1", "customer_group": "VAR"}], 0)


@dg.asset(key=["erp", "sales_lines"], partitions_def=months)
def erp_sales_lines(context: dg.AssetExecutionContext, config: Quarantine, paths: StrataPaths) -> None:
    for batch in context.partition_keys:
        rows = [
            {
                "document_type": "INVOICE",
                "document_no": f"D{i}",
                "line_no": 1,
                "customer_no": "C1",
                "quantity": 1,
                "posting_date": f"{batch}-05",
            }
            for i in range(9)
        ]
        _load(paths, "erp", "sales_lines", batch, rows, config.quarantined if batch == "2026-02" else 0)


@dg.multi_asset(
    name="dbt_models", specs=[dg.AssetSpec(["intermediate", "int_customers"], deps=[erp_customers, erp_sales_lines])]
)
def dbt_models_stand_in(paths: StrataPaths) -> None:
    """dbt's step: builds int_customers (the customers of the newest snapshot), which the sales
    lines' customer coverage reads."""
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(
            "CREATE OR REPLACE TABLE intermediate.int_customers AS SELECT DISTINCT customer_no "
            "FROM raw.erp__customers WHERE _batch = (SELECT max(_batch) FROM raw.erp__customers)"
        )
    (paths.out / "built.txt").write_text("built", encoding="utf-8")


def run_ingestion(tmp_path: Path, quarantined: int):
    assets = [erp_customers, erp_sales_lines, dbt_models_stand_in]
    paths = StrataPaths(landing_dir=str(tmp_path / "landing"), out_dir=str(tmp_path))
    defs = dg.Definitions(
        assets=assets,
        asset_checks=all_checks(assets),
        jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())],
        resources={"paths": paths},
        executor=dg.in_process_executor,
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("month", ["2026-01", "2026-02", "2026-03"])
    result = defs.resolve_job_def("all").execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": "2026-01",
            "dagster/asset_partition_range_end": "2026-02",
        },
        run_config={"ops": {"erp__sales_lines": {"config": {"quarantined": quarantined}}}},
    )
    return result, paths


def test_grouped_ingestion_checks_run_in_few_steps_over_the_runs_batches(tmp_path):
    result, paths = run_ingestion(tmp_path, quarantined=0)
    assert result.success
    assert (paths.out / "built.txt").exists()
    check_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"} - {
        "erp__customers",
        "erp__sales_lines",
        "dbt_models",
    }
    assert check_steps == {
        "quality_value_ranges",
        "quality_quarantine_share",
        "quality_reference_coverage",
        "quality_batch_freshness",
    }
    evaluated = {
        (
            e.asset_check_evaluation_data.asset_key.to_user_string(),
            e.asset_check_evaluation_data.check_name,
        ): e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert set(evaluated) == {
        ("erp/customers", "value_ranges"),
        ("erp/sales_lines", "value_ranges"),
        ("erp/customers", "quarantine_share"),
        ("erp/sales_lines", "quarantine_share"),
        ("erp/sales_lines", "customer_coverage"),
        ("erp/customers", "batch_freshness"),
        ("erp/sales_lines", "batch_freshness"),
    }
    assert all(e.passed for e in evaluated.values())
    coverage = evaluated[("erp/sales_lines", "customer_coverage")].metadata
    assert coverage["batches"].value == "2026-01..2026-02"  # the run's partition range, not 2026-03
    assert coverage["rows_checked"].value == 18


def test_a_batch_mostly_quarantined_blocks_the_dbt_build(tmp_path):
    result, paths = run_ingestion(tmp_path, quarantined=3)  # 3 of 12 rows of 2026-02: 25 %
    assert not result.success
    assert not (paths.out / "built.txt").exists()
    assert "dbt_models" not in {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert failed_checks(result).blocking == [
        "ERROR erp/sales_lines:quarantine_share (blocking) — erp/sales_lines quarantined rows, batch 2026-02: "
        "3 of 12 rows (25.0%); above the 10% block share (quality.quarantine_block_share): the marts are "
        "not rebuilt and the last published copy stays. The rows, with their file, line and reason, are in "
        "audit.quarantined_rows (published as audit_quarantined_rows)."
    ]
