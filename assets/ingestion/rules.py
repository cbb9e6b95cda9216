"""The row rules, as SQL: each value's type, enum, emptiness, the batch month, and key uniqueness.

For each part file one statement reads it (`reader.Source.from_sql`: for CSV, DuckDB's parser),
applies every rule and appends its rows to the batch's stage table: per contract column
`<col>__raw` (the value as delivered, VARCHAR) and `<col>` (the typed value, NULL when it does not
parse; a string column's typed value is its raw one, so it is not stored twice: `typed`), and per
row `_bad`, whether any column breaks a rule. Why a column breaks its rule (`error_expr`, one reason
per column) is computed again for the bad rows only, when they are written to the quarantine: the
same expression over the same stored values, so the stage does not hold a reason column per column.
Parts are appended in part order and each keeps its file's row order, so a row's position in the
stage gives its file and line (`Stage.rows_sql`). Duplicate keys are found over the whole batch and
give `_key__err`. A row loads when it is not bad and its key is not duplicated.

Strictness: DuckDB's casts are lenient (`TRY_CAST('1.5' AS BIGINT)` is 2, `'0x10'` is 16,
`'2026-2-3'` a date, an offset is dropped when casting to TIMESTAMP), so a value must first match the
contract's text form (a regular expression) and only then is it cast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from assets.core.contract import Column, Entity
from assets.core.sql import sql_ident, sql_literal

from .reader import INT_TYPES, Source, csv_refusal

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


def typed(col: Column, alias: str = "") -> str:
    """SQL of the column's typed value in the stage table (`alias.` prefixes its stage columns)."""
    if col.type == "string":
        return f"nullif({alias}{raw(col.name)}, '')"
    return f"{alias}{sql_ident(col.name)}"


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
        "integer": (f"CASE WHEN NOT {_match(r, INT_RE)} THEN {sql_literal(NOT_INTEGER)} "
                    f"ELSE {sql_literal(INTEGER_RANGE)} END"),
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


def source_select(ent: Entity, src: Source, batch: str, part: int) -> str:
    """One part file as stage columns: _part, _src_line, _extra, raw and typed per column, _bad.

    `_src_line` is the line the reader gives (Parquet), NULL for CSV (its line comes from the row's
    position, `Stage.rows_sql`).
    """
    cols = [f"CAST({part} AS INTEGER) AS _part", f"CAST({src.line_sql} AS BIGINT) AS _src_line"]
    if src.extras:
        pairs = ", ".join(
            f"{sql_literal(name)}, CAST(t.{sql_ident(c)} AS VARCHAR)" for name, c in src.extras.items()
        )
        cols.append(f"CAST(json_object({pairs}) AS JSON) AS _extra")
    else:
        cols.append("CAST(NULL AS JSON) AS _extra")
    for col in ent.columns:
        r, value = value_exprs(col, f"t.{sql_ident(src.columns[col.name])}", src.types[col.name])
        cols.append(f"{r} AS {raw(col.name)}")
        if col.type != "string":
            cols.append(f"{value} AS {sql_ident(col.name)}")
    reasons = ", ".join(error_expr(ent, c, batch, text_source(src, c)) for c in ent.columns)
    bad = f"coalesce({reasons}) IS NOT NULL"
    return f"SELECT *, {bad} AS _bad FROM (SELECT {', '.join(cols)} FROM {src.from_sql})"


def text_source(src: Source, col: Column) -> bool:
    """Every part file's values are checked in its own source types; a file whose column is VARCHAR
    (CSV, or text in Parquet) goes through the text rules."""
    return src.types[col.name] == "VARCHAR"


@dataclass
class Stage:
    """The batch's stage table: every delivered row with raw and typed columns and `_bad`."""

    table: str
    ent: Entity
    batch: str
    parts: list[Source] = field(default_factory=list)  # in part order, rows counted
    offsets: list[int] = field(default_factory=list)  # the stage rowid of each part's first row
    lines: str | None = None  # temp table (_part, _ord, _line) for CSV parts not one line per row
    lined: set[int] = field(default_factory=set)  # the parts `lines` covers
    rows: int = 0
    bad_rows: int = 0
    duplicate_keys: bool = False  # whether the stage has `_key__err`

    @property
    def good(self) -> str:
        return f"NOT _bad AND {KEY_ERR} IS NULL" if self.duplicate_keys else "NOT _bad"

    def reason(self, col: Column) -> str:
        """SQL for why a stage row breaks the column's rule (NULL when it does not)."""
        texts = [i for i, src in enumerate(self.parts) if text_source(src, col)]
        text = error_expr(self.ent, col, self.batch, True)
        typed_source = error_expr(self.ent, col, self.batch, False)
        if len(texts) == len(self.parts):
            why = text
        elif not texts:
            why = typed_source
        else:
            why = f"CASE WHEN _part IN ({', '.join(map(str, texts))}) THEN {text} ELSE {typed_source} END"
        return f"CAST({why} AS VARCHAR)"

    def rows_sql(self) -> str:
        """The stage's rows with their `_file` and physical `_line` (a FROM clause, alias s)."""
        files, lines, ords = [], [], []
        for i, src in enumerate(self.parts):
            files.append(sql_literal(src.rel))
            ords.append(f"s.rowid - {self.offsets[i]}")
            if src.fmt != "csv":
                lines.append("s._src_line")
            elif i in self.lined:
                lines.append("l._line")
            else:  # one line per row: row k of the file is on line header + 1 + k
                lines.append(f"s.rowid + {src.header_lines + 1 - self.offsets[i]}")
        join = ""
        if self.lines:
            join = f" LEFT JOIN {self.lines} AS l ON l._part = s._part AND l._ord = {_by_part(ords)}"
        return (f"(SELECT s.*, {_by_part(files)} AS _file, {_by_part(lines)} AS _line "
                f"FROM {self.table} AS s{join}) AS s")


def _by_part(exprs: list[str]) -> str:
    """`exprs[s._part]` as SQL."""
    if len(set(exprs)) == 1:
        return exprs[0]
    return "CASE s._part " + " ".join(f"WHEN {i} THEN {e}" for i, e in enumerate(exprs)) + " END"


def append_part(con: duckdb.DuckDBPyConnection, stage: Stage, src: Source) -> None:
    """Read one part file through the row rules into the stage (creating it with the first part);
    sets `src.rows`. A CSV file DuckDB's reader rejects refuses the batch."""
    part = len(stage.parts)
    select = source_select(stage.ent, src, stage.batch, part)
    sql = (f"CREATE TEMP TABLE {stage.table} AS {select}" if part == 0
           else f"INSERT INTO {stage.table} BY NAME {select}")
    try:
        added = con.execute(sql).fetchone()[0]  # both statements return the rows they wrote
    except duckdb.Error as e:
        if src.fmt == "csv":
            raise csv_refusal(src.rel, e) from None
        raise
    stage.offsets.append(stage.rows)
    src.rows, stage.rows = added, stage.rows + added
    stage.parts.append(src)


def add_lines(con: duckdb.DuckDBPyConnection, stage: Stage, part: int, lines: str) -> None:
    """Use temp table `lines(_ord, _line)` (`reader.csv_lines`) for the line numbers of a part."""
    if stage.lines is None:
        stage.lines = f"{stage.table}_lines"
        con.execute(f"CREATE TEMP TABLE {stage.lines} (_part INTEGER, _ord BIGINT, _line BIGINT)")
    con.execute(f"INSERT INTO {stage.lines} SELECT {part}, _ord, _line FROM {lines}")
    stage.lined.add(part)


def finish_stage(con: duckdb.DuckDBPyConnection, stage: Stage, prefix: str) -> None:
    """Find the keys delivered more than once over the whole batch, then count the bad rows."""
    ent = stage.ent
    keys = [ent.column(k) for k in ent.key]
    dups = f"{prefix}_dups"
    con.execute(
        f"CREATE TEMP TABLE {dups} AS SELECT "
        f"{', '.join(f'{typed(k)} AS {sql_ident(k.name)}' for k in keys)}, "
        f"count(*) AS _n FROM {stage.table} WHERE {' AND '.join(f'{typed(k)} IS NOT NULL' for k in keys)} "
        "GROUP BY ALL HAVING count(*) > 1"
    )
    if con.execute(f"SELECT count(*) FROM {dups}").fetchone()[0]:
        # An UPDATE keeps every row's position in the stage (its line number).
        on = " AND ".join(f"{typed(k, 's.')} = d.{sql_ident(k.name)}" for k in keys)
        con.execute(f"ALTER TABLE {stage.table} ADD COLUMN {KEY_ERR} VARCHAR")
        con.execute(f"UPDATE {stage.table} AS s SET {KEY_ERR} = {duplicate_key(ent, 'd._n')} "
                    f"FROM {dups} AS d WHERE {on}")
        stage.duplicate_keys = True
    con.execute(f"DROP TABLE {dups}")
    stage.bad_rows = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT ({stage.good})) FROM {stage.table}").fetchone()[0]


def quarantine_select(ent: Entity, stage: Stage) -> str:
    """One row per (row, column, reason): system, entity, batch come as parameters $1..$3."""
    reasons = ", ".join(f"{stage.reason(c)} AS {err(c.name)}" for c in ent.columns)
    bad = f"(SELECT *, {reasons} FROM {stage.rows_sql()} WHERE NOT ({stage.good}))"
    parts = [
        f"SELECT _file, _line, {sql_literal(c)} AS \"column\", {raw(c)} AS value, {err(c)} AS reason "
        f"FROM {bad} WHERE {err(c)} IS NOT NULL"
        for c in ent.column_names
    ]
    if stage.duplicate_keys:
        key_value = "to_json(list_value(" + ", ".join(raw(k) for k in ent.key) + "))"
        parts.append(
            f"SELECT _file, _line, {sql_literal(','.join(ent.key))}, CAST({key_value} AS VARCHAR), {KEY_ERR} "
            f"FROM {stage.rows_sql()} WHERE {KEY_ERR} IS NOT NULL"
        )
    return " UNION ALL ".join(parts)
