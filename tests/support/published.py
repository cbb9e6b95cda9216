"""What a published copy holds, in a form two copies can be compared by."""

import duckdb

from assets.publishing import PublishedCopy, sql_ident, sql_literal


def published_rows(copy: PublishedCopy) -> dict[str, tuple]:
    """Every table's columns and sorted rows, from the Parquet files and from marts.duckdb."""
    got = {}
    with duckdb.connect() as con, duckdb.connect(str(copy.duckdb_file), read_only=True) as db:
        for name in copy.tables:
            source = f"read_parquet({sql_literal(copy.parquet(name))})"
            got[name] = (
                con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall(),
                con.execute(f"SELECT * FROM {source} ORDER BY ALL").fetchall(),
                db.execute(f"SELECT * FROM {sql_ident(name)} ORDER BY ALL").fetchall(),
            )
    return got
