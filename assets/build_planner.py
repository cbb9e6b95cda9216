"""The planner: which months this run's dbt build must recompute, from what changed since the last one.

docs/incremental.md is the reasoning; this module is the rule. Three steps:
1. `decide`: fall back to FULL (a reason) when the reach cannot be bounded; NOOP when no batch
   changed; else go on.
2. `dirty_months` (SQL over the warehouse before dbt runs): the fact months D whose inputs changed,
   the sales months among them (the predicted-value fits read every sales month up to M) and the
   survey months (the 24-month look-back).
3. `reach` (pure): segment months whose W(M) meets D (or whose look-back meets a survey month, or
   that are at or after a changed sales month), KPI months whose M or M - 12 is a segment month.

The state of the last complete build (`audit.build_state`, `audit.build_state_batches`) is what
"changed" is measured against: which batch versions (fingerprints) it saw, the configuration and
model code versions, the first sales month. Snapshots are compared key by key: the newest raw batch
against the staging table the last build made from the snapshot it used (the staging snapshot
models hold exactly that batch).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.core.build_plan import FULL, INCREMENTAL, NOOP, BuildPlan, latest_plan, write_plan
from assets.core.catalog import table_exists

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

# A dirty set covering more than this share of the fact months is rebuilt in full: the
# delete+insert of most months costs more than rebuilding the tables.
MOST_MONTHS = 0.5

COHORT_LAG_MONTHS = 12  # KPIs compare M with M-12 (methodology §11: a definition, not a setting)

# Transactional entities: the dates that put a row into a fact month (several for an opportunity,
# which counts at its creation and at its close).
FACT_DATES = {
    ("erp", "sales_lines"): ("posting_date",),
    ("erp", "shipments"): ("ship_date",),
    ("erp", "rebate_claims"): ("claim_date",),
    ("erp", "payments"): ("payment_date",),
    ("erp", "gl_balances"): ("period_end",),
    ("erp", "fx_rates"): ("period_end",),
    ("crm", "opportunities"): ("created_date", "close_date"),
    ("crm", "activities"): ("activity_date",),
    ("psa", "tickets"): ("created_at",),
    ("psa", "time_entries"): ("work_date",),
}
# Survey responses reach segments only, through the look-back.
SURVEY_DATES = {("crm", "survey_responses"): ("response_date",)}

# Snapshots: the columns a model reads downstream of staging (the rest changes no number).
# psa/agreements: no model reads them beyond staging.
SNAPSHOT_USED_COLUMNS = {
    ("erp", "customers"): ("customer_name", "customer_group", "country", "currency",
                           "payment_terms_days", "status", "created_date"),
    ("erp", "items"): ("product_family",),
    ("crm", "accounts"): ("erp_customer_no", "is_deleted"),
    ("psa", "companies"): ("crm_account_id", "erp_customer_no"),
    ("psa", "agreements"): (),
}

STATE_DDL = (
    "CREATE SCHEMA IF NOT EXISTS audit",
    # One row per build: PENDING from its plan on, COMPLETE once every dbt model is built. The
    # newest COMPLETE one is what the next plan compares with.
    """CREATE TABLE IF NOT EXISTS audit.build_state (
        run_id VARCHAR, built_at TIMESTAMP, status VARCHAR, config_version VARCHAR,
        code_version VARCHAR, first_sales_month DATE)""",
    """CREATE TABLE IF NOT EXISTS audit.build_state_batches (
        run_id VARCHAR, system VARCHAR, entity VARCHAR, batch VARCHAR, fingerprint VARCHAR)""",
    # Which dbt assets each run has built so far: a run builds dbt in steps (around the
    # predicted-value fit), and the build is COMPLETE once every model is built.
    """CREATE TABLE IF NOT EXISTS audit.build_state_steps (run_id VARCHAR, asset_key VARCHAR)""",
)

BatchKey = tuple[str, str, str]  # (system, entity, batch)


@dataclass(frozen=True)
class BuildState:
    run_id: str
    config_version: str
    code_version: str
    first_sales_month: dt.date | None
    batches: dict[BatchKey, str]


@dataclass(frozen=True)
class Dirty:
    """Months whose inputs changed: facts, sales lines as customers see them, survey responses, and
    per transactional entity (`erp__sales_lines`, ...) the months of its own changed rows."""
    fact: frozenset[dt.date] = frozenset()
    sales: frozenset[dt.date] = frozenset()
    survey: frozenset[dt.date] = frozenset()
    entities: Mapping[str, frozenset[dt.date]] = field(default_factory=dict)


@dataclass(frozen=True)
class Windows:
    """The configuration's reach (segments: section of strata.yml)."""
    window_months: int = 12  # W(M) = M-11 .. M (methodology §6)
    survey_lookback_months: int = 24  # a response counts at M when dated in M-23 .. M (§9)
    first_segment_month_index: int = 12  # segments from the 12th sales month on (§6)

    @classmethod
    def of(cls, settings) -> Windows:
        seg = settings.segments
        return cls(seg.window_months, seg.maturity.survey_lookback_months, seg.first_segment_month_index)


@dataclass
class Current:
    """What the warehouse holds now (after this run's loads)."""
    config_version: str
    code_version: str
    first_sales_month: dt.date | None
    batches: dict[BatchKey, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# month arithmetic (months are month-end dates)

def month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def add_months(m: dt.date, n: int) -> dt.date:
    idx = m.year * 12 + m.month - 1 + n
    return month_end(dt.date(idx // 12, idx % 12 + 1, 1))


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], month_end(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


# --------------------------------------------------------------------------------------------
# versions

def code_version(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of the dbt project's models, macros and settings, and of this planner: a change to
    any of them may change any number, so it rebuilds everything."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    files = [project_dir / "dbt_project.yml"]
    for folder in ("models", "macros"):
        files += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    for p in files:
        h.update(p.relative_to(project_dir).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# the state of the last complete build

def create_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    for sql in STATE_DDL:
        con.execute(sql)


def loaded_batches(con: duckdb.DuckDBPyConnection) -> dict[BatchKey, str]:
    """Every batch version in the raw layer now: (system, entity, batch) -> fingerprint."""
    if not table_exists(con, "audit", "load_batches"):
        return {}
    rows = con.execute("SELECT system, entity, batch, fingerprint FROM audit.load_batches "
                       "WHERE status = 'LOADED'").fetchall()
    return {(s, e, b): f for s, e, b, f in rows}


def first_sales_month(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    if not table_exists(con, "raw", "erp__sales_lines"):
        return None
    first = con.execute("SELECT min(posting_date) FROM raw.erp__sales_lines").fetchone()[0]
    return month_end(first) if first else None


def current(con: duckdb.DuckDBPyConnection, config_version: str) -> Current:
    return Current(config_version=config_version, code_version=code_version(),
                   first_sales_month=first_sales_month(con), batches=loaded_batches(con))


def read_state(con: duckdb.DuckDBPyConnection) -> BuildState | None:
    """The state of the newest complete build, or None."""
    if not table_exists(con, "audit", "build_state"):
        return None
    row = con.execute("SELECT run_id, config_version, code_version, first_sales_month FROM "
                      "audit.build_state WHERE status = 'COMPLETE' ORDER BY built_at DESC LIMIT 1").fetchone()
    if row is None:
        return None
    batches = {(s, e, b): f for s, e, b, f in con.execute(
        "SELECT system, entity, batch, fingerprint FROM audit.build_state_batches WHERE run_id = ?",
        [row[0]]).fetchall()}
    return BuildState(run_id=row[0], config_version=row[1], code_version=row[2],
                      first_sales_month=row[3], batches=batches)


def begin_build(con: duckdb.DuckDBPyConnection, run_id: str, now: Current) -> None:
    """Record what this run's build is made from (PENDING until `finish_step` completes it)."""
    create_state_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM audit.build_state WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM audit.build_state_batches WHERE run_id = ?", [run_id])
        con.execute("INSERT INTO audit.build_state VALUES (?, ?, 'PENDING', ?, ?, ?)",
                    [run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), now.config_version,
                     now.code_version, now.first_sales_month])
        if now.batches:
            con.executemany("INSERT INTO audit.build_state_batches VALUES (?, ?, ?, ?, ?)",
                            [(run_id, *k, f) for k, f in sorted(now.batches.items())])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def finish_step(con: duckdb.DuckDBPyConnection, run_id: str, built: set[str], all_keys: set[str]) -> bool:
    """After a successful dbt step: remember what it built; once the run has built every dbt
    asset, its build is COMPLETE (older states are dropped). Returns whether it is."""
    create_state_tables(con)
    con.executemany("INSERT INTO audit.build_state_steps VALUES (?, ?)", [(run_id, k) for k in sorted(built)])
    done = {k for (k,) in con.execute(
        "SELECT DISTINCT asset_key FROM audit.build_state_steps WHERE run_id = ?", [run_id]).fetchall()}
    if not all_keys <= done:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE audit.build_state SET status = 'COMPLETE', built_at = ? WHERE run_id = ?",
                    [dt.datetime.now(dt.UTC).replace(tzinfo=None), run_id])
        for table in ("build_state_batches", "build_state", "build_state_steps"):
            con.execute(f"DELETE FROM audit.{table} WHERE run_id <> ?", [run_id])
        con.execute("DELETE FROM audit.build_state_steps")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True


# --------------------------------------------------------------------------------------------
# 1. decide: FULL, NOOP or go on

def changed_batches(now: dict[BatchKey, str], before: dict[BatchKey, str]) -> set[BatchKey]:
    """Batches loaded, re-delivered (another fingerprint) or gone since the last build."""
    return {k for k in now.keys() | before.keys() if now.get(k) != before.get(k)}


def decide(state: BuildState | None, now: Current, previous_plan: BuildPlan | None) -> tuple[str, str]:
    """(mode, reason) before looking at months: FULL when the reach cannot be bounded, NOOP when
    nothing changed, INCREMENTAL (reason "") when the months decide.

    A build that started after the state was recorded and did not finish may have rebuilt some
    tables from newer inputs (the snapshot staging tables among them): what it changed can no
    longer be told, so the next build is FULL. A NOOP plan builds nothing and is not such a build.
    """
    if state is None:
        return FULL, "no previous complete build is recorded"
    if previous_plan is not None and not previous_plan.is_noop and previous_plan.run_id != state.run_id:
        return FULL, f"the previous build (run {previous_plan.run_id}) did not complete"
    if state.config_version != now.config_version:
        return FULL, (f"the configuration changed (version {state.config_version} -> "
                      f"{now.config_version})")
    if state.code_version != now.code_version:
        return FULL, f"the dbt model code changed (version {state.code_version} -> {now.code_version})"
    if now.first_sales_month != state.first_sales_month:
        return FULL, (f"the first month of sales data changed ({state.first_sales_month} -> "
                      f"{now.first_sales_month}): every segment month moves")
    if not changed_batches(now.batches, state.batches):
        return NOOP, "nothing changed"
    return INCREMENTAL, ""


# --------------------------------------------------------------------------------------------
# 3. reach (pure)

def reach(dirty: Dirty, spine: list[dt.date],
          windows: Windows) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(segment months, KPI months) among the segment months `spine` for the dirty months."""
    segments = set()
    first_sales = min(dirty.sales) if dirty.sales else None
    for m in spine:
        window = add_months(m, -(windows.window_months - 1))
        lookback = add_months(m, -(windows.survey_lookback_months - 1))
        if (any(window <= d <= m for d in dirty.fact)
                or any(lookback <= d <= m for d in dirty.survey)
                or (first_sales is not None and m >= first_sales)):
            segments.add(m)
    kpis = {m for m in spine if m in segments or add_months(m, -COHORT_LAG_MONTHS) in segments}
    return frozenset(segments), frozenset(kpis)


def segment_spine(first_sales: dt.date | None, last_month: dt.date | None,
                  first_segment_index: int) -> list[dt.date]:
    """The months that get segments (methodology §6): from the first_segment_index-th month
    counted from the first sales month to the newest month of data."""
    if first_sales is None or last_month is None:
        return []
    return month_range(add_months(first_sales, first_segment_index - 1), last_month)


def plan_from_dirty(run_id: str, dirty: Dirty, all_fact_months: list[dt.date],
                    spine: list[dt.date], windows: Windows, most_months: float = MOST_MONTHS) -> BuildPlan:
    """The plan for the dirty months; FULL when they cover more than `most_months` of the months
    with data (a dirty month without data, e.g. an opportunity's future close date, costs nothing)."""
    segments, kpis = reach(dirty, spine, windows)
    fact = frozenset(dirty.fact)
    if not fact and not segments:
        return BuildPlan(run_id, NOOP, "the changed batches reach no month")
    covered = fact & set(all_fact_months)
    if all_fact_months and len(covered) > most_months * len(all_fact_months):
        return BuildPlan(run_id, FULL, (f"the changes reach {len(covered)} of {len(all_fact_months)} "
                                        "fact months: a full rebuild is cheaper"))
    shown = ", ".join(m.strftime("%Y-%m") for m in sorted(fact)[:6]) + (" ..." if len(fact) > 6 else "")
    return BuildPlan(run_id, INCREMENTAL,
                     f"{len(fact)} fact month(s) changed ({shown}): {len(segments)} segment and "
                     f"{len(kpis)} KPI month(s) to recompute",
                     fact_months=fact, segment_months=segments, kpi_months=kpis,
                     model_months={"sales": frozenset(dirty.sales), **dirty.entities})


# --------------------------------------------------------------------------------------------
# 2. dirty months (SQL over raw and the last build's staging tables)

def _ql(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def _in_list(values) -> str:
    return ", ".join(_ql(v) for v in sorted(values))


def _months(con, sql: str, args=None) -> set[dt.date]:
    return {month_end(d) for (d,) in con.execute(sql, args or []).fetchall() if d is not None}


def _key_cols(system: str, entity: str) -> tuple[str, ...]:
    from assets.core.contract import entity as contract_entity

    return tuple(contract_entity(system, entity).key)


def _transactional_months(con, system: str, entity: str, batches: set[str],
                          dates: tuple[str, ...]) -> tuple[set[dt.date], str]:
    """Months of every version (raw now, and the last build's winner) of every key that the
    changed batches hold now or held before; and a SQL relation of those keys."""
    key = _key_cols(system, entity)
    cols = ", ".join(key)
    raw, stg = f"raw.{system}__{entity}", f"staging.stg_{system}__{entity}"
    keys = f"SELECT {cols} FROM {raw} WHERE _batch IN ({_in_list(batches)})"
    if table_exists(con, "staging", f"stg_{system}__{entity}"):
        keys += f" UNION SELECT {cols} FROM {stg} WHERE _batch IN ({_in_list(batches)})"
    months: set[dt.date] = set()
    for d in dates:
        months |= _months(con, f"SELECT DISTINCT {d} FROM {raw} SEMI JOIN ({keys}) AS k USING ({cols})")
        if table_exists(con, "staging", f"stg_{system}__{entity}"):
            months |= _months(con, f"SELECT DISTINCT {d} FROM {stg} SEMI JOIN ({keys}) AS k USING ({cols})")
    return months, keys


def _snapshot_dirty_keys(con, system: str, entity: str) -> str | None:
    """SQL of the keys whose used columns differ between the newest raw batch and the snapshot the
    last build used (its staging table); None when no used column can differ."""
    used = SNAPSHOT_USED_COLUMNS[(system, entity)]
    if not used:
        return None
    (key,) = _key_cols(system, entity)
    cols = ", ".join((key, *used))
    raw, stg = f"raw.{system}__{entity}", f"staging.stg_{system}__{entity}"
    new = f"SELECT {cols} FROM {raw} WHERE _batch = (SELECT max(_batch) FROM {raw})"
    old = f"SELECT {cols} FROM {stg}"
    return f"SELECT {key} FROM (({new} EXCEPT {old}) UNION ({old} EXCEPT {new}))"


def dirty_months(con: duckdb.DuckDBPyConnection, changed: set[BatchKey]) -> Dirty:
    by_entity: dict[tuple[str, str], set[str]] = {}
    for s, e, b in changed:
        by_entity.setdefault((s, e), set()).add(b)
    fact: set[dt.date] = set()
    sales: set[dt.date] = set()
    survey: set[dt.date] = set()
    entities: dict[str, frozenset[dt.date]] = {}

    for (s, e), batches in by_entity.items():
        if (s, e) in FACT_DATES:
            months, keys = _transactional_months(con, s, e, batches, FACT_DATES[(s, e)])
            entities[f"{s}__{e}"] = frozenset(months)
            fact |= months
            if (s, e) == ("erp", "sales_lines"):
                sales |= months
                # A payment's carrying cost reads its invoice's posting date (methodology §4).
                fact |= _months(con, "SELECT DISTINCT payment_date FROM raw.erp__payments WHERE "
                                f"document_no IN (SELECT document_no FROM ({keys}))")
            if (s, e) == ("erp", "fx_rates"):
                sales |= months
                # An opportunity converts at the rate of its newest version's month (methodology §1).
                fact |= _months(con, _opportunities_touching(
                    f"SELECT DISTINCT last_day(period_end) FROM raw.erp__fx_rates WHERE _batch IN "
                    f"({_in_list(batches)})"))
        elif (s, e) in SURVEY_DATES:
            months, _ = _transactional_months(con, s, e, batches, SURVEY_DATES[(s, e)])
            survey |= months

    # Snapshots: the keys whose used columns changed, then the months where those keys have rows,
    # following the crosswalks customers -> CRM accounts -> PSA companies (methodology §2).
    snap = {k for k in by_entity if k in SNAPSHOT_USED_COLUMNS}
    keys = {name: _snapshot_dirty_keys(con, s, e) if (s, e) in snap else None
            for name, (s, e) in (("customers", ("erp", "customers")), ("accounts", ("crm", "accounts")),
                                 ("companies", ("psa", "companies")), ("items", ("erp", "items")))}

    def also(name: str, table: str, column: str, among: str) -> None:
        """Add the keys of `table` (raw now, and the last build's staging) whose `column` is among."""
        system, entity = table.split("__")
        key = _key_cols(system, entity)[0]
        sql = (f"SELECT {key} FROM raw.{table} WHERE {column} IN ({among}) "
               f"UNION SELECT {key} FROM staging.stg_{table} WHERE {column} IN ({among})")
        keys[name] = f"{keys[name]} UNION {sql}" if keys[name] else sql

    def rows(table: str, column: str, among: str, *dates: str) -> set[dt.date]:
        return set().union(*(_months(con, f"SELECT DISTINCT {d} FROM raw.{table} WHERE {column} IN ({among})")
                             for d in dates))

    if keys["customers"]:
        sales |= rows("erp__sales_lines", "customer_no", keys["customers"], "posting_date")
        fact |= sales
        for table, date in (("erp__shipments", "ship_date"), ("erp__rebate_claims", "claim_date"),
                            ("erp__payments", "payment_date")):
            fact |= rows(table, "customer_no", keys["customers"], date)
        also("accounts", "crm__accounts", "erp_customer_no", keys["customers"])
        also("companies", "psa__companies", "erp_customer_no", keys["customers"])
    if keys["accounts"]:
        fact |= rows("crm__activities", "account_id", keys["accounts"], "activity_date")
        fact |= rows("crm__opportunities", "account_id", keys["accounts"], "created_date", "close_date")
        survey |= rows("crm__survey_responses", "account_id", keys["accounts"], "response_date")
        also("companies", "psa__companies", "crm_account_id", keys["accounts"])
    if keys["companies"]:
        fact |= rows("psa__tickets", "company_id", keys["companies"], "created_at")
        fact |= rows("psa__time_entries", "company_id", keys["companies"], "work_date")
    if keys["items"]:
        items_sales = rows("erp__sales_lines", "item_no", keys["items"], "posting_date")
        fact |= items_sales
        sales |= items_sales
    return Dirty(frozenset(fact), frozenset(sales), frozenset(survey), entities)


def _opportunities_touching(version_months_sql: str) -> str:
    """Created and close dates of the opportunities whose newest version falls in those months."""
    newest = ("SELECT * FROM raw.crm__opportunities QUALIFY row_number() OVER ("
              "PARTITION BY opportunity_id ORDER BY last_modified_at DESC) = 1")
    return (f"SELECT created_date FROM ({newest}) WHERE last_day(CAST(last_modified_at AS DATE)) "
            f"IN ({version_months_sql}) UNION SELECT close_date FROM ({newest}) WHERE "
            f"last_day(CAST(last_modified_at AS DATE)) IN ({version_months_sql})")


# --------------------------------------------------------------------------------------------
# the plan

def fact_months_now(con: duckdb.DuckDBPyConnection, now: Current) -> list[dt.date]:
    """Every month from the first sales month to the newest batch month."""
    months = [dt.date(int(b[:4]), int(b[5:7]), 1) for (_, _, b) in now.batches if len(b) == 7]
    if now.first_sales_month is None or not months:
        return []
    return month_range(now.first_sales_month, month_end(max(months)))


def plan_build(con: duckdb.DuckDBPyConnection, run_id: str, config_version: str,
               windows: Windows, most_months: float = MOST_MONTHS) -> tuple[BuildPlan, Current]:
    """The plan of this run's dbt build (not yet recorded) and the state it builds."""
    now = current(con, config_version)
    state = read_state(con)
    previous = latest_plan(con)
    mode, reason = decide(state, now, previous)
    if mode != INCREMENTAL:
        return BuildPlan(run_id, mode, reason), now
    dirty = dirty_months(con, changed_batches(now.batches, state.batches))
    all_months = fact_months_now(con, now)
    spine = segment_spine(now.first_sales_month, all_months[-1] if all_months else None,
                          windows.first_segment_month_index)
    return plan_from_dirty(run_id, dirty, all_months, spine, windows, most_months), now


def prepare_build(con: duckdb.DuckDBPyConnection, run_id: str, settings,
                  full_refresh: bool = False, most_months: float = MOST_MONTHS) -> BuildPlan:
    """Plan this run's dbt build, record the plan and the PENDING state it builds."""
    plan, now = plan_build(con, run_id, settings.version, Windows.of(settings), most_months)
    if full_refresh:
        plan = BuildPlan(run_id, FULL, "a full refresh was asked for")
    write_plan(con, plan, settings.version, now.code_version)
    begin_build(con, run_id, now)
    return plan
