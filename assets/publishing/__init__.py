"""Publishing: the published copy of the marts (Parquet and marts.duckdb) and its PostgreSQL copy.

One module per job (SQL text is quoted by `assets.core.sql`): `copy` (writing a versioned copy and
swapping it in), `months` (which months a publication rewrites, the Parquet layout by month),
`reader` (reading the current copy), `asset` (the Dagster asset `published_marts`), `postgres`
(the `marts` schema in PostgreSQL: the asset `postgres_marts`).
"""

from assets.core.sql import sql_ident, sql_literal
from assets.publishing.asset import RunOutcome, build_published_marts, run_outcome
from assets.publishing.copy import (
    AUDIT_KEYS,
    LINK_NAME,
    MANIFEST,
    MART_KEYS,
    PUBLISHED_DUCKDB,
    TMP_SUFFIX,
    VERSIONS_DIR,
    Publication,
    PublishError,
    WarehouseBusy,
    list_versions,
    publish,
    publish_version,
    seal,
    swap_link,
)
from assets.publishing.reader import PublishedCopy, open_published

__all__ = [
    "AUDIT_KEYS", "LINK_NAME", "MANIFEST", "MART_KEYS", "PUBLISHED_DUCKDB", "TMP_SUFFIX", "VERSIONS_DIR",
    "Publication", "PublishError", "PublishedCopy", "RunOutcome", "WarehouseBusy",
    "build_published_marts", "list_versions", "open_published", "publish", "publish_version",
    "run_outcome", "seal", "sql_ident", "sql_literal", "swap_link",
]
