"""Opening one part file for the row rules, with DuckDB's own readers.

CSV is read with `read_csv` and explicit options (comma, RFC 4180 quotes, strict mode, every column
VARCHAR, no sniffing), so a value reaches the rules exactly as it was written. The CSV is parsed
once: the rules read it straight into the batch's stage table (`rules.py`), there is no copy of the
file as text in between. Parquet is read with `read_parquet` into a temp table first (its column
types are checked before any rule runs). Before DuckDB sees a CSV file, one streaming pass over its
bytes computes the sha256 (manifest and fingerprint), checks that it is UTF-8, and counts line
breaks; the header is parsed from the first bytes so that a European export or a missing column is
refused with a message that says so, instead of a parser error.

Physical line numbers: DuckDB gives none, so `_line` is computed in SQL from the row's position in
the file (the stage keeps the file's row order). Row k is on line header + 1 + k when the file has
exactly one line per row, which the byte pass tells (the usual case). Otherwise (quoted line breaks,
blank lines) the file is read a second time as text and `csv_lines` maps row order to start lines:
a row starts on the line after the previous row's start plus the line breaks inside the previous
row's values; if that does not end on the file's last non-blank line (blank lines between rows,
which DuckDB skips), the record starts are derived from the file text itself (`read_text`, quote
parity per line).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.core.contract import Entity
from assets.core.sql import sql_literal

from .errors import Refused

CHUNK = 1 << 22
HEAD = 1 << 16
EUROPEAN_DECIMAL = re.compile(r'(^|;)"?-?[0-9]+,[0-9]+"?(;|$)')
INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
GLOB_CHARS = ("*", "?", "[", "{")
NAIVE_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}


@dataclass
class FileBytes:
    sha256: str
    size: int
    newlines: int = 0
    trailing_newlines: int = 0
    head: bytes = b""
    not_utf8: str | None = None  # why the file is not UTF-8, if it is not
    stat: tuple[int, int] = (0, 0)  # (size, mtime_ns) before the pass, to notice a file still changing

    @property
    def last_content_line(self) -> int:
        """The physical line number of the last line that is not blank (trailing blank lines ignored)."""
        return self.newlines - self.trailing_newlines + 1


@dataclass
class Source:
    """One part file, ready for the row rules: `from_sql` reads it (alias t)."""

    rel: str
    fmt: str  # csv | parquet
    path: Path
    from_sql: str  # the FROM clause giving the file's rows as alias t, in file order
    columns: dict[str, str]  # contract column -> column of t
    types: dict[str, str]  # contract column -> DuckDB type of that column
    extras: dict[str, str] = field(default_factory=dict)  # extra column as delivered -> column of t
    line_sql: str = "NULL"  # the row's physical line when the reader gives it (Parquet), else NULL
    ncols: int = 0  # CSV: fields per row
    header_lines: int = 1  # CSV: physical lines the header takes
    rows: int = 0  # set when the stage has read the file


def scan_bytes(path: Path, text: bool) -> FileBytes:
    """sha256 of the file; for text files also UTF-8 validity and line-break counts. One pass."""
    h = hashlib.sha256()
    size = newlines = 0
    head = b""
    tail = b""
    decoder = codecs.getincrementaldecoder("utf-8")() if text else None
    not_utf8 = None
    before = path.stat()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
            if text:
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                if decoder is not None:
                    pending = decoder.getstate()[0]
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as e:
                        window = pending + chunk
                        line = newlines + window[: e.start].count(b"\n") + 1
                        not_utf8 = _not_utf8_reason(window, e.start, line)
                        decoder = None
                newlines += chunk.count(b"\n")
                tail = (tail + chunk)[-HEAD:]
            size += len(chunk)
    if text and decoder is not None and not_utf8 is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            not_utf8 = "the file ends inside a UTF-8 character (it is cut short or not UTF-8)"
    stripped = tail.rstrip(b"\r\n")
    return FileBytes(h.hexdigest(), size, newlines, tail[len(stripped):].count(b"\n"), head, not_utf8,
                     (before.st_size, before.st_mtime_ns))


def check_unchanged(path: Path, rel: str, fb: FileBytes) -> None:
    """Refuse a file that changed since its byte pass (a delivery still being copied)."""
    st = path.stat()
    if (st.st_size, st.st_mtime_ns) != fb.stat or fb.size != st.st_size:
        raise Refused(rel, "the file changed while it was being loaded (is the delivery still being copied?)",
                      "wait until the delivery is complete, then load the batch again")


def _not_utf8_reason(window: bytes, pos: int, line: int) -> str:
    if window[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "the file is UTF-16 encoded, not UTF-8"
    bad = window[pos]
    start = window.rfind(b"\n", 0, pos) + 1
    snippet = window[start: pos + 20].split(b"\n")[0].decode("latin-1")
    guess = ""
    if 0x80 <= bad <= 0xFF:
        guess = (f"; byte 0x{bad:02X} reads as {bytes([bad]).decode('cp1252', 'replace')!r} in "
                 "Latin-1/Windows-1252, so the file looks Latin-1 encoded")
    return f"the file is not UTF-8: invalid byte 0x{bad:02X} on line {line} ({snippet!r}){guess}"


def open_source(con: duckdb.DuckDBPyConnection, ent: Entity, path: Path, rel: str, table: str,
                fb: FileBytes) -> Source:
    """Check one part file's encoding, header and columns; raises Refused when it cannot be used.

    A CSV file is not read yet (the stage reads it, `rules.append_part`); a Parquet file is read
    into temp table `table`.
    """
    if any(ch in str(path) for ch in GLOB_CHARS):
        # DuckDB's readers expand wildcards: `part-*.csv` would read every other part as well.
        raise Refused(rel, f"the path contains a wildcard character ({' '.join(GLOB_CHARS)}), which "
                           "DuckDB's readers would expand to other files",
                      "name files and folders with letters, digits, '.', '-' and '_' only")
    if path.suffix.lower() == ".csv":
        return _open_csv(ent, path, rel, fb)
    return _read_parquet(con, ent, path, rel, table, fb)


def _match_columns(ent: Entity, rel: str, names: list[str],
                   fmt: str) -> tuple[dict[str, int], dict[str, int]]:
    """Map contract columns and extra columns to header positions (case-insensitive, trimmed)."""
    wanted = set(ent.column_names)
    seen: dict[str, int] = {}  # contract column -> position
    extras: dict[str, int] = {}  # extra column as delivered (trimmed) -> position
    normalised: set[str] = set()
    for i, raw in enumerate(names):
        norm = raw.strip().lower()
        if norm and norm in normalised:
            raise Refused(rel, f"column {raw.strip()!r} appears twice in the header",
                          "deliver every column once (names are matched ignoring case and spaces)")
        normalised.add(norm)
        if norm in wanted:
            seen[norm] = i
        else:
            extras[raw.strip() or f"_column_{i + 1}"] = i
    missing = [c for c in ent.column_names if c not in seen]
    if missing:
        raise Refused(rel, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                           f"({ent.system}/{ent.name} needs every contract column, nullable ones too)",
                      f"add the column{'s' if len(missing) > 1 else ''} to the {fmt} (an empty "
                      "value is allowed where the contract says nullable)")
    return seen, extras


def _header(ent: Entity, rel: str, fb: FileBytes) -> tuple[list[str], int]:
    """The header's column names and how many physical lines the header takes."""
    text = fb.head.decode("utf-8", "ignore").removeprefix("\ufeff")
    if not text.strip():
        raise Refused(rel, "the file is empty: no header row",
                      "deliver a header row with the contract's column names (and no rows, if "
                      "there are none)")
    reader = csv.reader(io.StringIO(text, newline=""))
    names = next(reader)
    header_lines = reader.line_num
    _check_separator(ent, rel, text, names)
    return names, header_lines


def _check_separator(ent: Entity, rel: str, text: str, names: list[str]) -> None:
    wanted = set(ent.column_names)
    first_line = text.split("\n", 1)[0].rstrip("\r")

    def hits(sep: str) -> int:
        return sum(1 for n in first_line.split(sep) if n.strip().strip('"').strip().lower() in wanted)

    comma = sum(1 for n in names if n.strip().lower() in wanted)
    if hits(";") > comma:
        lines = text.split("\n")[1:50]
        decimals = [m.group(0).strip(';"') for line in lines for m in [EUROPEAN_DECIMAL.search(line)] if m]
        also = (f" and decimals written with ',' (e.g. {decimals[0]!r})" if decimals else "")
        raise Refused(rel, f"this is a European-style CSV: fields are separated by ';'{also}",
                      "re-export the file as a standard CSV: ',' between fields, '.' as the "
                      "decimal point, no thousands separators")
    for sep, label in (("\t", "tab"), ("|", "'|'")):
        if hits(sep) > comma:
            raise Refused(rel, f"fields are separated by {label}, not by commas",
                          "re-export the file as comma-separated CSV")


def _duckdb_error(e: Exception) -> str:
    """The useful lines of a DuckDB reader error (it goes on with fixes and the reader's options)."""
    lines = []
    for line in str(e).splitlines():
        text = line.strip()
        if text.startswith(("Possible fix", "file =", "* ")):
            break
        if text:
            lines.append(text)
    return " / ".join(lines).removeprefix("Invalid Input Error: ")[:500]


def _open_csv(ent: Entity, path: Path, rel: str, fb: FileBytes) -> Source:
    if fb.not_utf8:
        raise Refused(rel, fb.not_utf8, "re-export the file as UTF-8 (a byte-order mark is allowed)")
    names, header_lines = _header(ent, rel, fb)
    seen, extras = _match_columns(ent, rel, names, "CSV header")
    return Source(
        rel=rel, fmt="csv", path=path, from_sql=f"{read_csv_sql(path, len(names))} AS t",
        columns={c: f"c{i}" for c, i in seen.items()},
        types={c: "VARCHAR" for c in seen},
        extras={name: f"c{i}" for name, i in extras.items()},
        ncols=len(names), header_lines=header_lines,
    )


def read_csv_sql(path: Path, ncols: int) -> str:
    """`read_csv` of a part file: explicit options, every field VARCHAR as c0, c1, ..."""
    cols = ", ".join(f"{sql_literal(f'c{i}')}: 'VARCHAR'" for i in range(ncols))
    return (f"read_csv({sql_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
            "quote = '\"', "
            f"escape = '\"', strict_mode = true, encoding = 'utf-8', columns = {{{cols}}})")


def csv_refusal(rel: str, e: duckdb.Error) -> Refused:
    """The refusal of a CSV file that DuckDB's reader rejects."""
    return Refused(rel, f"the file cannot be read as CSV: {_duckdb_error(e)}",
                   "fix the file so that every row has the header's number of fields and every "
                   "quote is closed (RFC 4180), then deliver the batch again")


def one_line_per_row(src: Source, fb: FileBytes) -> bool:
    """Whether row k of the CSV file is on line header + 1 + k (no line breaks in values, no blank lines)."""
    return fb.last_content_line == src.header_lines + src.rows or src.rows == 0


def csv_lines(con, src: Source, table: str, lines: str, fb: FileBytes) -> None:
    """Temp table `lines(_ord, _line, ...)`: the physical start line of each row of a CSV file whose
    rows do not take one line each (`one_line_per_row` is false). Reads the file again as text into
    temp table `table`."""
    path, rel, ncols, header_lines, rows = src.path, src.rel, src.ncols, src.header_lines, src.rows
    try:
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {read_csv_sql(path, ncols)}")
    except duckdb.Error as e:
        raise csv_refusal(rel, e) from None
    joined = " || ".join(f"coalesce(c{i}, '')" for i in range(ncols))
    con.execute(
        f"CREATE TEMP TABLE {lines} AS SELECT _ord, {header_lines} + 1 + coalesce(sum(1 + _nl) OVER "
        f"(ORDER BY _ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS _line, _nl FROM "
        f"(SELECT rowid AS _ord, length(s) - length(replace(s, chr(10), '')) AS _nl "
        f"FROM (SELECT rowid, {joined} AS s FROM {table}))"
    )
    last = con.execute(f"SELECT max(_line + _nl) FROM {lines}").fetchone()[0]
    if last != fb.last_content_line:
        # Blank lines between rows (skipped by DuckDB): take record starts from the text.
        con.execute(f"DROP TABLE {lines}")
        con.execute(
            f"CREATE TEMP TABLE {lines} AS "
            "WITH l AS (SELECT string_split(content, chr(10)) AS l "
            f"FROM read_text({sql_literal(str(path))})), "
            f"u AS (SELECT unnest(l) AS txt, generate_subscripts(l, 1) AS n FROM l), "
            f"q AS (SELECT n, txt, coalesce(sum(length(txt) - length(replace(txt, '\"', ''))) OVER "
            f"(ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS quotes FROM u), "
            f"s AS (SELECT n FROM q WHERE quotes % 2 = 0 AND rtrim(txt, chr(13)) <> '') "
            f"SELECT row_number() OVER (ORDER BY n) - 2 AS _ord, n AS _line FROM s"
        )
        con.execute(f"DELETE FROM {lines} WHERE _ord < 0")
        starts = con.execute(f"SELECT count(*) FROM {lines}").fetchone()[0]
        if starts != rows:
            raise Refused(rel, f"the file's {rows} rows cannot be matched to its physical lines "
                               f"({starts} record starts found)",
                          "check the file's quoting and line breaks (RFC 4180)")


def _read_parquet(con, ent: Entity, path: Path, rel: str, table: str, fb: FileBytes) -> Source:
    try:
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT *, file_row_number AS _ingest_row "
                    f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true)")
        described = con.execute(f"DESCRIBE {table}").fetchall()
    except duckdb.Error as e:
        raise Refused(rel, f"the file cannot be read as Parquet: {_duckdb_error(e)}",
                      "deliver a complete, valid Parquet file") from None
    names = [r[0] for r in described if r[0] not in ("file_row_number", "_ingest_row")]
    types = {r[0]: r[1] for r in described}
    seen, extras = _match_columns(ent, rel, names, "Parquet file")
    columns = {c: names[i] for c, i in seen.items()}
    for c, src in columns.items():
        problem = parquet_incompatibility(ent.column(c).type, types[src])
        if problem:
            raise Refused(rel, f"column {c} has Parquet type {types[src]}: {problem}",
                          f"write {c} as {PARQUET_WANTED[ent.column(c).type]} (or as text)")
    return Source(
        rel=rel, fmt="parquet", path=path, from_sql=f"{table} AS t", columns=columns,
        types={c: types[src] for c, src in columns.items()},
        extras={name: names[i] for name, i in extras.items()},
        line_sql="t._ingest_row + 2",
    )


PARQUET_WANTED = {
    "string": "a string",
    "integer": "an integer type",
    "decimal": "DECIMAL (scale at most 12) or an integer type",
    "date": "DATE",
    "timestamp": "TIMESTAMP (UTC)",
    "boolean": "BOOLEAN",
}


def parquet_incompatibility(contract_type: str, duck_type: str) -> str | None:
    """Why a Parquet column's type cannot hold the contract type (None when it can)."""
    base = duck_type.split("(")[0]
    if base == "VARCHAR":
        return None  # text goes through the same rules as CSV
    ok = {
        "string": base in INT_TYPES,
        "integer": base in INT_TYPES or (base == "DECIMAL" and duck_type.endswith(",0)")),
        "decimal": base in INT_TYPES or base == "DECIMAL",
        "date": base == "DATE",
        "timestamp": base in NAIVE_TIMESTAMPS or base == "TIMESTAMP WITH TIME ZONE",
        "boolean": base == "BOOLEAN",
    }[contract_type]
    if ok:
        return None
    if contract_type == "decimal" and base in ("FLOAT", "DOUBLE"):
        return "binary floating point cannot hold an exact decimal amount"
    return f"not compatible with the contract type {contract_type}"
