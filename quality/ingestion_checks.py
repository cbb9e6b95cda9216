"""Checks on the ingestion assets (`[system, entity]`, raw tables `raw.<system>__<entity>`).

The loader already quarantines type, enum, nullability, key and batch-month violations; these
checks look at what it cannot: implausible values, references that lead nowhere, how much of a batch
was quarantined, and exchange rates that jump. They validate the batches of the run (the `_batch`
values in its month partitions) through aggregates DuckDB computes: one frame row per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pandas as pd

from assets.core.catalog import table_exists
from assets.core.contract import Entity, entities
from assets.core.settings import Quality
from assets.core.sql import sql_ident, sql_literal
from quality import check_results, gx_runner, ranges, suites
from quality.base import CheckDef, Env
from quality.ranges import ERROR
from quality.suites import Rule, SuiteSpec


def _key(system: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([system, name])


def _in_batches(frame: pd.DataFrame) -> str:
    batches = sorted({str(b) for b in frame["_batch"]})
    return ", ".join(sql_literal(b) for b in batches) or "NULL"


def _base_metadata(env: Env, frame: pd.DataFrame, table: str) -> dict:
    rows = int(frame["rows"].sum()) if "rows" in frame.columns and len(frame) else 0
    return {
        "table": table,
        "batches": env.scope.describe(),
        "batches_found": len(frame),
        "rows_checked": rows,
    }


# --- value ranges ---------------------------------------------------------------------------------


def value_ranges_body(ent: Entity, spec: SuiteSpec):
    table = f"raw.{ent.table}"

    def body(env: Env) -> dg.AssetCheckResult:
        with env.connect() as con:
            if not table_exists(con, "raw", ent.table):
                return check_results.missing_result(table, spec.blocking)
            aggs = ",\n  ".join(f"{expr} AS {sql_ident(col)}" for col, expr in spec.aggregates())
            frame = con.execute(
                f"SELECT _batch, count(*) AS rows,\n  {aggs}\nFROM {table}\n"
                f"WHERE {env.scope.where()} GROUP BY _batch ORDER BY _batch"
            ).df()
            ev = gx_runner.run_suite(spec, frame, env.out)

            def examples(rule: Rule, failing: pd.DataFrame) -> pd.DataFrame | None:
                if not rule.violation:
                    return None
                cols = ", ".join(sql_ident(c) for c in dict.fromkeys(rule.example_columns))
                return con.execute(
                    f"SELECT _batch, _file, _line, {cols} FROM {table} "
                    f"WHERE _batch IN ({_in_batches(failing)}) AND {rule.violation} "
                    f"ORDER BY _batch, _file, _line LIMIT {ranges.EXAMPLE_ROWS}"
                ).df()

            return check_results.check_result(
                ev, examples=examples, out=env.out, metadata=_base_metadata(env, frame, table)
            )

    return body


# --- share quarantined ----------------------------------------------------------------------------


def quarantine_body(ent: Entity):
    def body(env: Env) -> dg.AssetCheckResult:
        quality = env.settings().quality
        spec = suites.quarantine_suite(ent, quality.quarantine_warn_share, quality.quarantine_block_share)
        with env.connect() as con:
            if not table_exists(con, "audit", "load_batches"):
                return check_results.missing_result("audit.load_batches", blocking=True)
            frame = con.execute(
                f"""SELECT batch AS _batch, sum(rows_read) AS rows, sum(rows_loaded) AS rows_loaded,
                           sum(rows_quarantined) AS rows_quarantined,
                           CAST(sum(rows_quarantined) AS DOUBLE) / nullif(sum(rows_read), 0)
                               AS quarantined_share
                    FROM audit.load_batches
                    WHERE system = ? AND entity = ? AND status = 'LOADED' AND {env.scope.where("batch")}
                    GROUP BY batch ORDER BY batch""",
                [ent.system, ent.name],
            ).df()
            ev = gx_runner.run_suite(spec, frame, env.out)
            has_rows = table_exists(con, "audit", "quarantined_rows")

            def examples(rule: Rule, failing: pd.DataFrame) -> pd.DataFrame | None:
                if not has_rows:
                    return None
                return con.execute(
                    f"""SELECT batch, reason, "column", count(*) AS values_quarantined,
                               min(file) AS file, min(line) AS first_line, min(value) AS a_value
                        FROM audit.quarantined_rows
                        WHERE system = ? AND entity = ? AND batch IN ({_in_batches(failing)})
                        GROUP BY batch, reason, "column" ORDER BY values_quarantined DESC, batch
                        LIMIT {ranges.EXAMPLE_ROWS}""",
                    [ent.system, ent.name],
                ).df()

            md = _base_metadata(env, frame, f"raw.{ent.table}")
            md["rows_quarantined"] = int(frame["rows_quarantined"].sum()) if len(frame) else 0
            text = None if ev.passed or ev.raised else quarantine_text(ent, frame, quality, ev.severity)
            return check_results.check_result(
                ev, examples=examples, out=env.out, metadata=md, description=text
            )

    return body


def quarantine_text(ent: Entity, frame: pd.DataFrame, quality: Quality, severity: str) -> str:
    """Which batches, what share, what it does to the run, and where the rows are."""
    over = frame[frame["quarantined_share"] > quality.quarantine_warn_share]
    batches = "; ".join(
        f"batch {r['_batch']}: {int(r['rows_quarantined']):,} of {int(r['rows']):,} rows "
        f"({r['quarantined_share']:.1%})"
        for r in over.to_dict("records")
    )
    if severity == ERROR:
        effect = (
            f"above the {quality.quarantine_block_share:.0%} block share (quality.quarantine_block_share): "
            "the marts are not rebuilt and the last published copy stays"
        )
    else:
        effect = (
            f"above the {quality.quarantine_warn_share:.0%} warning share (quality.quarantine_warn_share): "
            "the rest of each batch loaded and the marts are published without these rows"
        )
    return (
        f"{ent.system}/{ent.name} quarantined rows, {batches}; {effect}. The rows, with their file, line and "
        "reason, are in audit.quarantined_rows (published as audit_quarantined_rows)."
    )


# --- referential coverage (methodology §2) --------------------------------------------------------


@dataclass(frozen=True)
class CoverageSql:
    """Per raw row of the checked entity: _batch, _file, _line, ref, weight, matched."""

    rows_sql: str
    ref_label: str
    needs: tuple[str, ...]  # tables the SQL reads, schema-qualified
    deps: tuple[tuple[str, str], ...]  # asset keys the check waits for


# Who the customer is is methodology §2, owned by dbt models: the known customers by int_customers
# (the newest erp/customers snapshot), the crosswalks of CRM accounts and PSA companies by
# int_crm_account_customers and int_psa_company_customers. These checks join the raw rows to them
# (and wait for them) instead of re-deriving it. UNASSIGNED is no customer.
_CUSTOMERS = "(SELECT customer_no FROM intermediate.int_customers)"
_CROSSWALK = "(SELECT {key}, customer_no FROM intermediate.{model} WHERE customer_no <> 'UNASSIGNED')"
_ACCOUNTS = _CROSSWALK.format(key="account_id", model="int_crm_account_customers")
_COMPANIES = _CROSSWALK.format(key="company_id", model="int_psa_company_customers")

COVERAGE_SQL: dict[tuple[str, str], CoverageSql] = {
    ("erp", "sales_lines"): CoverageSql(
        rows_sql=f"""SELECT s._batch, s._file, s._line, s.customer_no AS ref, 1.0 AS weight,
                            c.customer_no IS NOT NULL AS matched
                     FROM raw.erp__sales_lines s LEFT JOIN {_CUSTOMERS} c ON c.customer_no = s.customer_no""",
        ref_label="customer_no",
        needs=("raw.erp__sales_lines", "intermediate.int_customers"),
        deps=(("intermediate", "int_customers"),),
    ),
    ("psa", "time_entries"): CoverageSql(
        rows_sql=f"""SELECT t._batch, t._file, t._line, CAST(t.company_id AS VARCHAR) AS ref,
                            CAST(t.hours AS DOUBLE) AS weight, c.customer_no IS NOT NULL AS matched
                     FROM raw.psa__time_entries t LEFT JOIN {_COMPANIES} c ON c.company_id = t.company_id""",
        ref_label="company_id",
        needs=("raw.psa__time_entries", "intermediate.int_psa_company_customers"),
        deps=(("intermediate", "int_psa_company_customers"),),
    ),
    ("crm", "activities"): CoverageSql(
        rows_sql=f"""SELECT t._batch, t._file, t._line, t.account_id AS ref,
                            CAST(t.duration_minutes AS DOUBLE) AS weight, a.customer_no IS NOT NULL AS matched
                     FROM raw.crm__activities t LEFT JOIN {_ACCOUNTS} a ON a.account_id = t.account_id""",
        ref_label="account_id",
        needs=("raw.crm__activities", "intermediate.int_crm_account_customers"),
        deps=(("intermediate", "int_crm_account_customers"),),
    ),
    ("erp", "payments"): CoverageSql(
        rows_sql="""SELECT p._batch, p._file, p._line, p.document_no AS ref, 1.0 AS weight,
                           i.document_no IS NOT NULL AS matched
                    FROM raw.erp__payments p
                    LEFT JOIN (SELECT DISTINCT document_no FROM raw.erp__sales_lines
                               WHERE document_type = 'INVOICE') i ON i.document_no = p.document_no""",
        ref_label="document_no",
        needs=("raw.erp__payments", "raw.erp__sales_lines"),
        deps=(("erp", "sales_lines"),),
    ),
}


def coverage_body(cov: ranges.Coverage, spec: SuiteSpec):
    sql = COVERAGE_SQL[(cov.system, cov.entity)]

    def body(env: Env) -> dg.AssetCheckResult:
        with env.connect() as con:
            missing = [t for t in sql.needs if not table_exists(con, *t.split("."))]
            if missing:
                return check_results.missing_result(", ".join(missing), spec.blocking)
            base = f"SELECT * FROM ({sql.rows_sql}) WHERE {env.scope.where()}"
            frame = con.execute(
                f"""SELECT _batch, count(*) AS rows, sum(weight) AS total,
                           count(*) FILTER (WHERE NOT matched) AS unmatched_rows,
                           coalesce(sum(weight) FILTER (WHERE NOT matched), 0) AS unmatched_total,
                           coalesce(sum(weight) FILTER (WHERE matched), 0) / nullif(sum(weight), 0)
                               AS matched_share
                    FROM ({base}) GROUP BY _batch ORDER BY _batch"""
            ).df()
            ev = gx_runner.run_suite(spec, frame, env.out)

            def examples(rule: Rule, failing: pd.DataFrame) -> pd.DataFrame:
                return con.execute(
                    f"""SELECT ref AS {sql_ident(sql.ref_label)}, count(*) AS rows,
                    sum(weight) AS {sql_ident(cov.measure)},
                               min(_batch) AS first_batch, min(_file) AS file, min(_line) AS line
                        FROM ({base}) WHERE NOT matched AND _batch IN ({_in_batches(failing)})
                        GROUP BY ref ORDER BY sum(weight) DESC, count(*) DESC, ref
                        LIMIT {ranges.EXAMPLE_ROWS}"""
                ).df()

            md = _base_metadata(env, frame, f"raw.{cov.system}__{cov.entity}")
            md["measure"] = cov.measure
            md["min_share"] = cov.min_share
            if len(frame):
                total = float(frame["total"].sum() or 0)
                matched = total - float(frame["unmatched_total"].sum() or 0)
                md["matched_share_overall"] = dg.MetadataValue.float(matched / total) if total else None
            md = {k: v for k, v in md.items() if v is not None}
            return check_results.check_result(ev, examples=examples, out=env.out, metadata=md)

    return body


# --- exchange rates -------------------------------------------------------------------------------

# A month's rate of a currency is methodology §1's rule, owned by the dbt model int_fx_rates: the band
# compares consecutive months of it (the check waits for the model); the batch is the rate's month.
FX_RATES_MODEL = "int_fx_rates"
FX_BAND_SQL = """
WITH fx AS (
    SELECT month, strftime(month, '%Y-%m') AS _batch, currency, rate_to_lcy FROM intermediate.int_fx_rates
)
SELECT cur._batch, cur.month, cur.currency,
       CAST(cur.rate_to_lcy AS DOUBLE) AS rate_to_lcy,
       CAST(prev.rate_to_lcy AS DOUBLE) AS previous_rate,
       CAST(cur.rate_to_lcy AS DOUBLE) / nullif(CAST(prev.rate_to_lcy AS DOUBLE), 0) - 1 AS change
FROM fx cur
LEFT JOIN fx prev ON prev.currency = cur.currency AND prev.month = last_day(cur.month - INTERVAL 1 MONTH)
WHERE {where}
ORDER BY cur.month, cur.currency
"""


def fx_band_body(spec: SuiteSpec):
    def body(env: Env) -> dg.AssetCheckResult:
        with env.connect() as con:
            if not table_exists(con, "intermediate", FX_RATES_MODEL):
                return check_results.missing_result(f"intermediate.{FX_RATES_MODEL}", spec.blocking)
            frame = con.execute(FX_BAND_SQL.format(where=env.scope.where("cur._batch"))).df()
        ev = gx_runner.run_suite(spec, frame, env.out)
        md = {
            "table": f"intermediate.{FX_RATES_MODEL}",
            "batches": env.scope.describe(),
            "rates_checked": len(frame),
            "band": ranges.FX_BAND,
        }
        return check_results.check_result(ev, out=env.out, metadata=md)

    return body


# --- the definitions ------------------------------------------------------------------------------


def ingestion_check_defs() -> list[CheckDef]:
    """Every ingestion check; the many small ones of a kind share one step (`group`)."""
    out: list[CheckDef] = []
    for (system, name), ent in entities().items():
        key = _key(system, name)
        spec = suites.value_range_suite(ent)
        if spec is not None:
            out.append(
                CheckDef(
                    asset_key=key,
                    name="value_ranges",
                    severities=spec.severities,
                    body=value_ranges_body(ent, spec),
                    description=f"{spec.description} Rules: " + "; ".join(r.text for r in spec.rules) + ".",
                    group="quality_value_ranges",
                )
            )
        out.append(
            CheckDef(
                asset_key=key,
                name="quarantine_share",
                # ERROR above the configured block share stops the marts (the share may be configured
                # away, so ERROR is only possible); WARN above the warning share is reported.
                severities=frozenset({ranges.WARN, ranges.ERROR}),
                body=quarantine_body(ent),
                description=f"Rows of {system}/{name} quarantined per batch (audit.load_batches). Warns "
                "above the configuration's quality.quarantine_warn_share (default 1%), blocks above "
                "quality.quarantine_block_share (default 10%).",
                group="quality_quarantine_share",
            )
        )
    for cov in ranges.COVERAGE:
        spec = suites.coverage_suite(cov)
        sql = COVERAGE_SQL[(cov.system, cov.entity)]
        out.append(
            CheckDef(
                asset_key=_key(cov.system, cov.entity),
                name=cov.check,
                severities=spec.severities,
                body=coverage_body(cov, spec),
                description=spec.description,
                additional_deps=tuple(_key(*d) for d in sql.deps),
                group="quality_reference_coverage",
            )
        )
    spec = suites.fx_band_suite()
    out.append(
        CheckDef(
            asset_key=_key("erp", "fx_rates"),
            name="fx_rate_band",
            severities=spec.severities,
            body=fx_band_body(spec),
            description=spec.description,
            additional_deps=(_key("intermediate", FX_RATES_MODEL),),
        )
    )
    return out
