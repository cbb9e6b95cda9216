"""The Spark dbt target builds the same marts as the DuckDB target, row for row (docs/spark.md).

The session's sample landing folder (tests/conftest.py `sample_landing`: 40 customers, 26 months,
materialised once on DuckDB by `sample_run`) is materialised again through the whole Dagster run with
STRATA_DBT_TARGET=spark: ingestion (DuckDB), the raw layer exported to Parquet, `dbt build --target
spark` on a local Spark (one session: one dbt process), the asset checks and publishing, which reads
Spark's Parquet marts. Then every column of every published mart is compared with the DuckDB run's:
money and other DECIMALs exactly, DOUBLEs to 1e-9, everything else equal (same Python type).

Slow (a JVM start and a few hundred small Spark jobs, 4-9 minutes on a shared 2-core machine); CI
runs it (the README's test command installs the `spark` group, .ci/run installs Java 17). Elsewhere
it skips when pyspark or Java is missing.
"""

from __future__ import annotations

import math
import os
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from assets.core.engines import RAW_PARQUET, spark_table_dir
from assets.publishing import MART_KEYS, open_published
from tests.support.ci import missing

pytestmark = pytest.mark.slow

DOUBLE_TOLERANCE = 1e-9


def _require_spark() -> None:
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:  # the `spark` dependency group is not installed
        missing(f"the Spark target needs the spark dependency group (uv sync --group spark): {exc}")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing("Java is not installed: the Spark target needs Java 17 (.ci/run installs it)")


@pytest.fixture(scope="session")
def spark_available() -> None:
    """Session-scoped and listed first, so it is decided before `sample_run` spends minutes on a run."""
    _require_spark()


@pytest.fixture(scope="module")
def runs(spark_available, sample_landing, tmp_path_factory, request):
    """(DuckDB run, Spark run) over the same landing folder.

    The Spark run starts from the landing folder alone, so that under xdist it runs while another
    worker makes the DuckDB run (`sample_run`): it is the longest run of the suite."""
    from orchestration.runner import materialize

    out = tmp_path_factory.mktemp("spark_target") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_DBT_TARGET", "spark")
        mp.setenv("STRATA_SPARK_DRIVER_MEMORY", "2g")
        # a few thousand rows: compiling and re-planning every small query costs more than it saves
        mp.setenv("STRATA_SPARK_CODEGEN", "false")
        mp.setenv("STRATA_SPARK_ADAPTIVE", "false")
        spark = materialize(sample_landing.landing_root, out)
    assert spark.success, "the Spark run failed:\n" + "\n".join(spark.failures)
    _, duck = request.getfixturevalue("sample_run")
    return duck, spark


def _rows(path: Path) -> tuple[list[str], list[str], list[tuple]]:
    with duckdb.connect() as con:
        cur = con.execute(f"SELECT * FROM read_parquet('{path}')")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        types = [t for _, t, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    return names, types, rows


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=DOUBLE_TOLERANCE, abs_tol=DOUBLE_TOLERANCE)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return type(a) is type(b) and a == b and a.as_tuple().exponent == b.as_tuple().exponent
    return type(a) is type(b) and a == b


def test_publishing_read_the_spark_marts(runs):
    duck, spark = runs
    published = open_published(spark.warehouse.parent)
    assert set(MART_KEYS) <= set(published.tables)
    assert published.run_id == spark.run_id
    for mart in MART_KEYS:
        # Spark wrote each mart as a Parquet table; the DuckDB warehouse of the Spark run has none.
        assert any(spark_table_dir(spark.warehouse.parent, "marts", mart).glob("*.parquet")), mart
    with duckdb.connect(str(spark.warehouse), read_only=True) as con:
        schemas = {s for (s,) in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    assert "marts" not in schemas and {"raw", "audit"} <= schemas


def test_raw_layer_exported_whole(runs):
    _, spark = runs
    root = spark.warehouse.parent / RAW_PARQUET
    with duckdb.connect(str(spark.warehouse), read_only=True) as con:
        tables = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()
        assert len(tables) == 16
        for (table,) in tables:
            expected = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
            written = con.execute(f"SELECT count(*) FROM read_parquet('{root / table / 'data.parquet'}')").fetchone()[0]
            assert written == expected > 0, table


@pytest.mark.parametrize("mart", list(MART_KEYS))
def test_mart_equal_to_duckdb(runs, mart):
    duck, spark = runs
    a, b = open_published(duck.warehouse.parent), open_published(spark.warehouse.parent)
    names_a, types_a, rows_a = _rows(a.parquet(mart))
    names_b, types_b, rows_b = _rows(b.parquet(mart))
    assert names_b == names_a
    assert types_b == types_a
    assert len(rows_b) == len(rows_a) > 0
    key = [names_a.index(k) for k in MART_KEYS[mart]]
    rows_a.sort(key=lambda r: tuple(str(r[i]) for i in key))
    rows_b.sort(key=lambda r: tuple(str(r[i]) for i in key))
    differences = [
        (tuple(ra[i] for i in key), name, va, vb)
        for ra, rb in zip(rows_a, rows_b, strict=True)
        for name, va, vb in zip(names_a, ra, rb, strict=True)
        if not _same(va, vb)
    ]
    assert not differences, f"{len(differences)} values differ, e.g. {differences[:5]}"


def test_unrounded_profit_equal_to_duckdb(runs):
    """The unrounded intermediate the segments sum (12-decimal money) is equal to the last digit."""
    duck, spark = runs
    folder = spark_table_dir(spark.warehouse.parent, "intermediate", "int_customer_profit_monthly")
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{duck.warehouse}' AS d (READ_ONLY)")
        only_one_side = con.execute(f"""
            SELECT count(*) FROM (
                (SELECT * FROM d.intermediate.int_customer_profit_monthly
                 EXCEPT ALL SELECT * FROM read_parquet('{folder}/*.parquet'))
                UNION ALL
                (SELECT * FROM read_parquet('{folder}/*.parquet')
                 EXCEPT ALL SELECT * FROM d.intermediate.int_customer_profit_monthly))""").fetchone()[0]
        rows = con.execute("SELECT count(*) FROM d.intermediate.int_customer_profit_monthly").fetchone()[0]
    assert rows > 0 and only_one_side == 0
