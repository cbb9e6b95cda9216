"""Delivery sequences for the incremental tests: a generated `source` landing folder, a `landing`
folder that receives its batches month by month (in any order), and the changes real extracts
bring: a corrected closed month, a remapped crosswalk, a re-extracted opportunity, an item that
changes family, a late FX rate. Each change rewrites a batch exactly as the source system would
re-deliver it (orchestration.generator.landing.write_batch: part file and manifest).

`Warehouse` loads a landing folder with the real loader (unchanged batches skipped) and builds it
with dbt the way the dbt asset does: the planner's plan, recorded, passed to dbt.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets import build_planner
from assets.core.build_plan import BuildPlan
from assets.core.dbt import plan_env
from assets.core.settings import load_settings
from assets.ingestion.audit import loaded_fingerprints
from assets.ingestion.landing_scan import scan_landing
from assets.ingestion.loader import load_batch, skip_unchanged
from orchestration.generator.landing import write_batch
from tests.support.warehouse import run_dbt

FAMILIES = ("HARDWARE", "PERIPHERALS", "SOFTWARE", "CLOUD", "SERVICES")

# The models a property test compares: every model partitioned by month and every model built on
# them, up to the marts, except those that read the predicted-value fit (a Python asset between two
# dbt steps whose refit by month tests/clv/test_clv_months.py checks; int_clv_inputs is compared).
COMPARED = (
    "staging.stg_erp__sales_lines", "staging.stg_erp__shipments", "staging.stg_erp__payments",
    "staging.stg_erp__rebate_claims", "staging.stg_crm__activities", "staging.stg_psa__tickets",
    "staging.stg_psa__time_entries",
    "intermediate.int_sales_lines", "intermediate.int_cost_driver_units", "intermediate.int_cost_pool_rates",
    "intermediate.int_cost_allocation", "intermediate.int_customer_cost_to_serve",
    "intermediate.int_customer_profit_monthly", "marts.fct_customer_profit_monthly",
    "marts.fct_cost_to_serve_monthly", "marts.margin_reconciliation",
    "intermediate.int_segment_months", "intermediate.int_segment_customer_t12m",
    "intermediate.int_segment_activity_t12m", "intermediate.int_segment_survey_scores",
    "intermediate.int_clv_inputs", "intermediate.int_segment_strata", "intermediate.int_segment_maturity",
    "intermediate.int_segment_needs", "intermediate.int_segment_upsell", "intermediate.int_segment_customers",
    "intermediate.int_segment_assignments", "marts.segment_transitions",
)
WITHOUT_THE_FIT = ("--exclude", "int_clv_customer_predictions+", "clv_model_fits")


def batch_dir(root: Path, system: str, entity: str, month: str) -> Path:
    return root / system / entity / month


def read_rows(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for part in sorted(folder.glob("*.csv")):
        with open(part, newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def rewrite(root: Path, system: str, entity: str, month: str, rows: list[dict]) -> None:
    folder = batch_dir(root, system, entity, month)
    shutil.rmtree(folder, ignore_errors=True)
    write_batch(root, system, entity, month, rows)


def months_of(root: Path, system: str, entity: str) -> list[str]:
    folder = root / system / entity
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def deliver_month(source: Path, landing: Path, month: str) -> None:
    """Every batch of `month` (all systems and entities), copied as delivered."""
    for folder in sorted(source.glob(f"*/*/{month}")):
        target = landing / folder.relative_to(source)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target)


# ---- the changes (each returns a short description, or None when the landing has nothing to change)

def correct_closed_month(landing: Path, pick: int) -> str | None:
    """An older sales batch re-delivered with one line's amounts doubled."""
    months = months_of(landing, "erp", "sales_lines")[:-1]
    if not months:
        return None
    month = months[pick % len(months)]
    rows = read_rows(batch_dir(landing, "erp", "sales_lines", month))
    row = rows[pick % len(rows)]
    for col in ("net_amount", "cost_amount_lcy"):
        row[col] = str(2 * float(row[col]) if "." not in row[col] else _double(row[col]))
    rewrite(landing, "erp", "sales_lines", month, rows)
    return f"sales {month}: line {row['document_no']}/{row['line_no']} corrected"


def move_line_to_later_month(landing: Path, pick: int) -> str | None:
    """A sales line of an older batch corrected into the newest month: the newest batch re-delivered
    with the line dated in its month, while the older batch keeps the old version. The key then has
    two versions in two batches, and the newer batch's wins wherever its months are recomputed."""
    months = months_of(landing, "erp", "sales_lines")
    if len(months) < 2:
        return None
    old, new = months[:-1][pick % (len(months) - 1)], months[-1]
    return _move_line(landing, old, new, read_rows(batch_dir(landing, "erp", "sales_lines", old)), pick)


def move_another_line_from_that_month(landing: Path, pick: int) -> str | None:
    """After `move_line_to_later_month`: another line of the month a line left, corrected into a
    month between (re-delivered there). The month left is recomputed for the second line while the
    first one's batches are unchanged: its old version there must not come back."""
    months = months_of(landing, "erp", "sales_lines")
    batches_of: dict[tuple[str, str, str], list[str]] = {}
    for month in months:
        for row in read_rows(batch_dir(landing, "erp", "sales_lines", month)):
            batches_of.setdefault(_line_key(row), []).append(month)
    moved = sorted((found[0], found[-1], key) for key, found in batches_of.items() if len(found) > 1)
    if not moved:
        return None
    old, first_target, _ = moved[pick % len(moved)]
    between = [m for m in months if old < m < first_target]
    if not between:
        return None
    once = [r for r in read_rows(batch_dir(landing, "erp", "sales_lines", old))
            if len(batches_of[_line_key(r)]) == 1]
    return _move_line(landing, old, between[pick % len(between)], once, pick)


def _move_line(landing: Path, old: str, new: str, rows: list[dict], pick: int) -> str | None:
    """One of `rows` (lines of batch `old`) re-delivered in batch `new`, dated in its month."""
    there = read_rows(batch_dir(landing, "erp", "sales_lines", new))
    if not rows or not there:
        return None
    row = dict(rows[pick % len(rows)], posting_date=there[0]["posting_date"])
    rewrite(landing, "erp", "sales_lines", new, [*there, row])
    return f"sales line {row['document_no']}/{row['line_no']} moved from {old} into {new}"


def _line_key(row: dict) -> tuple[str, str, str]:
    return row["document_type"], row["document_no"], row["line_no"]


def _double(text: str) -> str:
    from decimal import Decimal

    return format(Decimal(text) * 2, "f")


def remap_crosswalk(landing: Path, pick: int) -> str | None:
    """The newest CRM accounts snapshot maps one account to another customer (or soft-deletes it),
    and the newest PSA companies snapshot re-maps one company."""
    accounts_months = months_of(landing, "crm", "accounts")
    customers_months = months_of(landing, "erp", "customers")
    if not accounts_months or not customers_months:
        return None
    customers = [r["customer_no"] for r in read_rows(batch_dir(landing, "erp", "customers", customers_months[-1]))]
    month = accounts_months[-1]
    rows = read_rows(batch_dir(landing, "crm", "accounts", month))
    row = rows[pick % len(rows)]
    if pick % 3 == 0:
        row["is_deleted"] = "true"
    else:
        row["erp_customer_no"] = customers[(pick // 3) % len(customers)]
    rewrite(landing, "crm", "accounts", month, rows)
    said = f"account {row['account_id']} re-mapped in {month}"
    companies_months = months_of(landing, "psa", "companies")
    if companies_months:
        cmonth = companies_months[-1]
        crows = read_rows(batch_dir(landing, "psa", "companies", cmonth))
        crow = crows[(pick + 1) % len(crows)]
        crow["erp_customer_no"] = customers[(pick + 1) % len(customers)]
        rewrite(landing, "psa", "companies", cmonth, crows)
        said += f", company {crow['company_id']} in {cmonth}"
    return said


def change_item_family(landing: Path, pick: int) -> str | None:
    months = months_of(landing, "erp", "items")
    if not months:
        return None
    rows = read_rows(batch_dir(landing, "erp", "items", months[-1]))
    row = rows[pick % len(rows)]
    row["product_family"] = FAMILIES[(FAMILIES.index(row["product_family"]) + 1 + pick) % len(FAMILIES)] \
        if row["product_family"] in FAMILIES else FAMILIES[0]
    rewrite(landing, "erp", "items", months[-1], rows)
    return f"item {row['item_no']} now {row['product_family']} ({months[-1]})"


def reextract_opportunity(landing: Path, pick: int) -> str | None:
    """The newest opportunities batch carries a new version of an older opportunity: won, with
    another close date."""
    months = months_of(landing, "crm", "opportunities")
    if len(months) < 2:
        return None
    newest = months[-1]
    newest_rows = read_rows(batch_dir(landing, "crm", "opportunities", newest))
    taken = {r["opportunity_id"] for r in newest_rows}
    older = [r for m in months[:-1] for r in read_rows(batch_dir(landing, "crm", "opportunities", m))
             if r["opportunity_id"] not in taken]
    if not older:
        return None
    row = dict(older[pick % len(older)])
    row["stage"] = "CLOSED_WON"
    row["deal_type"] = "UPSELL"
    row["close_date"] = f"{newest}-15"
    row["last_modified_at"] = f"{newest}-20T10:00:00Z"
    rewrite(landing, "crm", "opportunities", newest, [*newest_rows, row])
    return f"opportunity {row['opportunity_id']} re-extracted in {newest}"


def late_fx_rate(landing: Path, pick: int) -> str | None:
    """An older month's FX batch re-delivered with one rate changed."""
    months = months_of(landing, "erp", "fx_rates")[:-1]
    if not months:
        return None
    month = months[pick % len(months)]
    rows = read_rows(batch_dir(landing, "erp", "fx_rates", month))
    if not rows:
        return None
    row = rows[pick % len(rows)]
    from decimal import Decimal

    row["rate_to_lcy"] = format(Decimal(row["rate_to_lcy"]) * Decimal("1.1"), "f")
    rewrite(landing, "erp", "fx_rates", month, rows)
    return f"fx {row['currency']} {month} late"


def redeliver_unchanged(landing: Path, pick: int) -> str | None:
    """A batch delivered again, byte for byte: nothing to load."""
    folders = sorted(landing.glob("*/*/*"))
    folder = folders[pick % len(folders)]
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.copytree(folder, tmp)
    shutil.rmtree(folder)
    tmp.rename(folder)
    return f"{folder.relative_to(landing)} re-delivered unchanged"


CHANGES = {
    "correct_closed_month": correct_closed_month,
    "move_line_to_later_month": move_line_to_later_month,
    "move_another_line_from_that_month": move_another_line_from_that_month,
    "remap_crosswalk": remap_crosswalk,
    "change_item_family": change_item_family,
    "reextract_opportunity": reextract_opportunity,
    "late_fx_rate": late_fx_rate,
    "redeliver_unchanged": redeliver_unchanged,
}


# ---- warehouses

@dataclass
class Warehouse:
    path: Path

    def load(self, landing: Path) -> int:
        """Load every batch of `landing` that is not loaded in this version; the number loaded."""
        con = duckdb.connect(str(self.path))
        try:
            from assets.ingestion.loader import prepare_warehouse

            prepare_warehouse(con)
            known = loaded_fingerprints(con)
            loaded = 0
            for ref in scan_landing(landing).batches:
                if skip_unchanged(con, landing, ref, known):
                    continue
                result = load_batch(con, landing, ref.system, ref.entity, ref.batch)
                assert not result.refused, result.message
                loaded += 1
            return loaded
        finally:
            con.close()

    def build(self, full_refresh: bool = False, dbt_args: tuple[str, ...] = WITHOUT_THE_FIT,
              most_months: float = build_planner.MOST_MONTHS) -> BuildPlan:
        """Plan, then one `dbt run` of the plan's months (or of everything). `most_months` above 1
        never falls back to FULL for the number of dirty months (a test exercises the months)."""
        settings = load_settings()
        run_id = str(uuid.uuid4())
        con = duckdb.connect(str(self.path))
        try:
            plan = build_planner.prepare_build(con, run_id, settings, full_refresh=full_refresh,
                                               most_months=most_months)
        finally:
            con.close()
        refresh = ["--full-refresh"] if plan.is_full else []
        result = run_dbt(self.path, ["run", *refresh, *dbt_args], work=self.path.parent,
                         env=plan_env(plan))
        assert result.returncode == 0, f"dbt failed ({plan.mode}):\n{result.stdout[-6000:]}"
        con = duckdb.connect(str(self.path))
        try:
            assert build_planner.finish_step(con, run_id, {"dbt"}, {"dbt"})
        finally:
            con.close()
        return plan


def differences(a: Path, b: Path, tables: tuple[str, ...] = COMPARED) -> dict[str, int]:
    """Per table, the rows in one warehouse and not the other (multisets, every column)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        out = {}
        for t in tables:
            # a staging row's load time is the one column two warehouses loading the same
            # batches cannot share
            cols = "* EXCLUDE (_loaded_at)" if t.startswith("staging.") else "*"
            n = con.execute(f"SELECT count(*) FROM ((SELECT {cols} FROM a.{t} EXCEPT ALL SELECT {cols} FROM b.{t}) "
                            f"UNION ALL (SELECT {cols} FROM b.{t} EXCEPT ALL SELECT {cols} FROM a.{t}))").fetchone()[0]
            if n:
                out[t] = n
        return out
    finally:
        con.close()
