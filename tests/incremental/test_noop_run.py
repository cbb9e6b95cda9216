"""A rerun over an unchanged landing folder loads nothing, recomputes nothing and says so; a
changed configuration on the same folder is a full rebuild (docs/incremental.md)."""

from __future__ import annotations

import shutil

import duckdb

from assets import build_planner
from assets.core.build_plan import NOOP, latest_plan
from assets.core.settings import load_settings
from orchestration.runner import unchanged_landing
from tests.orchestration.test_cli import strata
from tests.support.warehouse import write_config


def copy_of(sample_run, tmp_path):
    summary, report = sample_run
    out = tmp_path / "out"
    shutil.copytree(report.warehouse.parent, out, symlinks=True)
    return summary.landing_root, out


def audit_rows(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM audit.load_batches ORDER BY ALL").fetchall()


def test_a_rerun_over_an_unchanged_landing_folder_does_nothing(sample_run, tmp_path):
    landing, out = copy_of(sample_run, tmp_path)
    warehouse = out / "warehouse.duckdb"
    before = audit_rows(warehouse)

    done = strata("materialize", "--landing", str(landing), "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert "nothing changed since the last build: nothing loaded, no model recomputed" in done.stdout
    assert audit_rows(warehouse) == before  # not one batch reloaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        plan = latest_plan(con)
    assert (plan.mode, plan.reason) == (NOOP, "nothing changed")
    assert not (plan.fact_months or plan.segment_months or plan.kpi_months)


def test_a_changed_configuration_over_the_same_landing_folder_is_no_noop(sample_run, tmp_path):
    landing, out = copy_of(sample_run, tmp_path)
    config = write_config(tmp_path / "strata.yml", **{"cost_to_serve.late_payment_weight": 7})
    with duckdb.connect(str(out / "warehouse.duckdb")) as con:
        assert unchanged_landing(con, landing, load_settings().version)
        assert not unchanged_landing(con, landing, load_settings(config).version)
        mode, reason = build_planner.decide(build_planner.read_state(con),
                                            build_planner.current(con, load_settings(config).version),
                                            latest_plan(con))
    assert mode == "FULL" and reason.startswith("the configuration changed")


def test_a_build_whose_publication_failed_is_published_by_the_next_run(tmp_path):
    """The published copy must hold every build plan that changed something; a rerun over an
    unchanged landing folder after a failed publication is therefore a real run, not a no-op."""
    from assets.core.build_plan import FULL, INCREMENTAL, BuildPlan, write_plan
    from assets.publishing.months import publication_caught_up

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        write_plan(con, BuildPlan("run-1", FULL, "first build"))
        assert publication_caught_up(con, {"build_plan": "run-1"})
        write_plan(con, BuildPlan("run-2", NOOP, "nothing changed"))
        assert publication_caught_up(con, {"build_plan": "run-1"})  # NOOP plans change nothing
        write_plan(con, BuildPlan("run-3", INCREMENTAL, "a month"))
        assert not publication_caught_up(con, {"build_plan": "run-1"})  # run-3's publishing failed
        assert publication_caught_up(con, {"build_plan": "run-3"})
        assert not publication_caught_up(con, {"build_plan": "a run this warehouse never planned"})


def test_a_plain_rerun_covers_the_months_from_the_oldest_to_the_newest_change(sample_run, tmp_path):
    """`run_scope`: the month partitions a plain `strata materialize` runs over on a warehouse that
    has loaded the landing folder before."""
    from orchestration.runner import RunScope, changed_months
    from tests.support.deliveries import read_rows, rewrite

    summary, report = sample_run
    landing = tmp_path / "landing"
    shutil.copytree(summary.landing_root, landing)
    known = summary.months
    old, newest = known[5], known[-1]
    with duckdb.connect(str(report.warehouse), read_only=True) as con:
        assert changed_months(con, landing) == []
        # a build to redo with nothing new to load (say, after a failed run): the newest month only
        assert RunScope(changed=[]).over(known) == [newest]

        rows = read_rows(landing / "erp" / "sales_lines" / old)
        rows[0]["net_amount"] = "1.00"  # a corrected batch of a closed month
        rewrite(landing, "erp", "sales_lines", old, rows)
        assert changed_months(con, landing) == [old]
        assert RunScope(changed=[old]).over(known) == [old]

        shutil.copytree(landing / "erp" / "items" / newest, landing / "erp" / "items" / "next")
        assert changed_months(con, landing) is None  # a folder that is no month: every month reports it
        assert RunScope(changed=None).over(known) == known
        shutil.rmtree(landing / "erp" / "items" / "next")

        (landing / "crm" / "accounts" / newest / "part-0001.csv").write_text("account_id\n")  # re-delivered
        assert changed_months(con, landing) == [old, newest]
    assert RunScope(changed=[old, newest]).over(known) == known[5:]
