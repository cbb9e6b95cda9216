"""What a DuckDB connection's own catalog holds."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return (
        con.execute(
            # Only the connection's own catalog: on the Spark target the warehouse file is attached
            # beside it and may still hold marts an earlier DuckDB build left (assets/core/engines.py).
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )
