"""Checks on the marts (dbt model assets `[model]`, tables in schema `marts`).

Each check reads its mart after the dbt build. A mart the dbt project defines but the warehouse
does not hold (not built yet, or its build failed) is reported as such, never a crash; once it
exists it is really checked. The small marts are validated row by row; `customer_segments` (one row
per customer and month) through per-month aggregates DuckDB computes.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from assets.core.catalog import table_exists
from assets.core.settings import SEGMENT_CODES
from assets.core.sql import sql_ident, sql_literal
from quality import check_results, gx_runner, ranges, suites
from quality.base import CheckDef, Env
from quality.suites import Rule, SuiteSpec


def _missing_mart(table: str, spec: SuiteSpec) -> dg.AssetCheckResult:
    return check_results.missing_result(
        f"marts.{table}", spec.blocking, hint="the dbt model has not been built (yet) in this warehouse"
    )


def _in(values) -> str:
    return ", ".join(sql_literal(v) for v in values) or "NULL"


def _months(frame: pd.DataFrame) -> str:
    return _in(sorted({str(m)[:10] for m in frame["month"]}))


# --- margin_reconciliation ------------------------------------------------------------------------

RECON_COLUMNS = """month, line_item, CAST(pipeline_amount AS DOUBLE) AS pipeline_amount,
    CAST(unassigned_amount AS DOUBLE) AS unassigned_amount,
    CAST(unallocated_amount AS DOUBLE) AS unallocated_amount,
    CAST(unused_capacity_amount AS DOUBLE) AS unused_capacity_amount, CAST(gl_amount AS DOUBLE) AS gl_amount,
    CAST(difference AS DOUBLE) AS difference, status"""


def _recon_body(spec_of, where: str):
    def body(env: Env) -> dg.AssetCheckResult:
        spec = spec_of(env)
        with env.connect() as con:
            if not table_exists(con, "marts", "margin_reconciliation"):
                return _missing_mart("margin_reconciliation", spec)
            frame = con.execute(
                f"SELECT {RECON_COLUMNS} FROM marts.margin_reconciliation WHERE {where} "
                "ORDER BY month, line_item"
            ).df()
        ev = gx_runner.run_suite(spec, frame, env.out)
        md = {
            "table": "marts.margin_reconciliation",
            "rows_checked": len(frame),
            "months": int(frame["month"].nunique()) if len(frame) else 0,
        }
        return check_results.check_result(ev, out=env.out, metadata=md)

    return body


def cost_pools_body(env: Env) -> dg.AssetCheckResult:
    return _recon_body(
        lambda e: suites.cost_pool_suite(float(e.settings().reconciliation.tolerance_lcy)),
        "line_item LIKE 'COST_POOL:%'",
    )(env)


def ledger_body(env: Env) -> dg.AssetCheckResult:
    return _recon_body(lambda e: suites.ledger_suite(), f"line_item IN ({_in(ranges.LEDGER_LINE_ITEMS)})")(
        env
    )


# --- missing exchange rates -----------------------------------------------------------------------

# Which (month, currency) pairs lack a rate is methodology §1's rule, owned by the dbt model
# int_fx_missing_rates (its month of a row, the newest opportunity version, LCY at 1): the check
# reads that model and never re-derives the pairs.
FX_MISSING_MODEL = "int_fx_missing_rates"


def fx_complete_body(env: Env) -> dg.AssetCheckResult:
    spec = suites.fx_complete_suite()
    with env.connect() as con:
        if not table_exists(con, "intermediate", FX_MISSING_MODEL):
            return check_results.missing_result(
                f"intermediate.{FX_MISSING_MODEL}",
                spec.blocking,
                hint="the dbt model has not been built (yet) in this warehouse",
            )
        frame = con.execute(
            "SELECT month, currency, entity, rows_without_rate, CAST(NULL AS DOUBLE) AS rate_to_lcy "
            f"FROM intermediate.{FX_MISSING_MODEL} ORDER BY month, currency, entity"
        ).df()
    md = {
        "source": f"intermediate.{FX_MISSING_MODEL} (the finance models' list of missing rates)",
        "missing_pairs": len(frame),
    }
    ev = gx_runner.run_suite(spec, frame, env.out)
    return check_results.check_result(ev, out=env.out, metadata=md)


# --- month-over-month jumps per customer group ----------------------------------------------------

# A customer's group is its attribute in the newest customer snapshot (methodology §2), as the dbt
# model int_customers holds it.
MOM_SQL = """
WITH grp AS (
    SELECT customer_no, customer_group FROM intermediate.int_customers
),
m AS (
    SELECT p.month, coalesce(g.customer_group, 'UNASSIGNED') AS customer_group,
           sum(p.net_revenue) AS net_revenue, sum(p.cost_to_serve) AS cost_to_serve
    FROM marts.fct_customer_profit_monthly p LEFT JOIN grp g ON g.customer_no = p.customer_no
    GROUP BY 1, 2
),
grid AS (
    SELECT months.month, groups.customer_group
    FROM (SELECT DISTINCT month FROM m) months, (SELECT DISTINCT customer_group FROM m) groups
),
long AS (
    SELECT grid.month, grid.customer_group, 'net_revenue' AS measure,
           CAST(coalesce(m.net_revenue, 0) AS DOUBLE) AS value
    FROM grid LEFT JOIN m USING (month, customer_group)
    UNION ALL
    SELECT grid.month, grid.customer_group, 'cost_to_serve', CAST(coalesce(m.cost_to_serve, 0) AS DOUBLE)
    FROM grid LEFT JOIN m USING (month, customer_group)
)
SELECT cur.month, cur.customer_group, cur.measure, prev.value AS previous, cur.value,
       CASE WHEN abs(prev.value) >= {base} THEN cur.value / prev.value END AS ratio
FROM long cur
JOIN long prev ON prev.customer_group = cur.customer_group AND prev.measure = cur.measure
              AND prev.month = last_day(cur.month - INTERVAL 1 MONTH)
WHERE cur.measure IN ({measures})
ORDER BY cur.month, cur.customer_group, cur.measure
"""


def mom_body(env: Env) -> dg.AssetCheckResult:
    spec = suites.mom_suite()
    with env.connect() as con:
        if not table_exists(con, "marts", "fct_customer_profit_monthly"):
            return _missing_mart("fct_customer_profit_monthly", spec)
        if not table_exists(con, "intermediate", "int_customers"):
            return check_results.missing_result("intermediate.int_customers", spec.blocking)
        frame = con.execute(
            MOM_SQL.format(base=float(ranges.MOM_MIN_BASE_LCY), measures=_in(ranges.MOM_MEASURES))
        ).df()
    ev = gx_runner.run_suite(spec, frame, env.out)
    md = {
        "table": "marts.fct_customer_profit_monthly",
        "comparisons": len(frame),
        "factor": ranges.MOM_FACTOR,
        "min_base_lcy": ranges.MOM_MIN_BASE_LCY,
    }
    return check_results.check_result(ev, out=env.out, metadata=md)


# --- customer_segments ----------------------------------------------------------------------------


# Who is active at M (methodology §6: T12M net revenue > 0) is owned by the dbt model
# int_segment_customer_t12m, one row per active customer and segment month: the check compares the
# mart with it rather than summing windows itself.
ACTIVE_MODEL = "int_segment_customer_t12m"


def _segment_views(con) -> None:
    con.execute("CREATE OR REPLACE TEMP VIEW q_seg AS SELECT * FROM marts.customer_segments")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW q_active AS "
        f"SELECT month, customer_no, net_revenue_t12m FROM intermediate.{ACTIVE_MODEL}"
    )


def _invalid(segmentation: str) -> str:
    codes = SEGMENT_CODES[segmentation]
    return f"({sql_ident(segmentation)} IS NULL OR {sql_ident(segmentation)} NOT IN ({_in(codes)}))"


SEGMENT_FRAME_SQL = """
WITH counts AS (
    SELECT month, count(*) AS rows,
           count(*) - count(DISTINCT customer_no) AS duplicate_rows,
           count(*) FILTER (WHERE customer_no = 'UNASSIGNED') AS unassigned_rows,
           {invalid}
    FROM q_seg GROUP BY month
),
ans AS (
    SELECT a.month, count(*) AS n FROM q_active a
    WHERE NOT EXISTS (SELECT 1 FROM q_seg s WHERE s.month = a.month AND s.customer_no = a.customer_no)
    GROUP BY a.month
),
sna AS (
    SELECT s.month, count(*) AS n FROM q_seg s
    WHERE s.customer_no <> 'UNASSIGNED'
      AND NOT EXISTS (SELECT 1 FROM q_active a WHERE a.month = s.month AND a.customer_no = s.customer_no)
    GROUP BY s.month
)
SELECT c.*, coalesce(ans.n, 0) AS active_not_segmented, coalesce(sna.n, 0) AS segmented_not_active
FROM counts c LEFT JOIN ans USING (month) LEFT JOIN sna USING (month)
ORDER BY c.month
"""


def _segment_examples(con, rule: Rule, failing: pd.DataFrame) -> pd.DataFrame | None:
    months, n = _months(failing), ranges.EXAMPLE_ROWS
    column = rule.count_column or ""
    if column == "duplicate_rows":
        sql = (
            f"SELECT month, customer_no, count(*) AS rows FROM q_seg WHERE month IN ({months}) "
            f"GROUP BY month, customer_no HAVING count(*) > 1 ORDER BY month, customer_no LIMIT {n}"
        )
    elif column == "unassigned_rows":
        sql = (
            f"SELECT month, customer_no, stratum, revenue_tier FROM q_seg WHERE month IN ({months}) "
            f"AND customer_no = 'UNASSIGNED' ORDER BY month LIMIT {n}"
        )
    elif column == "active_not_segmented":
        sql = (
            f"SELECT a.month, a.customer_no, a.net_revenue_t12m FROM q_active a WHERE a.month IN ({months}) "
            "AND NOT EXISTS (SELECT 1 FROM q_seg s "
            "WHERE s.month = a.month AND s.customer_no = a.customer_no) "
            f"ORDER BY a.net_revenue_t12m DESC, a.month LIMIT {n}"
        )
    elif column == "segmented_not_active":
        sql = (
            f"SELECT s.month, s.customer_no, s.net_revenue_t12m FROM q_seg s WHERE s.month IN ({months}) "
            "AND s.customer_no <> 'UNASSIGNED' AND NOT EXISTS (SELECT 1 FROM q_active a "
            "WHERE a.month = s.month AND a.customer_no = s.customer_no) ORDER BY s.month, s.customer_no "
            f"LIMIT {n}"
        )
    elif column.startswith("invalid__"):
        seg = column.removeprefix("invalid__")
        sql = (
            f"SELECT month, customer_no, {sql_ident(seg)} FROM q_seg "
            f"WHERE month IN ({months}) AND {_invalid(seg)} "
            f"ORDER BY month, customer_no LIMIT {n}"
        )
    else:
        return None
    return con.execute(sql).df()


def segments_body(env: Env) -> dg.AssetCheckResult:
    spec = suites.segments_suite()
    with env.connect() as con:
        if not table_exists(con, "marts", "customer_segments"):
            return _missing_mart("customer_segments", spec)
        if not table_exists(con, "intermediate", ACTIVE_MODEL):
            return check_results.missing_result(
                f"intermediate.{ACTIVE_MODEL}", spec.blocking, hint="the dbt model has not been built (yet)"
            )
        _segment_views(con)
        invalid = ",\n           ".join(
            f"count(*) FILTER (WHERE {_invalid(s)}) AS {sql_ident('invalid__' + s)}" for s in SEGMENT_CODES
        )
        frame = con.execute(SEGMENT_FRAME_SQL.format(invalid=invalid)).df()
        ev = gx_runner.run_suite(spec, frame, env.out)
        md = {
            "table": "marts.customer_segments",
            "active_customers_from": f"intermediate.{ACTIVE_MODEL}",
            "months": len(frame),
            "rows_checked": int(frame["rows"].sum()) if len(frame) else 0,
        }
        return check_results.check_result(
            ev, out=env.out, metadata=md, examples=lambda rule, failing: _segment_examples(con, rule, failing)
        )


# --- segment_kpis ---------------------------------------------------------------------------------


def kpis_body(env: Env) -> dg.AssetCheckResult:
    spec = suites.kpi_suite()
    with env.connect() as con:
        if not table_exists(con, "marts", "segment_kpis"):
            return _missing_mart("segment_kpis", spec)
        kpis = ", ".join(f"CAST({sql_ident(k)} AS DOUBLE) AS {sql_ident(k)}" for k in ranges.KPI_RANGES)
        frame = con.execute(
            f"SELECT month, segmentation, segment, {kpis} FROM marts.segment_kpis "
            "ORDER BY month, segmentation, segment"
        ).df()
    ev = gx_runner.run_suite(spec, frame, env.out)
    md = {"table": "marts.segment_kpis", "rows_checked": len(frame)}
    return check_results.check_result(ev, out=env.out, metadata=md)


# --- the definitions ------------------------------------------------------------------------------


def mart_check_defs() -> list[CheckDef]:
    """The mart checks, keyed by model name; `quality.checks` keys them as the graph keys the model."""
    recon = dg.AssetKey(["margin_reconciliation"])
    profit = dg.AssetKey(["fct_customer_profit_monthly"])
    cost_pools, ledger, fx = suites.cost_pool_suite(1.0), suites.ledger_suite(), suites.fx_complete_suite()
    mom, segments, kpis = suites.mom_suite(), suites.segments_suite(), suites.kpi_suite()
    return [
        CheckDef(
            recon,
            "cost_pools_reconcile",
            cost_pools.description + " Blocking: every COST_POOL row OK and |difference| within the "
            "configured tolerance.",
            cost_pools.severities,
            cost_pools_body,
            model=True,
        ),
        CheckDef(
            recon,
            "ledger_differences",
            ledger.description + " Non-blocking: finance explains a difference.",
            ledger.severities,
            ledger_body,
            model=True,
        ),
        CheckDef(
            profit,
            "fx_rates_complete",
            fx.description + " Blocking.",
            fx.severities,
            fx_complete_body,
            model=True,
        ),
        CheckDef(
            profit,
            "month_over_month",
            mom.description + f" Non-blocking; factor {ranges.MOM_FACTOR:g}.",
            mom.severities,
            mom_body,
            model=True,
        ),
        CheckDef(
            dg.AssetKey(["customer_segments"]),
            "one_segment_per_customer",
            segments.description + " Blocking.",
            segments.severities,
            segments_body,
            model=True,
        ),
        CheckDef(
            dg.AssetKey(["segment_kpis"]),
            "kpis_in_range",
            kpis.description + " Blocking.",
            kpis.severities,
            kpis_body,
            model=True,
        ),
    ]
