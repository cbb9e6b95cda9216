"""Property: after any sequence of deliveries, an incremental build equals a clean full build.

A generated landing folder is delivered month by month in a random order (the first month first:
a new first month is a FULL fall-back, tested apart), with random changes in between: a corrected
closed month, a line corrected into a later month (and another one of its month into a month between), a crosswalk re-mapped in the newest snapshot, an opportunity re-extracted, an item
that changes family, a late FX rate, a batch re-delivered unchanged. After every step the
incremental warehouse (the planner's months only) and the reference (the same loads, every model
rebuilt with --full-refresh, i.e. a clean full build of the same raw layer) must hold the same
rows, value for value, in every compared model (tests/support/deliveries.py: COMPARED). The
incremental warehouse is also published after every step, following its build plans (only the
planned months rewritten, the others linked from the previous version), and that publication must
equal a fresh full publication of the reference, mart by mart.

Each step costs two dbt runs: by default the test replays one sequence that holds every kind of
change (EVERY_CHANGE, about two minutes); STRATA_REPLAY_EXAMPLES=20 (nightly) adds 20 random ones.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from assets.publishing import open_published, publish_version
from tests.support.deliveries import CHANGES, Warehouse, deliver_month, differences
from tests.support.published import published_rows

EXAMPLES = int(os.environ.get("STRATA_REPLAY_EXAMPLES", "0"))
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 5)]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    from orchestration.generator import generate

    root = tmp_path_factory.mktemp("replay_source")
    generate(root, customers=8, months=len(MONTHS), end_month=MONTHS[-1], seed=5)
    return root


step = st.tuples(
    st.lists(st.sampled_from(MONTHS[1:]), max_size=3, unique=True),  # months delivered now
    st.sets(st.sampled_from(sorted(CHANGES)), max_size=3),  # changes delivered with them
    st.integers(min_value=0, max_value=10_000),  # which row a change picks
)


# One sequence with every kind of change, months out of order and late: the default run.
EVERY_CHANGE = dict(
    first=[*MONTHS[1:10], "2025-12", "2026-01", "2026-04"],
    steps=[(["2026-03", "2025-11"], {"correct_closed_month", "reextract_opportunity", "move_line_to_later_month"}, 7),
           (["2026-02"], {"remap_crosswalk", "change_item_family", "redeliver_unchanged"}, 3),
           # a late rate for the month the moved line left (the 8th older month, as in step 1), and
           # another line of that month moved into a month between: that month is recomputed (its
           # sales and its staging lines) while the first line's batches are unchanged, and its old
           # version must not come back
           ([], {"late_fx_rate", "move_another_line_from_that_month"}, 7)],
)


# By default only EVERY_CHANGE (the test budget); STRATA_REPLAY_EXAMPLES=n adds n random sequences.
# No shrinking: every example costs minutes of dbt; the failure message carries the history.
@settings(max_examples=max(EXAMPLES, 1), deadline=None,
          phases=[Phase.explicit] + ([Phase.generate] if EXAMPLES > 0 else []),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(**EVERY_CHANGE)
@given(first=st.lists(st.sampled_from(MONTHS[1:]), min_size=12, max_size=13, unique=True),
       steps=st.lists(step, min_size=2, max_size=3))
def test_incremental_builds_equal_a_clean_full_build(source, tmp_path_factory, first, steps):
    work = tmp_path_factory.mktemp("replay")
    landing = work / "landing"
    for month in [MONTHS[0], *first]:
        deliver_month(source, landing, month)
    inc = Warehouse(work / "inc" / "warehouse.duckdb")
    inc.path.parent.mkdir()
    inc.load(landing)
    assert inc.build().mode == "FULL"
    ref = Warehouse(work / "ref" / "warehouse.duckdb")
    ref.path.parent.mkdir()
    shutil.copy(inc.path, ref.path)  # the same raw layer, audit and build state
    published = work / "published"
    publish_version(inc.path, published, "step-0", grace_seconds=3600)

    history = []
    for i, (months, changes, pick) in enumerate(steps, start=1):
        for month in months:
            deliver_month(source, landing, month)
        said = [f"month {m}" for m in months]
        for name in sorted(changes):
            said.append(CHANGES[name](landing, pick) or f"{name}: nothing to change")
        loaded = inc.load(landing)
        assert ref.load(landing) == loaded
        # most_months=2: never fall back to FULL for the number of dirty months, so the months
        # are exercised even where a change reaches all of them (8 customers, every month)
        with ThreadPoolExecutor(2) as pool:
            incremental = pool.submit(inc.build, most_months=2)
            pool.submit(ref.build, full_refresh=True).result()
            plan = incremental.result()
        history.append(f"{'; '.join(said) or 'nothing'} -> {loaded} batch(es), {plan.mode}: {plan.reason}")
        assert differences(inc.path, ref.path) == {}, "\n".join(history)
        if loaded == 0:
            assert plan.mode == "NOOP", "\n".join(history)

        update = publish_version(inc.path, published, f"step-{i}", grace_seconds=3600)
        assert update.manifest["based_on"] is not None, "\n".join(history)  # an update, not a rewrite
        fresh = work / f"full-{i}"
        publish_version(ref.path, fresh, f"full-{i}")
        mine, full = published_rows(open_published(published)), published_rows(open_published(fresh))
        marts = sorted(t for t in full if not t.startswith("audit_"))
        assert {t: mine[t] for t in marts} == {t: full[t] for t in marts}, "\n".join(history)
