"""The row rules, as SQL: each value's type, enum, emptiness, the batch month, and key uniqueness.

For each part file one SELECT turns the delivered columns into three columns per contract column:
`<col>__raw` (the value as delivered, VARCHAR), `<col>` (the typed value, NULL when it does not
parse) and `<col>__err` (the reason the row is quarantined because of that column, NULL when the
value is fine). The parts are stacked into one stage table; duplicate keys are found over the whole
batch and give `_key__err`. A row loads when every `__err` is NULL.

Strictness: DuckDB's casts are lenient (`TRY_CAST('1.5' AS BIGINT)` is 2, `'0x10'` is 16,
`'2026-2-3'` a date, an offset is dropped when casting to TIMESTAMP), so a value must first match the
contract's text form (a regular expression) and only then is it cast.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from assets.core.contract import Column, Entity
from assets.core.sql import sql_ident, sql_literal

from .reader import INT_TYPES, Source

INT_RE = r"[+-]?[0-9]+"
DEC_RE = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"  # any decimal text
DEC12_RE = r"[+-]?([0-9]+(\.[0-9]{0,12}0*)?|\.[0-9]{1,12}0*)"  # ... that DECIMAL(38,12) holds exactly
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TS_RE = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
         r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)")

EMPTY = "empty value: the column is required"
NOT_INTEGER = "not an integer (digits with an optional sign)"
INTEGER_RANGE = "integer out of range (BIGINT)"
NOT_DECIMAL = "not a decimal (digits with '.' as the decimal point, no thousands separators)"
DECIMAL_SCALE = "more than 12 fractional digits: DECIMAL(38,12) would round the value"
DECIMAL_RANGE = "decimal out of range: more than 26 integer digits"
NOT_DATE = "not a date (YYYY-MM-DD)"
NOT_TIMESTAMP = ("not an ISO 8601 timestamp with Z or a UTC offset, at most microseconds "
                 "(e.g. 2026-10-31T14:05:00Z)")
NOT_BOOLEAN = "not a boolean (true or false)"


def not_in_enum(col: Column) -> str:
    return f"not one of the allowed values {', '.join(col.enum)} (exact, upper case)"


def outside_month(col: Column, batch: str) -> str:
    utc = " (UTC date)" if col.type == "timestamp" else ""
    return f"{col.name}{utc} is outside the batch month {batch}"


def duplicate_key(ent: Entity, count_sql: str) -> str:
    """SQL for the reason of a row whose key occurs `count_sql` times."""
    key = ", ".join(ent.key)
    return (f"{sql_literal(f'key ({key}) occurs ')} || {count_sql} || "
            f"{sql_literal(' times in this batch: every row with this key is quarantined')}")


@dataclass(frozen=True)
class Conditional:
    """A column whose emptiness depends on another column's value (the contract's notes)."""

    column: str
    on: str
    required_when: tuple[str, ...]
    empty_when: tuple[str, ...]


# docs/landing-contract.md: return_reason is required on a credit memo line, and wanted on no invoice line.
CONDITIONALS: dict[tuple[str, str], tuple[Conditional, ...]] = {
    ("erp", "sales_lines"): (Conditional("return_reason", "document_type", ("CREDIT_MEMO",), ("INVOICE",)),),
}

KEY_ERR = "_key__err"


def raw(col: str) -> str:
    return sql_ident(f"{col}__raw")


def err(col: str) -> str:
    return sql_ident(f"{col}__err")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def _match(expr: str, regex: str) -> str:
    return f"regexp_full_match({expr}, {sql_literal(regex)})"


def value_exprs(col: Column, src: str, src_type: str) -> tuple[str, str]:
    """(raw text, typed value) SQL for a contract column read from `src` of DuckDB type `src_type`."""
    target = col.duckdb_type
    if src_type == "VARCHAR":
        r = src
        typed = {
            "string": f"nullif({r}, '')",
            "integer": f"CASE WHEN {_match(r, INT_RE)} THEN TRY_CAST({r} AS BIGINT) END",
            "decimal": f"CASE WHEN {_match(r, DEC12_RE)} THEN TRY_CAST({r} AS DECIMAL(38,12)) END",
            "date": f"CASE WHEN {_match(r, DATE_RE)} THEN TRY_CAST({r} AS DATE) END",
            "timestamp": f"CASE WHEN {_match(r, TS_RE)} THEN "
                         f"timezone('UTC', TRY_CAST({r} AS TIMESTAMPTZ)) END",
            "boolean": f"CASE lower({r}) WHEN 'true' THEN true WHEN 'false' THEN false END",
        }[col.type]
        return r, f"CAST({typed} AS {target})"
    r = f"CAST({src} AS VARCHAR)"
    base = src_type.split("(")[0]
    if col.type == "decimal" and base == "DECIMAL" and int(src_type.rstrip(")").split(",")[1]) > 12:
        typed = f"CASE WHEN round({src}, 12) = {src} THEN TRY_CAST({src} AS DECIMAL(38,12)) END"
    elif col.type == "timestamp" and base == "TIMESTAMP WITH TIME ZONE":
        typed = f"timezone('UTC', {src})"
    elif col.type == "string" and base in INT_TYPES:
        typed = r
    else:
        typed = f"TRY_CAST({src} AS {target})"  # naive Parquet timestamps are taken as UTC
    return r, f"CAST({typed} AS {target})"


def _type_reason(col: Column, r: str, text_source: bool) -> str:
    """SQL for why a non-empty value did not convert (its typed value is NULL)."""
    decimal = (f"CASE WHEN NOT {_match(r, DEC_RE)} THEN {sql_literal(NOT_DECIMAL)} "
               f"WHEN NOT {_match(r, DEC12_RE)} "
               f"THEN {sql_literal(DECIMAL_SCALE)} ELSE {sql_literal(DECIMAL_RANGE)} END")
    if not text_source:  # a typed Parquet column: only the conversion can fail
        return {"integer": sql_literal(INTEGER_RANGE), "decimal": decimal}.get(
            col.type, sql_literal(f"value does not convert to {col.duckdb_type}"))
    return {
        "integer": f"CASE WHEN NOT {_match(r, INT_RE)} THEN {sql_literal(NOT_INTEGER)} "
                   f"ELSE {sql_literal(INTEGER_RANGE)} END",
        "decimal": decimal,
        "date": sql_literal(NOT_DATE),
        "timestamp": sql_literal(NOT_TIMESTAMP),
        "boolean": sql_literal(NOT_BOOLEAN),
    }[col.type]


def error_expr(ent: Entity, col: Column, batch: str, text_source: bool) -> str:
    """The reason a row is quarantined for this column (NULL when the value is fine).

    One reason per column, the first that applies: empty, unwanted, unparsable, outside the enum,
    outside the batch month.
    """
    r, t = raw(col.name), sql_ident(col.name)
    cond = {c.column: c for c in CONDITIONALS.get((ent.system, ent.name), ())}.get(col.name)
    if not col.nullable:
        empty = sql_literal(EMPTY)
    elif cond:
        why = f"empty value: {col.name} is required when {cond.on} is {', '.join(cond.required_when)}"
        empty = f"CASE WHEN {raw(cond.on)} IN {_in(cond.required_when)} THEN {sql_literal(why)} END"
    else:
        empty = "NULL"
    whens = [f"WHEN {r} IS NULL OR {r} = '' THEN {empty}"]
    if cond:
        why = (f"value where the contract wants none: {col.name} must be empty when {cond.on} is "
               f"{', '.join(cond.empty_when)}")
        whens.append(f"WHEN {raw(cond.on)} IN {_in(cond.empty_when)} THEN {sql_literal(why)}")
    if col.type != "string":
        whens.append(f"WHEN {t} IS NULL THEN {_type_reason(col, r, text_source)}")
    if col.enum:
        whens.append(f"WHEN {r} NOT IN {_in(col.enum)} THEN {sql_literal(not_in_enum(col))}")
    if col.name == ent.batch_by:
        whens.append(f"WHEN strftime({t}, '%Y-%m') <> {sql_literal(batch)} "
                     f"THEN {sql_literal(outside_month(col, batch))}")
    return "CASE " + " ".join(whens) + " END"


def source_select(ent: Entity, src: Source, part: int) -> str:
    """One part file as stage columns: _part, _file, _line, _extra, then raw and typed per column."""
    cols = [f"{part} AS _part", f"{sql_literal(src.rel)} AS _file", "_line"]
    if src.extras:
        pairs = ", ".join(
            f"{sql_literal(name)}, CAST(t.{sql_ident(c)} AS VARCHAR)" for name, c in src.extras.items()
        )
        cols.append(f"CAST(json_object({pairs}) AS JSON) AS _extra")
    else:
        cols.append("CAST(NULL AS JSON) AS _extra")
    for col in ent.columns:
        r, typed = value_exprs(col, f"t.{sql_ident(src.columns[col.name])}", src.types[col.name])
        cols += [f"{r} AS {raw(col.name)}", f"{typed} AS {sql_ident(col.name)}"]
    return f"SELECT {', '.join(cols)} FROM {src.line_sql}"


@dataclass
class Stage:
    table: str  # every delivered row with raw, typed and __err columns (and _key__err)
    rows: int
    bad_rows: int
    error_columns: list[str]  # the __err columns, _key__err last

    @property
    def good(self) -> str:
        return f"coalesce({', '.join(sql_ident(c) for c in self.error_columns)}) IS NULL"


def build_stage(con: duckdb.DuckDBPyConnection, ent: Entity, batch: str, sources: list[Source],
                prefix: str) -> Stage:
    """Apply every row rule to the batch's part files; returns the stage table (a temp table)."""
    staged, stage = f"{prefix}_staged", f"{prefix}_stage"
    # Every part file's values are checked in its own source types; a file whose column is VARCHAR
    # (CSV, or text in Parquet) goes through the text rules.
    parts = []
    for i, src in enumerate(sources):
        errs = ", ".join(
            f"{error_expr(ent, c, batch, src.types[c.name] == 'VARCHAR')} AS {err(c.name)}"
            for c in ent.columns
        )
        parts.append(f"SELECT *, {errs} FROM ({source_select(ent, src, i)})")
    con.execute(f"CREATE TEMP TABLE {staged} AS " + " UNION ALL BY NAME ".join(parts))

    keys = [sql_ident(k) for k in ent.key]
    dups = f"{prefix}_dups"
    con.execute(
        f"CREATE TEMP TABLE {dups} AS SELECT {', '.join(keys)}, count(*) AS _n FROM {staged} "
        f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in keys)} GROUP BY ALL HAVING count(*) > 1"
    )
    if con.execute(f"SELECT count(*) FROM {dups}").fetchone()[0]:
        on = " AND ".join(f"s.{k} = d.{k}" for k in keys)
        con.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT s.*, CASE WHEN d._n IS NOT NULL THEN "
            f"{duplicate_key(ent, 'd._n')} END AS {KEY_ERR} FROM {staged} AS s LEFT JOIN {dups} AS d ON {on}"
        )
        con.execute(f"DROP TABLE {staged}")
    else:
        con.execute(f"ALTER TABLE {staged} RENAME TO {stage}")
        con.execute(f"ALTER TABLE {stage} ADD COLUMN {KEY_ERR} VARCHAR")
    con.execute(f"DROP TABLE {dups}")
    error_columns = [f"{c}__err" for c in ent.column_names] + [KEY_ERR]
    s = Stage(stage, 0, 0, error_columns)
    s.rows, bad = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT ({s.good})) FROM {stage}"
    ).fetchone()
    s.bad_rows = bad
    return s


def quarantine_select(ent: Entity, stage: Stage) -> str:
    """One row per (row, column, reason): system, entity, batch come as parameters $1..$3."""
    parts = [
        f"SELECT _file, _line, {sql_literal(c)} AS \"column\", {raw(c)} AS value, {err(c)} AS reason "
        f"FROM {stage.table} WHERE {err(c)} IS NOT NULL"
        for c in ent.column_names
    ]
    key_value = "to_json(list_value(" + ", ".join(raw(k) for k in ent.key) + "))"
    parts.append(
        f"SELECT _file, _line, {sql_literal(','.join(ent.key))}, CAST({key_value} AS VARCHAR), {KEY_ERR} "
        f"FROM {stage.table} WHERE {KEY_ERR} IS NOT NULL"
    )
    return " UNION ALL ".join(parts)
