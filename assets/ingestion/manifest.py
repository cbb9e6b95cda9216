"""`_manifest.json`: reading it and verifying a batch against it (files, rows, sha256, totals).

A manifest that cannot be read, names another batch, lists other files than the folder holds, or
whose counts, checksums or control totals differ from the delivered files refuses the batch. A
control total is the exact decimal sum of the column over every delivered row (quarantined rows
included, an empty value adds 0); a value in that column that is not a decimal makes the total
unverifiable, which refuses the batch too. Sums are exact: DuckDB adds the values DECIMAL(38,12)
holds exactly, Python's `Decimal` adds the rare rest (more fractional digits or too large).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from pathlib import Path

import duckdb

from assets.core.contract import Column, Entity
from assets.core.sql import sql_ident, sql_literal

from .errors import Refused
from .landing_scan import BatchRef
from .reader import Source
from .rules import DEC12_RE, DEC_RE, Stage, raw

RESEND = "re-extract the batch and deliver it again with a manifest written for exactly those files"


EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # decimal sums without rounding

@dataclass(frozen=True)
class ManifestFile:
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    rel: str
    files: dict[str, ManifestFile]
    control_totals: dict[str, Decimal]  # contract column -> expected sum


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and re.fullmatch(DEC_RE, value.strip()):
        return Decimal(value.strip())
    return None


def read_manifest(path: Path, rel: str, ref: BatchRef, ent: Entity) -> Manifest:
    """Parse and sanity-check a manifest (refusing a malformed one)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Refused(rel, f"the manifest cannot be read as JSON ({e})", RESEND) from None
    if not isinstance(body, dict):
        raise Refused(rel, "the manifest is not a JSON object", RESEND)
    for k in ("system", "entity", "batch"):
        if k in body and body[k] != getattr(ref, k):
            raise Refused(rel, f"the manifest is for {k} {body[k]!r}, but it lies in the folder of "
                               f"{ref.rel}", "put the manifest in its own batch's folder")
    files = body.get("files")
    if not isinstance(files, list) or not files:
        raise Refused(rel, "the manifest has no 'files' list", RESEND)
    parsed: dict[str, ManifestFile] = {}
    for f in files:
        ok = (isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("rows"), int)
              and not isinstance(f.get("rows"), bool) and isinstance(f.get("sha256"), str))
        if not ok:
            raise Refused(rel, f"a 'files' entry is not {{name, rows, sha256}}: {f!r}", RESEND)
        parsed[f["name"]] = ManifestFile(f["rows"], f["sha256"].strip().lower())
    totals: dict[str, Decimal] = {}
    given = body.get("control_totals") or {}
    if not isinstance(given, dict):
        raise Refused(rel, "the manifest's 'control_totals' is not an object", RESEND)
    by_norm = {c.lower(): c for c in ent.column_names}
    for name, value in given.items():
        col = by_norm.get(str(name).strip().lower())
        if col is None:
            raise Refused(rel, f"the manifest has a control total for {name!r}, which is not a column "
                               f"of {ent.system}/{ent.name}", RESEND)
        expected = _decimal(value)
        if expected is None:
            raise Refused(rel, f"the manifest's control total of {col} ({value!r}) is not a decimal",
                          RESEND)
        totals[col] = expected
    return Manifest(rel, parsed, totals)


def check_file_list(man: Manifest, data: list[Path]) -> None:
    names = {p.name for p in data}
    missing = sorted(set(man.files) - names)
    if missing:
        raise Refused(man.rel, f"the manifest lists {', '.join(missing)}, which the batch folder does "
                               "not hold", "deliver every file the manifest names, or " + RESEND)
    unlisted = sorted(names - set(man.files))
    if unlisted:
        raise Refused(man.rel, f"the batch folder holds {', '.join(unlisted)}, which the manifest does "
                               "not list", "remove the stray file, or " + RESEND)


def check_checksum(man: Manifest, name: str, rel: str, sha256: str) -> None:
    if man.files[name].sha256 != sha256:
        raise Refused(rel, f"the file's sha256 is {sha256}, the manifest says {man.files[name].sha256} "
                           "(the file changed or was cut short after extraction)", RESEND)


def check_rows(man: Manifest, name: str, src: Source) -> None:
    if man.files[name].rows != src.rows:
        raise Refused(src.rel, f"the file has {src.rows} data rows, the manifest says "
                               f"{man.files[name].rows}", RESEND)


def check_control_totals(con: duckdb.DuckDBPyConnection, man: Manifest, stage: Stage, ent: Entity) -> None:
    """Compare every control total with the exact sum of its column over every delivered row.

    Two scans of the stage compute every column's parts (`_sum_values`); the columns are then judged
    in the manifest's order, so the first one that differs is the one the refusal names.
    """
    cols = [ent.column(c) for c in man.control_totals]
    if not cols:
        return
    try:
        values = _sum_values(con, stage, cols)
    except duckdb.Error:
        values = None  # name the column that cannot be summed: one column at a time
    for i, col in enumerate(cols):
        if values is None:
            try:
                parts = _sum_values(con, stage, [col])
            except duckdb.Error as e:
                raise Refused(man.rel, f"the control total of {col.name} cannot be computed: {e}",
                              "check the column's values") from None
        else:
            parts = values[3 * i: 3 * i + 3]
        actual = _exact_sum(con, man, stage, col, *parts)
        expected = man.control_totals[col.name]
        if actual != expected:
            raise Refused(man.rel, f"the control total of {col.name} is {expected} in the manifest, but "
                                   f"the delivered rows sum to {actual} (difference {actual - expected})",
                          "the batch is incomplete or was changed after extraction: " + RESEND)


def _is_decimal(col: Column) -> str:
    return f"regexp_full_match({raw(col.name)}, {sql_literal(DEC_RE)})"


def _sum_terms(col: Column) -> tuple[str, str, str]:
    """SQL for (the exact sum of the values DECIMAL(38,12) holds, the condition of a value it does
    not hold, the condition of a value that is no decimal at all)."""
    r = raw(col.name)
    if _typed_exact(col):
        # The typed value is exact wherever it is set; only the rest needs a look at the text.
        typed = sql_ident(col.name)
        summed, rest = f"sum({typed})", f"{typed} IS NULL AND {r} <> ''"
    else:
        fits = (f"regexp_full_match({r}, {sql_literal(DEC12_RE)}) "
                f"AND TRY_CAST({r} AS DECIMAL(38,12)) IS NOT NULL")
        summed = f"sum(TRY_CAST({r} AS DECIMAL(38,12))) FILTER (WHERE {fits})"
        rest = f"{r} <> '' AND NOT ({fits})"
    return summed, rest, f"{rest} AND NOT {_is_decimal(col)}"


def _typed_exact(col: Column) -> bool:
    """Whether the column's typed value is its exact decimal wherever it is set. A value it leaves
    unset though one was delivered failed its type rule, so only quarantined rows hold such values."""
    return col.type in ("integer", "decimal")


def _sum_values(con, stage: Stage, cols: list[Column]) -> list:
    """Per column: the sum, how many values are no decimal, the long decimals as text (a list)."""
    terms = [_sum_terms(c) for c in cols]
    sums = con.execute(f"SELECT {', '.join(t[0] for t in terms)} FROM {stage.table}").fetchone()
    # The values the sum leaves out: for typed columns they lie in quarantined rows only (few).
    where = f" WHERE NOT ({stage.good})" if all(_typed_exact(c) for c in cols) else ""
    rest = con.execute(
        "SELECT " + ", ".join(
            f"count(*) FILTER (WHERE {bad}), list({raw(c.name)}) FILTER (WHERE {rest} AND {_is_decimal(c)})"
            for c, (_, rest, bad) in zip(cols, terms, strict=True))
        + f" FROM {stage.table}{where}"
    ).fetchone()
    return [v for i in range(len(cols)) for v in (sums[i], rest[2 * i], rest[2 * i + 1])]


def _exact_sum(con, man: Manifest, stage: Stage, col: Column, total, n_bad: int, long_values) -> Decimal:
    if n_bad:
        bad = _sum_terms(col)[2]
        file, line, value = con.execute(
            f"SELECT _file, _line, {raw(col.name)} FROM {stage.rows_sql()} WHERE {bad} "
            "ORDER BY _part, _line LIMIT 1"
        ).fetchone()
        raise Refused(file, f"the control total of {col.name} cannot be verified: {n_bad} value(s) in "
                            f"that column are not decimals (first on line {line}: {value!r})",
                      "deliver the column with '.' as the decimal point and no thousands separators, "
                      "then deliver the batch again")
    # exact: Python's default context keeps 28 digits and would round a long sum
    exact = Decimal(total or 0)
    for v in long_values or ():
        exact = EXACT.add(exact, Decimal(v))
    return exact
