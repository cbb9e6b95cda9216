"""Scenarios end to end on a hand-built fixture: `strata scenario run/list/drop` through the Dagster job.

The world is the segment marts' fixture (tests/segments/fixture.py: C1, C2, C3, C5 active at
2026-01, C4 inactive, CX unassigned) plus one general-ledger row: the ORDER_ENTRY cost pool of
2026-01, 110.00. Production runs once for the module (`strata materialize`'s own code path); every
scenario is then a real run of the `scenario_run` job on that warehouse (dbt deferred to
production, the comparison, the published folder). Expected numbers are worked out by hand from
the fixture and methodology §4 and §7; test_segment_marts.py has the rest of the segment arithmetic.

Baseline at 2026-01 (W = 2025-02 … 2026-01):
  ORDER_ENTRY 2026-01: INVOICE lines INV-103 (C1, PHONE, weight 1.0) and INV-501 (C5, API, 0.1):
    1.1 units, rate 110.00 / 1.1 = 100 -> C1 100.00, C5 10.00.
  C1 nr 1600, gm 730, cts = 20 (net freight 2025-06) + 100 = 120, cm 610, CM % 610 / 1600 = 0.38125
  C2 nr 1200, cm -70, cts 0, CM % -0.058
  C3 nr 350, cm 220, cts 0, CM % 0.628571
  C5 nr 900, cts 10, cm 590, CM % 0.655556
  Percentiles (N = 4, (rank - 1) / 3): CM C2 0, C3 1/3, C5 2/3, C1 1; CM % C2 0, C1 1/3, C3 2/3, C5 1
  top-line (unchanged from test_segment_marts): C1 0.8 high; C2 0.5, C3 0.3667, C5 0.1667 low
  profitability 0.6 CM + 0.4 CM %: C1 0.6 + 0.1333 = 0.7333 -> CORE; C2 0 -> MARGINAL;
    C3 0.2 + 0.2667 = 0.4667 -> MARGINAL; C5 0.4 + 0.4 = 0.8 -> OPPORTUNISTIC
  quadrant (portfolio CM % 1350 / 4050 = 0.3333) and tier as in test_segment_marts.
"""

# ruff: noqa: E501  (tables of expected values read best one row per line)

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from assets.core.settings import DEFAULT_CONFIG_FILE
from orchestration.cli import cli
from orchestration.runner import materialize
from tests.finance.fixture import gl
from tests.segments.fixture import BATCHES as SEGMENT_BATCHES
from tests.support.warehouse import DBT_PROJECT, Batch, query, write_config, write_landing

pytestmark = pytest.mark.slow  # real dbt builds on a real warehouse

JAN = date(2026, 1, 31)
BATCHES = [*SEGMENT_BATCHES, Batch("erp", "gl_balances", "2026-01", [gl(JAN, "6100", "COST_POOL", "110.00", "ORDER_ENTRY")])]
BASELINE = {  # customer: (stratum, maturity segment, quadrant, tier, cts T12M, cm T12M)
    "C1": ("CORE", "TRANSFORM", "NURTURE_AND_RETAIN", "HIGH", "120.00", "610.00"),
    "C2": ("MARGINAL", "SUSTAIN", "OPTIMIZE_AND_MOVE_RIGHT", "HIGH", "0.00", "-70.00"),
    "C3": ("MARGINAL", "EDUCATE", "GROW_AND_MOVE_UP", "MEDIUM", "0.00", "220.00"),
    "C5": ("OPPORTUNISTIC", "EDUCATE", "GROW_AND_MOVE_UP", "HIGH", "10.00", "590.00"),
}


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scenarios")
    report = materialize(write_landing(tmp / "landing", BATCHES), tmp / "out")
    assert report.success, "\n".join(report.failures)
    out = tmp / "out"
    return {"out": out, "configs": tmp, "fingerprint": fingerprint(out)}


@pytest.fixture(autouse=True)
def _production_config_is_the_default(monkeypatch):
    monkeypatch.delenv("STRATA_CONFIG", raising=False)
    monkeypatch.delenv("STRATA_POSTGRES_URL", raising=False)


def fingerprint(out: Path) -> dict:
    """Everything of production a scenario must leave alone: every file of the published copy (and
    where its link points), every production table of the warehouse, dbt's production manifest."""
    published = Path(os.path.realpath(out / "published"))
    files = {str(p.relative_to(published)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(published.rglob("*")) if p.is_file()}
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        tables = {f"{s}.{t}": con.execute(f'SELECT count(*), sum(hash(x)::HUGEINT) FROM "{s}"."{t}" x').fetchone()
                  for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                          "WHERE NOT starts_with(table_schema, 'scenario_')").fetchall()}
    finally:
        con.close()
    # What the manifest says about each node: its code and production's relation (a scenario's
    # parse would put its own schemas there), not when it was parsed: a run with another
    # configuration, or another session, may re-parse the project into it while these tests run.
    nodes = json.loads((DBT_PROJECT / "target" / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    manifest = sorted((uid, n["checksum"]["checksum"], n.get("relation_name")) for uid, n in nodes.items())
    return {"link": str(published), "files": files, "tables": tables, "manifest": manifest}


def run(production, name: str, config: Path, *extra: str):
    return CliRunner().invoke(cli, ["scenario", "run", "--config", str(config), "--name", name,
                                    "--out", str(production["out"]), *extra])


def ok(production, name: str, config: Path, *extra: str) -> Path:
    result = run(production, name, config, *extra)
    assert result.exit_code == 0, result.output
    return production["out"] / "scenarios" / name


def rows(folder: Path, table: str, order: str) -> list[dict]:
    con = duckdb.connect()
    try:
        cur = con.execute(f"SELECT * FROM read_parquet('{folder / table / 'data.parquet'}') ORDER BY {order}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def customers(folder: Path) -> dict[str, tuple]:
    """customer: (baseline stratum, scenario stratum, baseline cts, scenario cts, baseline cm, scenario cm, changed)."""
    return {r["customer_no"]: (r["baseline_stratum"], r["scenario_stratum"], str(r["baseline_cost_to_serve_t12m"]),
                               str(r["scenario_cost_to_serve_t12m"]), str(r["baseline_contribution_margin_t12m"]),
                               str(r["scenario_contribution_margin_t12m"]), r["changed"])
            for r in rows(folder, "scenario_customers", "customer_no")}


def strata_segments(folder: Path) -> dict[str, tuple]:
    """stratum: (customers b -> s, cm b, cm s, cts b, cts s, the three differences)."""
    return {r["segment"]: (r["baseline_customers"], r["scenario_customers"], str(r["baseline_contribution_margin"]),
                           str(r["scenario_contribution_margin"]), str(r["baseline_cost_to_serve"]),
                           str(r["scenario_cost_to_serve"]), r["customers_difference"],
                           str(r["contribution_margin_difference"]), str(r["cost_to_serve_difference"]))
            for r in rows(folder, "scenario_segments", "segment") if r["segmentation"] == "stratum"}


def migrations(folder: Path, segmentation: str = "stratum") -> dict[tuple[str, str], int]:
    return {(r["baseline_segment"], r["scenario_segment"]): r["customers"]
            for r in rows(folder, "scenario_migrations", "baseline_segment, scenario_segment")
            if r["segmentation"] == segmentation}


def assert_no_change(folder: Path) -> None:
    for c, r in customers(folder).items():
        b = BASELINE[c]
        assert r == (b[0], b[0], b[4], b[4], b[5], b[5], False), c
    assert migrations(folder) == {("CORE", "CORE"): 1, ("MARGINAL", "MARGINAL"): 2, ("OPPORTUNISTIC", "OPPORTUNISTIC"): 1}
    for r in rows(folder, "scenario_migrations", "segmentation"):
        assert r["baseline_segment"] == r["scenario_segment"], r
    for r in rows(folder, "scenario_segments", "segmentation, segment"):
        assert (r["customers_difference"], r["contribution_margin_difference"], r["cost_to_serve_difference"]) == (
            0, Decimal("0.00"), Decimal("0.00")), r


# ---------------------------------------------------------------------------------------------
# production's own configuration: no change at all
# ---------------------------------------------------------------------------------------------
def test_production_configuration_shows_no_change(production):
    folder = ok(production, "same", write_config(production["configs"] / "same.yml"))
    summary = json.loads((folder / "_scenario.json").read_text())
    assert (summary["month"], summary["changed_settings"], summary["models_rebuilt"], summary["customers_changed"]) == (
        "2026-01-31", [], [], 0)
    assert set(customers(folder)) == {"C1", "C2", "C3", "C5"}  # C4 inactive, UNASSIGNED never segmented
    assert_no_change(folder)
    # every segmentation and the segment ALL are compared: 4 customers in both
    all_rows = [r for r in rows(folder, "scenario_segments", "segmentation") if r["segment"] == "ALL"]
    assert [(r["segmentation"], r["baseline_customers"], r["scenario_customers"]) for r in all_rows] == [
        (s, 4, 4) for s in sorted(["stratum", "profitability_quadrant", "revenue_tier", "maturity_tier",
                                   "maturity_segment", "needs_group"])]
    assert (folder / "report" / "index.html").is_file() and (folder / "report" / "whale_curves.png").is_file()


def test_recomputing_every_model_with_production_configuration_changes_nothing(production):
    # The machinery itself (schema prefix, deferral to production, the comparison) adds no difference.
    folder = ok(production, "same_all", write_config(production["configs"] / "same_all.yml"), "--rebuild-all")
    summary = json.loads((folder / "_scenario.json").read_text())
    assert {"int_cost_driver_units", "int_sales_lines", "customer_segments", "segment_kpis"} <= set(summary["models_rebuilt"])
    assert summary["schemas"] == ["scenario_same_all_intermediate", "scenario_same_all_marts"]
    assert_no_change(folder)


def test_an_earlier_segment_month(production):
    folder = ok(production, "same", write_config(production["configs"] / "same.yml"), "--month", "2025-12")
    # 2025-12: C1, C2, C3, C4 (test_segment_marts: C5 is new in 2026-01)
    assert set(customers(folder)) == {"C1", "C2", "C3", "C4"}
    assert json.loads((folder / "_scenario.json").read_text())["month"] == "2025-12-31"


# ---------------------------------------------------------------------------------------------
# one strata weight: contribution_margin 0.6 -> 0.1 (profitability = (0.1 CM + 0.4 CM %) / 0.5)
# ---------------------------------------------------------------------------------------------
def test_one_strata_weight(production):
    config = write_config(production["configs"] / "cm_light.yml",
                          **{"segments.strata.profitability.weights.contribution_margin": 0.1})
    folder = ok(production, "cm_light", config)
    summary = json.loads((folder / "_scenario.json").read_text())
    assert summary["changed_settings"] == ["segments.strata.profitability.weights.contribution_margin"]
    # cost allocation and the profit facts are not recomputed: only the segment models after strata
    # (clv_model_fits stamps the configuration's version; int_clv_backtest reads each customer's stratum)
    assert summary["models_rebuilt"] == ["account_playbook", "clv_model_fits", "customer_segments",
                                         "int_clv_backtest", "int_segment_assignments",
                                         "int_segment_customers", "int_segment_maturity", "int_segment_strata",
                                         "kpi_target_status", "segment_kpis", "segment_transitions"]
    # C1 (0.1 * 1 + 0.4 * 1/3) / 0.5 = 0.4667 < 0.5: low profitability, top-line high -> SERVICE_DRAIN
    # C2 0 -> MARGINAL; C3 (0.1 * 1/3 + 0.4 * 2/3) / 0.5 = 0.6, CM 220 > 0 -> OPPORTUNISTIC
    # C5 (0.1 * 2/3 + 0.4 * 1) / 0.5 = 0.9333 -> OPPORTUNISTIC; no money moves
    assert customers(folder) == {
        "C1": ("CORE", "SERVICE_DRAIN", "120.00", "120.00", "610.00", "610.00", True),
        "C2": ("MARGINAL", "MARGINAL", "0.00", "0.00", "-70.00", "-70.00", False),
        "C3": ("MARGINAL", "OPPORTUNISTIC", "0.00", "0.00", "220.00", "220.00", True),
        "C5": ("OPPORTUNISTIC", "OPPORTUNISTIC", "10.00", "10.00", "590.00", "590.00", False),
    }
    assert migrations(folder) == {("CORE", "SERVICE_DRAIN"): 1, ("MARGINAL", "MARGINAL"): 1,
                                  ("MARGINAL", "OPPORTUNISTIC"): 1, ("OPPORTUNISTIC", "OPPORTUNISTIC"): 1}
    assert migrations(folder, "revenue_tier") == {("HIGH", "HIGH"): 3, ("MEDIUM", "MEDIUM"): 1}
    # per stratum: CORE had C1 (cm 610, cts 120); MARGINAL C2 + C3 (cm -70 + 220 = 150) -> C2 only (-70);
    # OPPORTUNISTIC C5 (590, 10) -> C3 + C5 (220 + 590 = 810, 10); SERVICE_DRAIN none -> C1
    assert strata_segments(folder) == {
        "ALL": (4, 4, "1350.00", "1350.00", "130.00", "130.00", 0, "0.00", "0.00"),
        "CORE": (1, 0, "610.00", "0.00", "120.00", "0.00", -1, "-610.00", "-120.00"),
        "MARGINAL": (2, 1, "150.00", "-70.00", "0.00", "0.00", -1, "-220.00", "0.00"),
        "OPPORTUNISTIC": (1, 2, "590.00", "810.00", "10.00", "10.00", 1, "220.00", "0.00"),
        "SERVICE_DRAIN": (0, 1, "0.00", "610.00", "0.00", "120.00", 1, "610.00", "120.00"),
    }


# ---------------------------------------------------------------------------------------------
# one channel weight of order entry: API 0.1 -> 1.0
# ---------------------------------------------------------------------------------------------
def test_one_order_entry_channel_weight(production):
    config = write_config(production["configs"] / "api_dear.yml",
                          **{"cost_to_serve.order_entry_channel_weights.API": 1.0})
    folder = ok(production, "api_dear", config)
    summary = json.loads((folder / "_scenario.json").read_text())
    assert summary["changed_settings"] == ["cost_to_serve.order_entry_channel_weights.API"]
    assert "int_cost_allocation" in summary["models_rebuilt"] and "int_sales_lines" not in summary["models_rebuilt"]
    # 2026-01: C1 1.0 unit (PHONE), C5 now 1.0 (API): rate 110.00 / 2.0 = 55
    cts = query(production["out"] / "warehouse.duckdb",
                "SELECT customer_no, driver_units, cost FROM scenario_api_dear_marts.fct_cost_to_serve_monthly "
                "WHERE month = ? AND activity = 'ORDER_ENTRY' ORDER BY customer_no", (JAN,))
    assert [(r["customer_no"], r["driver_units"], r["cost"]) for r in cts] == [
        ("C1", Decimal("1"), Decimal("55.00")), ("C5", Decimal("1"), Decimal("55.00"))]
    # C1 cts 20 + 55 = 75, cm 730 - 75 = 655; C5 cts 55, cm 600 - 55 = 545 (CM % 0.6056, now below C3's 0.6286)
    # CM percentiles unchanged (C2 0, C3 1/3, C5 2/3, C1 1); CM % C2 0, C1 (0.409) 1/3, C5 2/3, C3 1:
    # C1 0.6 + 0.4/3 = 0.7333 CORE; C3 0.6/3 + 0.4 = 0.6 -> OPPORTUNISTIC (its own costs did not move);
    # C5 0.4 + 0.2667 = 0.6667 OPPORTUNISTIC; C2 0 MARGINAL
    assert customers(folder) == {
        "C1": ("CORE", "CORE", "120.00", "75.00", "610.00", "655.00", True),
        "C2": ("MARGINAL", "MARGINAL", "0.00", "0.00", "-70.00", "-70.00", False),
        "C3": ("MARGINAL", "OPPORTUNISTIC", "0.00", "0.00", "220.00", "220.00", True),
        "C5": ("OPPORTUNISTIC", "OPPORTUNISTIC", "10.00", "55.00", "590.00", "545.00", True),
    }
    # allocation neither creates nor loses money: ALL keeps cm 1350 and cts 130 (75 + 55)
    assert strata_segments(folder) == {
        "ALL": (4, 4, "1350.00", "1350.00", "130.00", "130.00", 0, "0.00", "0.00"),
        "CORE": (1, 1, "610.00", "655.00", "120.00", "75.00", 0, "45.00", "-45.00"),
        "MARGINAL": (2, 1, "150.00", "-70.00", "0.00", "0.00", -1, "-220.00", "0.00"),
        "OPPORTUNISTIC": (1, 2, "590.00", "765.00", "10.00", "55.00", 1, "175.00", "45.00"),
    }


# ---------------------------------------------------------------------------------------------
# refusals, list, drop, and production untouched
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Phone3x", "a-b", "x;drop schema marts", "../published", "a" * 41])
def test_bad_names_are_refused(production, name):
    result = run(production, name, write_config(production["configs"] / "same.yml"))
    assert result.exit_code == 2
    assert "lower-case letters, digits and underscores" in result.output


def test_invalid_scenario_files_are_refused_naming_the_key(production):
    bad = production["configs"] / "bad.yml"
    text = DEFAULT_CONFIG_FILE.read_text().replace(
        "weights: {net_revenue: 0.5, orders: 0.3, product_families: 0.2}",
        "weights: {net_revenue: 0.5, order_count: 0.3, product_families: 0.2}")
    bad.write_text(text)
    result = run(production, "bad", bad)
    assert result.exit_code == 2
    assert "segments.strata.topline.weights.order_count" in result.output
    result = run(production, "missing", production["configs"] / "no_such_file.yml")
    assert result.exit_code == 2 and "does not exist" in result.output
    # the same file as the launchpad's YAML text, through the Dagster job
    from orchestration.scenario_jobs import execute

    job = execute(production["out"], "scenario_run", {"name": "bad_text", "config_yaml": text}, None)
    assert not job.success
    failure = next(e for e in job.all_events if e.is_step_failure)
    assert "segments.strata.topline.weights.order_count" in failure.step_failure_data.error.message
    # an output folder without a warehouse: refused before anything is created there
    empty = production["configs"] / "no_out"
    result = CliRunner().invoke(cli, ["scenario", "run", "--config", str(bad), "--name", "x", "--out", str(empty)])
    assert result.exit_code == 2 and "segments.strata.topline.weights.order_count" in result.output
    result = CliRunner().invoke(cli, ["scenario", "run", "--config", str(write_config(production["configs"] / "same.yml")),
                                      "--name", "x", "--out", str(empty)])
    assert result.exit_code == 2 and "run `strata materialize` first" in result.output and not empty.exists()
    # an unknown month names the segment months there are
    result = run(production, "same", write_config(production["configs"] / "same.yml"), "--month", "2024-01")
    assert result.exit_code == 2 and "segment months are 2025-12 .. 2026-01" in result.output


def test_list_and_drop(production):
    listing = CliRunner().invoke(cli, ["scenario", "list", "--out", str(production["out"])])
    assert listing.exit_code == 0
    for name in ("same", "same_all", "cm_light", "api_dear"):
        assert name in listing.output
    dropped = CliRunner().invoke(cli, ["scenario", "drop", "same_all", "--out", str(production["out"])])
    assert dropped.exit_code == 0, dropped.output
    assert not (production["out"] / "scenarios" / "same_all").exists()
    schemas = query(production["out"] / "warehouse.duckdb",
                    "SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, 'scenario_')")
    # the other scenarios keep theirs (scenario names sharing a prefix are never confused)
    assert sorted(r["schema_name"] for r in schemas) == [
        "scenario_api_dear_intermediate", "scenario_api_dear_marts", "scenario_cm_light_intermediate",
        "scenario_cm_light_marts"]
    assert (production["out"] / "scenarios" / "same").is_symlink()


def test_production_is_byte_identical_after_every_scenario(production):
    # runs last in this module: after good scenarios, refused ones and a drop
    assert fingerprint(production["out"]) == production["fingerprint"]
