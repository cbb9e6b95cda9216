"""The landing contract (extracts.yml) as Python objects.

`assets/core/extracts.yml` is the contract (docs/landing-contract.md explains it). Everything
that needs to know an entity's columns (the generator, the loader, the raw-layer DDL, the
data-quality suites) reads it from here, so the contract is written down exactly once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).with_name("extracts.yml")

SYSTEMS = ("erp", "crm", "psa")

# How each contract type is stored in the raw layer. Decimals keep 12 fractional digits: enough for
# exchange rates and hours, with 26 integer digits left for money.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38,12)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",  # UTC
    "boolean": "BOOLEAN",
}

# Bookkeeping columns every raw table carries after the contract's own columns.
RAW_META_COLUMNS = {
    "_batch": "VARCHAR",  # the batch month, YYYY-MM
    "_file": "VARCHAR",  # the file's path relative to the landing root
    "_line": "BIGINT",  # the physical line the row starts on (the header is line 1)
    "_extra": "JSON",  # extra columns the contract does not name, as a JSON object (NULL if none)
    "_loaded_at": "TIMESTAMP",  # UTC
}
# What each bookkeeping column means, as the dbt sources and staging models document it.
RAW_META_DESCRIPTIONS = {
    "_batch": "The batch month (YYYY-MM) the row was delivered in.",
    "_file": "The landing file the row came from (relative to the landing root).",
    "_line": "The physical line of the file the row starts on (header = 1).",
    "_extra": "JSON object of extra columns the contract does not name (NULL if none).",
    "_loaded_at": "When the ingestion loaded the row (UTC).",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    note: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    system: str
    name: str
    kind: str  # "snapshot" or "transactional"
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    batch_by: str | None = None  # the date column deciding the batch month (transactional only)

    @property
    def table(self) -> str:
        """The raw-layer table name, e.g. ``erp__sales_lines`` (in schema ``raw``)."""
        return f"{self.system}__{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.system}/{self.name} has no column {name!r}")

    def raw_ddl(self, schema: str = "raw") -> str:
        """CREATE TABLE statement of this entity's raw-layer table."""
        cols = [f'"{c.name}" {c.duckdb_type}' for c in self.columns]
        cols += [f'"{n}" {t}' for n, t in RAW_META_COLUMNS.items()]
        return f"CREATE TABLE IF NOT EXISTS {schema}.{self.table} (\n  " + ",\n  ".join(cols) + "\n)"


@cache
def entities() -> dict[tuple[str, str], Entity]:
    """Every entity of the contract, keyed by (system, entity)."""
    spec = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    out: dict[tuple[str, str], Entity] = {}
    for system, ents in spec.items():
        for name, body in ents.items():
            columns = tuple(
                Column(
                    name=col,
                    type=props["type"],
                    nullable=bool(props.get("nullable", False)),
                    enum=tuple(props["enum"]) if "enum" in props else None,
                    note=props.get("note"),
                )
                for col, props in body["columns"].items()
            )
            out[(system, name)] = Entity(
                system=system,
                name=name,
                kind=body["kind"],
                key=tuple(body["key"]),
                columns=columns,
                batch_by=body.get("batch_by"),
            )
    return out


def entity(system: str, name: str) -> Entity:
    try:
        return entities()[(system, name)]
    except KeyError:
        raise KeyError(f"unknown entity {system}/{name}: the landing contract has no such entity") from None


def create_raw_tables(con, schema: str = "raw") -> None:
    """Create the raw schema and every entity's raw table on a DuckDB connection (idempotent)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for ent in entities().values():
        con.execute(ent.raw_ddl(schema))


def sha256_file(path: Path) -> str:
    """The checksum a batch manifest gives each file (docs/landing-contract.md)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
