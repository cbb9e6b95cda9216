"""Writing landing batches exactly as the landing contract describes them.

One writer for everything that produces extracts: the sample-data generator and the tests' hand-made
fixtures. A batch is `<root>/<system>/<entity>/<YYYY-MM>/part-0001.csv` (or `.parquet`), plus a
`_manifest.json` with each file's data-row count and sha256 and the exact decimal control totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assets.core.contract import Entity, entity, sha256_file

# control totals are exact sums (Python's default context keeps 28 digits)
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

PARQUET_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.decimal128(38, 12),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
}


def format_value(value, type_: str) -> str:
    """A Python value as the contract's CSV text (empty for None)."""
    if value is None:
        return ""
    if type_ == "boolean":
        if isinstance(value, str):  # already text (e.g. a batch read back as varchar): as given
            return value
        return "true" if value else "false"
    if type_ == "timestamp" and isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if type_ == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if type_ == "decimal" and isinstance(value, float):
        raise TypeError("decimal values must be Decimal or str, never float")
    if isinstance(value, Decimal):  # plain digits: str() gives 0E-12 or 1E+3, which the contract refuses
        return format(value, "f")
    return str(value)


def _row_values(ent: Entity, row) -> list:
    if isinstance(row, Mapping):
        return [row.get(c) for c in ent.column_names]
    return list(row)


class BatchWriter:
    """Writes one batch, part file by part file, then its manifest; rows are streamed, never held.

    Use as a context manager; `write(rows)` may be called many times, and `new_part()` starts the
    next part file.
    """

    def __init__(self, root: Path, system: str, entity_name: str, batch: str, fmt: str = "csv",
                 manifest: bool = True, extracted_at: str | None = None):
        self.ent = entity(system, entity_name)
        self.dir = Path(root) / system / entity_name / batch
        self.batch, self.fmt, self.manifest = batch, fmt, manifest
        self.extracted_at = extracted_at or f"{batch}-28T03:00:00Z"
        self.decimal_cols = [i for i, c in enumerate(self.ent.columns) if c.type == "decimal"]
        self.totals = {self.ent.columns[i].name: Decimal(0) for i in self.decimal_cols}
        self.files: list[dict] = []
        self._part = 0
        self._rows = 0
        self._sink = None

    def __enter__(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*"):  # a re-delivery replaces the whole batch
            old.unlink()
        self.new_part()
        return self

    def new_part(self) -> None:
        self._close_part()
        self._part += 1
        self._rows = 0
        name = f"part-{self._part:04d}.{self.fmt}"
        self._path = self.dir / name
        if self.fmt == "csv":
            self._fh = open(self._path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in _close_part, the writer streams part by part
            self._csv = csv.writer(self._fh, lineterminator="\n")
            self._csv.writerow(self.ent.column_names)
        elif self.fmt == "parquet":
            schema = pa.schema([(c.name, PARQUET_TYPES[c.type]) for c in self.ent.columns])
            self._pq = pq.ParquetWriter(self._path, schema)
            self._schema = schema
        else:
            raise ValueError(f"unknown format {self.fmt!r}: use csv or parquet")

    def write(self, rows: Iterable) -> None:
        types = [c.type for c in self.ent.columns]
        buffered = []
        for row in rows:
            values = _row_values(self.ent, row)
            for i in self.decimal_cols:
                if values[i] is not None and values[i] != "":
                    name = self.ent.columns[i].name
                    self.totals[name] = EXACT.add(self.totals[name], Decimal(str(values[i])))
            self._rows += 1
            if self.fmt == "csv":
                self._csv.writerow([format_value(v, t) for v, t in zip(values, types, strict=True)])
            else:
                buffered.append(values)
        if buffered:
            cols = list(zip(*buffered, strict=True))
            arrays = []
            for col, field, t in zip(cols, self._schema, types, strict=True):
                if t == "decimal":
                    col = [None if v is None else Decimal(str(v)) for v in col]
                arrays.append(pa.array(col, type=field.type))
            self._pq.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def write_table(self, table: pa.Table) -> None:
        """Write a whole pyarrow Table at once: the fast, vectorised path (no per-row Python).

        The table must have exactly the entity's columns (any order). Decimal columns must be
        `decimal128` (never floating point), integers integers, booleans booleans, dates `date32`,
        timestamps `timestamp` (naive means UTC); a string column is written as it is. The CSV
        text is byte-for-byte what `write()` gives for the same values: contract formatting and
        minimal RFC 4180 quoting (a field is quoted only when it holds a comma, a quote or a line
        break). One deliberate difference: a bare carriage return is quoted here, while Python's csv
        module (behind `write()`) leaves it unquoted. Control totals are exact decimal sums.
        """
        names = self.ent.column_names
        given = sorted(table.column_names)
        if given != sorted(names):
            raise ValueError(f"{self.ent.system}/{self.ent.name}: the table's columns {given} "
                             f"are not the contract's {sorted(names)}")
        table = table.select(list(names))
        for i in self.decimal_cols:
            col = table.column(i)
            if pa.types.is_floating(col.type):
                raise TypeError("decimal values must be Decimal or str, never float")
            if not pa.types.is_decimal(col.type):
                col = pc.cast(col, pa.decimal128(38, 12))
            total = pc.sum(col).as_py()
            if total is not None:
                name = self.ent.columns[i].name
                self.totals[name] = EXACT.add(self.totals[name], total)
        self._rows += table.num_rows
        if table.num_rows == 0:
            return
        if self.fmt == "csv":
            self._fh.flush()  # the header (and any rows from write()) go first
            for start in range(0, table.num_rows, _CSV_CHUNK_ROWS):
                self._fh.buffer.write(_csv_bytes(self.ent, table.slice(start, _CSV_CHUNK_ROWS)))
        else:
            self._pq.write_table(table.cast(self._schema))

    def _close_part(self) -> None:
        if self._part == 0:
            return
        if self.fmt == "csv":
            self._fh.close()
        else:
            self._pq.close()
        self.files.append({"name": self._path.name, "rows": self._rows, "sha256": sha256_file(self._path)})

    def __exit__(self, exc_type, exc, tb):
        self._close_part()
        if exc_type is None and self.manifest:
            manifest = {
                "system": self.ent.system, "entity": self.ent.name, "batch": self.batch,
                "extracted_at": self.extracted_at, "files": self.files,
                "control_totals": {k: format(v, "f") for k, v in self.totals.items()},
            }
            (self.dir / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return False


_CSV_CHUNK_ROWS = 262_144
_NEEDS_QUOTES = '[",\\r\\n]'


def _may_need_quotes(col: pa.Array) -> bool:
    """Whether any value may hold a comma, quote or line break (a quick scan of the character data)."""
    data = col.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    return bool(np.isin(raw, _SPECIAL_BYTES).any())


_SPECIAL_BYTES = np.frombuffer(b'",\r\n', dtype=np.uint8)


def _csv_column(col: pa.ChunkedArray | pa.Array, type_: str) -> pa.Array:
    """One column as contract CSV text: a string array without nulls (null is the empty field)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if type_ == "timestamp" and pa.types.is_timestamp(col.type):
        tz = col.type.tz or "UTC"
        col = pc.strftime(col.cast(pa.timestamp("s", tz=tz), safe=False).cast(pa.timestamp("s", tz="UTC")),
                          format="%Y-%m-%dT%H:%M:%SZ")
    elif pa.types.is_decimal(col.type):
        text = pc.cast(col, pa.string())
        exp = pc.match_substring(text, "E")
        if pc.any(exp).as_py():  # Arrow writes e.g. 0E-12 (as str(Decimal) does); write plain digits
            fixed = [None if v is None else format(v, "f") for v in col.to_pylist()]
            text = pa.array(fixed, pa.string())
        col = text
    elif not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    if type_ == "string" and _may_need_quotes(col):
        need = pc.match_substring_regex(col, _NEEDS_QUOTES)
        if pc.any(need).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
            col = pc.if_else(need, quoted, col)
    return pc.fill_null(col, "")


def _csv_bytes(ent: Entity, table: pa.Table) -> memoryview:
    """The rows of `table` (columns in contract order) as CSV lines, each ending with a newline."""
    cols = [_csv_column(table.column(i), c.type) for i, c in enumerate(ent.columns)]
    cols[-1] = pc.binary_join_element_wise(cols[-1], "", "\n")
    lines = pc.binary_join_element_wise(*cols, ",")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = lines.cast(pa.large_string()) if lines.nbytes >= (1 << 31) - 1 else lines
    offsets_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=offsets_type)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(lines.buffers()[2])[first:last]


def write_batch(root: Path, system: str, entity_name: str, batch: str, rows: Iterable, fmt: str = "csv",
                manifest: bool = True) -> Path:
    """Write one whole batch (one part file) and return its folder."""
    with BatchWriter(root, system, entity_name, batch, fmt=fmt, manifest=manifest) as w:
        w.write(rows)
    return w.dir


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """CSV text for hand-written fixtures that need exact control over the bytes."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()
