"""The comparison and its publication on a hand-made baseline: the SQL of `compare`, the folder, the
report and the PostgreSQL rows (schema `scenarios`), without a dbt build.

The warehouse holds only what `compare` reads: `marts.customer_segments` and `marts.segment_kpis`
(production) and the same two tables in `scenario_demo_marts`, for 2026-01-31:

  customer  baseline (stratum, segment, quadrant, tier, cts, cm)        scenario
  K1        CORE  TRANSFORM NURTURE_AND_RETAIN HIGH   100.00  500.00    SERVICE_DRAIN, cts 150.00, cm 450.00
  K2        MARGINAL SUSTAIN FIRE_OR_MOVE_RIGHT LOW    20.00  -30.00    unchanged
  K3        (no segment: inactive in the baseline)                       MARGINAL SUSTAIN FIRE_OR_MOVE_RIGHT LOW 5.00 1.00
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from assets.core.resources import StrataPaths
from assets.core.settings import load_settings
from assets.publishing.postgres import PostgresPublishError
from assets.scenarios.postgres import SCHEMA, drop_scenario_postgres, publish_scenario_postgres
from assets.scenarios.publish import list_scenarios, remove_scenario_folder
from assets.scenarios.run import compare
from orchestration.scenario_jobs import SCENARIO_JOBS
from tests.publishing.conftest import pg_database  # noqa: F401 - the session's PostgreSQL database

JAN = dt.date(2026, 1, 31)
SEGMENTS = """CREATE TABLE {schema}.customer_segments (month DATE, customer_no VARCHAR, stratum VARCHAR,
    maturity_segment VARCHAR, profitability_quadrant VARCHAR, revenue_tier VARCHAR, maturity_tier VARCHAR,
    needs_group VARCHAR, cost_to_serve_t12m DECIMAL(18,2), contribution_margin_t12m DECIMAL(18,2))"""
KPIS = """CREATE TABLE {schema}.segment_kpis (month DATE, segmentation VARCHAR, segment VARCHAR, customers BIGINT,
    contribution_margin DECIMAL(18,2), cost_to_serve DECIMAL(18,2))"""
K2 = ("K2", "MARGINAL", "SUSTAIN", "FIRE_OR_MOVE_RIGHT", "LOW", "DEVELOPING", "PERSONAL", "20.00", "-30.00")


def _warehouse(path):
    con = duckdb.connect(str(path))
    for schema, customers, kpis in (
        (
            "marts",
            [
                (
                    "K1",
                    "CORE",
                    "TRANSFORM",
                    "NURTURE_AND_RETAIN",
                    "HIGH",
                    "ADVANCED",
                    "STRATEGIC",
                    "100.00",
                    "500.00",
                ),
                K2,
            ],
            # stratum CORE: K1; MARGINAL: K2; ALL: both (cm 500 - 30 = 470, cts 120); a segment with
            # customers only at M-12 (OPPORTUNISTIC, 0 customers now) is left out of the comparison
            [
                ("stratum", "CORE", 1, "500.00", "100.00"),
                ("stratum", "MARGINAL", 1, "-30.00", "20.00"),
                ("stratum", "OPPORTUNISTIC", 0, "0.00", "0.00"),
                ("stratum", "ALL", 2, "470.00", "120.00"),
            ],
        ),
        (
            "scenario_demo_marts",
            [
                (
                    "K1",
                    "SERVICE_DRAIN",
                    "TRANSFORM",
                    "NURTURE_AND_RETAIN",
                    "HIGH",
                    "ADVANCED",
                    "STRATEGIC",
                    "150.00",
                    "450.00",
                ),
                K2,
                (
                    "K3",
                    "MARGINAL",
                    "SUSTAIN",
                    "FIRE_OR_MOVE_RIGHT",
                    "LOW",
                    "TRANSACTIONAL",
                    "UNKNOWN",
                    "5.00",
                    "1.00",
                ),
            ],
            # SERVICE_DRAIN: K1; MARGINAL: K2 + K3 (cm -30 + 1 = -29, cts 25); ALL: 3 (421, 175)
            [
                ("stratum", "SERVICE_DRAIN", 1, "450.00", "150.00"),
                ("stratum", "MARGINAL", 2, "-29.00", "25.00"),
                ("stratum", "ALL", 3, "421.00", "175.00"),
            ],
        ),
    ):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(SEGMENTS.format(schema=schema))
        con.execute(KPIS.format(schema=schema))
        con.executemany(
            f"INSERT INTO {schema}.customer_segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(JAN, *c) for c in customers],
        )
        con.executemany(
            f"INSERT INTO {schema}.segment_kpis VALUES (?, ?, ?, ?, ?, ?)", [(JAN, *k) for k in kpis]
        )
    con.close()


@pytest.fixture
def compared(tmp_path):
    _warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    compare(con, "demo", JAN, "scenario_demo_marts", "scenario_demo_marts")
    yield con
    con.close()


def test_compare_pairs_customers_counts_migrations_and_sums_segments(compared):
    customers = compared.execute("SELECT * FROM scenario_customers ORDER BY customer_no").fetchall()
    d = Decimal
    assert customers == [
        (
            "demo",
            JAN,
            "K1",
            "CORE",
            "SERVICE_DRAIN",
            "TRANSFORM",
            "TRANSFORM",
            "NURTURE_AND_RETAIN",
            "NURTURE_AND_RETAIN",
            "HIGH",
            "HIGH",
            d("100.00"),
            d("150.00"),
            d("500.00"),
            d("450.00"),
            True,
        ),
        (
            "demo",
            JAN,
            "K2",
            "MARGINAL",
            "MARGINAL",
            "SUSTAIN",
            "SUSTAIN",
            "FIRE_OR_MOVE_RIGHT",
            "FIRE_OR_MOVE_RIGHT",
            "LOW",
            "LOW",
            d("20.00"),
            d("20.00"),
            d("-30.00"),
            d("-30.00"),
            False,
        ),
        (
            "demo",
            JAN,
            "K3",
            None,
            "MARGINAL",
            None,
            "SUSTAIN",
            None,
            "FIRE_OR_MOVE_RIGHT",
            None,
            "LOW",
            None,
            d("5.00"),
            None,
            d("1.00"),
            True,
        ),
    ]
    stratum = compared.execute(
        "SELECT baseline_segment, scenario_segment, customers FROM scenario_migrations "
        "WHERE segmentation = 'stratum' ORDER BY 1, 2"
    ).fetchall()
    # K3 had no segment in the baseline: NEW, as in segment_transitions
    assert stratum == [("CORE", "SERVICE_DRAIN", 1), ("MARGINAL", "MARGINAL", 1), ("NEW", "MARGINAL", 1)]
    assert compared.execute(
        "SELECT DISTINCT segmentation FROM scenario_migrations ORDER BY 1"
    ).fetchall() == [
        (s,)
        for s in sorted(
            [
                "stratum",
                "profitability_quadrant",
                "revenue_tier",
                "maturity_tier",
                "maturity_segment",
                "needs_group",
            ]
        )
    ]
    segments = compared.execute(
        "SELECT segment, baseline_customers, scenario_customers, "
        "baseline_contribution_margin, scenario_contribution_margin, baseline_cost_to_serve, "
        "scenario_cost_to_serve, customers_difference, contribution_margin_difference, "
        "cost_to_serve_difference FROM scenario_segments ORDER BY segment"
    ).fetchall()
    assert segments == [
        # ALL: 2 -> 3; cm 470 -> 421 (-49); cts 120 -> 175 (+55)
        ("ALL", 2, 3, d("470.00"), d("421.00"), d("120.00"), d("175.00"), 1, d("-49.00"), d("55.00")),
        ("CORE", 1, 0, d("500.00"), d("0.00"), d("100.00"), d("0.00"), -1, d("-500.00"), d("-100.00")),
        # MARGINAL: cm -30 -> -29 (+1), cts 20 -> 25 (+5)
        ("MARGINAL", 1, 2, d("-30.00"), d("-29.00"), d("20.00"), d("25.00"), 1, d("1.00"), d("5.00")),
        ("SERVICE_DRAIN", 0, 1, d("0.00"), d("450.00"), d("0.00"), d("150.00"), 1, d("450.00"), d("150.00")),
    ]


def _publish(con, out, name="demo"):
    from assets.scenarios.publish import publish_scenario

    settings = load_settings()
    description = {
        "scenario": name,
        "month": JAN.isoformat(),
        "config_version": settings.version,
        "production_config_version": settings.version,
        "changed_settings": [],
        "models_rebuilt": [],
        "customers_changed": 2,
        "created_at": "2026-02-01T00:00:00+00:00",
    }
    return publish_scenario(con, out, name, description, settings, settings)


def test_the_folder_is_swapped_in_whole_and_removed_whole(compared, tmp_path):
    out = tmp_path / "out"
    first, rows = _publish(compared, out)
    # migrations: 6 segmentations x 3 pairs (K1's, K2's, and K3's from NEW)
    assert rows == {"scenario_customers": 3, "scenario_migrations": 18, "scenario_segments": 4}
    old = os.path.realpath(first)
    second, _ = _publish(compared, out)
    assert second == first and os.path.realpath(second) != old  # the link moved to a new version
    assert (first / "report" / "index.html").read_text().count('<td class="moved">1</td>') == 2
    assert [s["scenario"] for s in list_scenarios(out)] == ["demo"]
    removed = remove_scenario_folder(out, "demo")
    assert len(removed) == 3  # the link and both versions (two are kept)
    assert list_scenarios(out) == []


def test_postgres_holds_every_scenario_side_by_side(compared, tmp_path, pg_database):  # noqa: F811
    target = pg_database.target()
    out = tmp_path / "out"
    folder, _ = _publish(compared, out, "demo")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        compare(con, "other", JAN, "scenario_demo_marts", "scenario_demo_marts")
        other, _ = _publish(con, out, "other")
    with pytest.raises(PostgresPublishError, match="holds the rows of scenario demo"):
        publish_scenario_postgres(folder, "other", target=target)
    assert publish_scenario_postgres(folder, "demo", target=target).endswith(f"schema {SCHEMA}")
    publish_scenario_postgres(other, "other", target=target)
    publish_scenario_postgres(folder, "demo", target=target)  # again: replaces its own rows only
    with pg_database.connect() as conn:
        counts = conn.execute(
            "SELECT scenario, count(*) FROM scenarios.scenario_customers GROUP BY 1 ORDER BY 1"
        )
        assert counts.fetchall() == [("demo", 3), ("other", 3)]
        k1 = conn.execute(
            "SELECT baseline_contribution_margin_t12m, scenario_contribution_margin_t12m, changed "
            "FROM scenarios.scenario_customers WHERE scenario = 'demo' AND customer_no = 'K1'"
        )
        assert k1.fetchone() == (Decimal("500.00"), Decimal("450.00"), True)
        kinds = conn.execute(
            "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = 'scenarios' AND table_name = 'scenario_segments' "
            "AND column_name = 'contribution_margin_difference'"
        ).fetchone()
        assert kinds == ("numeric", 18, 2)
        conn.execute(f'SET ROLE "{pg_database.bi_role}"')
        assert conn.execute("SELECT count(*) FROM scenarios.scenario_segments").fetchone()[0] == 8
        conn.rollback()
    assert json.loads((folder / "_scenario.json").read_text())["tables"]["scenario_customers"]["rows"] == 3
    # `scenario_drop` takes the target from its `paths` resource (as the UI and `strata scenario` run it)
    paths = StrataPaths(landing_dir="", out_dir=str(out), postgres_url=pg_database.url,
                        postgres_bi_role=pg_database.bi_role)
    job = dg.Definitions(jobs=SCENARIO_JOBS, resources={"paths": paths}).resolve_job_def("scenario_drop")
    result = job.execute_in_process(run_config={"ops": {"drop": {"config": {"name": "demo"}}}},
                                    instance=dg.DagsterInstance.ephemeral())
    assert "PostgreSQL rows" in result.output_for_node("drop")
    with pg_database.connect() as conn:
        left = conn.execute("SELECT DISTINCT scenario FROM scenarios.scenario_migrations").fetchall()
        assert left == [("other",)]
    assert drop_scenario_postgres("other", target=target)


def test_without_postgres_nothing_is_published(compared, tmp_path):
    folder, _ = _publish(compared, tmp_path / "out")
    assert publish_scenario_postgres(folder, "demo") is None
    assert drop_scenario_postgres("demo") is False


def test_a_psycopg_error_names_no_password(compared, tmp_path):
    from assets.publishing.postgres import PostgresTarget

    folder, _ = _publish(compared, tmp_path / "out")
    target = PostgresTarget(conninfo="postgresql://postgres:s3cret@127.0.0.1:1/nowhere", connect_timeout_s=2)
    with pytest.raises(PostgresPublishError) as err:
        publish_scenario_postgres(folder, "demo", target=target)
    assert "s3cret" not in str(err.value)
    assert err.value.__cause__ is None and err.value.transient
