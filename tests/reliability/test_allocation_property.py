"""Property: a cost pool's allocation always sums back to its GL amount, whatever the drivers.

The SQL under test is the dbt project's own (int_cost_pool_rates → int_cost_allocation →
int_cost_pools), rendered once by `dbt compile` with the configuration (the `compiled` fixture) and
executed here on hypothesis-generated driver units and GL amounts. Nothing of the rule is
re-implemented in Python: the test only adds up what the models produced.

What "exactly" means (methodology §4-5, docs/methodology-notes.md "Money arithmetic"): each
customer's share is the exact quotient units × GL / Σ units rounded to 12 decimals, so the shares
of n customers add up to the GL amount within n × 0.5e-12, and the published reconciliation (cents)
shows no difference at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

POOLS = ["ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS"]
MONTHS = [dt.date(2026, 1, 31), dt.date(2026, 2, 28)]
ULP = Decimal("1e-12")


def units_strategy():
    """Driver units as the models make them: counts, minutes, hours and weighted lines, with up to
    12 decimals (DECIMAL(38,12), e.g. 0.016666666667 hours or a channel weight of 0.333333333333),
    at least a millionth of a unit per customer (only non-zero units are kept)."""
    return st.one_of(
        st.integers(min_value=1, max_value=50_000).map(Decimal),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000"), places=2),
        st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("5000"), places=12),
    )


gl_strategy = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250000000"), places=2)


@st.composite
def pool_months(draw):
    """Per (month, pool): the GL amount (or none: GL lacks the pool) and the customers' units."""
    cases = []
    for month in MONTHS:
        for pool in draw(st.lists(st.sampled_from(POOLS), min_size=1, max_size=3, unique=True)):
            gl = draw(st.one_of(st.none(), gl_strategy)) if draw(st.booleans()) else draw(gl_strategy)
            n = draw(st.integers(min_value=0, max_value=12))
            units = [draw(units_strategy()) for _ in range(n)]
            cases.append((month, pool, gl, units))
    return cases


@pytest.fixture(scope="module")
def engine(compiled):
    """An in-memory DuckDB whose catalog is named like the warehouse the SQL was compiled for."""
    con = duckdb.connect()
    catalog = compiled.warehouse.stem
    con.execute(f"ATTACH ':memory:' AS \"{catalog}\"")
    con.execute(f"USE \"{catalog}\"")
    for schema in ("staging", "intermediate"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE staging.stg_erp__gl_balances (period_end DATE, account_code VARCHAR, "
                "account_category VARCHAR, cost_pool VARCHAR, amount_lcy DECIMAL(38,12))")
    con.execute("CREATE TABLE intermediate.int_cost_driver_units (month DATE, customer_no VARCHAR, "
                "cost_pool VARCHAR, driver_units DECIMAL(38,12))")
    yield con
    con.close()


def allocate(con, compiled, cases) -> None:
    con.execute("DELETE FROM staging.stg_erp__gl_balances")
    con.execute("DELETE FROM intermediate.int_cost_driver_units")
    for month, pool, gl, units in cases:
        if gl is not None:
            # two accounts of one pool in a month are summed (the split must not matter)
            half = (gl / 2).quantize(Decimal("0.01"))
            con.executemany("INSERT INTO staging.stg_erp__gl_balances VALUES (?, ?, 'COST_POOL', ?, ?)",
                            [[month, "6100", pool, half], [month, "6101", pool, gl - half]])
        if units:
            con.executemany(
                "INSERT INTO intermediate.int_cost_driver_units VALUES (?, ?, ?, ?)",
                [[month, "UNASSIGNED" if i == 0 else f"C{i:03d}", pool, u] for i, u in enumerate(units)],
            )
    for name in ("int_cost_pool_rates", "int_cost_allocation", "int_cost_pools"):
        con.execute(f"CREATE OR REPLACE TABLE intermediate.{name} AS {compiled.sql[name]}")


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(cases=pool_months())
def test_allocation_sums_back_to_the_ledger(engine, compiled, cases):
    allocate(engine, compiled, cases)
    shares = {}
    for month, pool, total, n in engine.execute(
            "SELECT month, cost_pool, sum(allocated_amount), count(*) FROM intermediate.int_cost_allocation "
            "GROUP BY ALL").fetchall():
        shares[(month, pool)] = (total, n)
    pools = {(m, p): (gl, alloc, unalloc, unused) for m, p, gl, alloc, unalloc, unused in engine.execute(
        "SELECT month, cost_pool, gl_amount, allocated_amount, unallocated_amount, unused_capacity_amount "
        "FROM intermediate.int_cost_pools").fetchall()}
    for month, pool, gl, units in cases:
        key = (month, pool)
        if gl is None and not units:
            assert key not in pools
            continue
        got_gl, allocated, unallocated, unused = pools[key]
        if gl is None:  # units but no ledger: nothing to allocate
            assert got_gl is None and allocated == 0 and unallocated == 0
            continue
        assert got_gl == gl
        total, n = shares.get(key, (Decimal(0), 0))
        assert n == len(units)
        assert allocated == total
        pipeline = allocated + unallocated + unused
        # exact to 12 decimals per customer share (the numerator units x GL is rounded to 12 decimals
        # before the division by the units' total, hence the 1/total term) ...
        bound = n * ULP / 2 * (1 + 1 / sum(units)) if units else 0
        assert abs(pipeline - gl) <= bound, (
            f"{pool} {month}: GL {gl} allocated {allocated} (+{unallocated} unallocated) over units {units}")
        # ... and to the cent in the reconciliation
        assert cents(pipeline) == cents(gl)
        if not units:
            assert unallocated == gl and allocated == 0
