"""The landing sensor: notice new and re-delivered batches and load what they affect.

Every tick (each minute while the sensor is on) it walks the landing folder, which is cheap: folder
listings and `stat`, no file is opened and the DuckDB warehouse never is (it would collide with a
running writer). Per batch folder `<system>/<entity>/<YYYY-MM>` it computes a fingerprint of the
file names, sizes and modification times, and keeps the fingerprints in its cursor. A batch needs
a load when

- its fingerprint is new or changed since the last tick (a new batch, or a re-delivery), and
- it has settled: nothing in the folder changed in the last `landing_quiet_seconds` of the `paths`
  resource (STRATA_LANDING_QUIET_SECONDS, default 60; file and folder ctimes count, so a copy in
  progress is never picked up half-way), and
- the Dagster instance has no materialisation of that entity's month newer than the batch's last
  change (a batch already loaded by `strata materialize`, a schedule or the UI is not loaded again;
  on the very first tick this is what keeps an already-loaded landing folder from loading again).

It then requests runs of `load_landed_batches`: one run per block of changed months that no other
landing month separates, over that range of the `month` partitions (a month without any batch folder
inside the range loads nothing), selecting the ingestion assets of the entities changed in the
block plus everything downstream of them. When nothing changed it requests nothing. The month
partitions are Dagster's time windows from the configured first month to the open month: nothing
is registered; a batch folder whose month is no partition (before `partitions.first_month`, or
after the open month) is never loaded and logged as such on every tick until it is moved or the
first month is changed. A batch folder that disappears is forgotten (its rows stay in the warehouse).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from assets.core.partitions import month_keys
from assets.core.resources import StrataPaths
from assets.ingestion.landing_scan import scan_landing
from orchestration.jobs import load_landed_batches

CURSOR_VERSION = 1
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
TRIGGER_TAG = "strata/trigger"


@dataclass(frozen=True)
class BatchState:
    system: str
    entity: str
    month: str
    fingerprint: str
    changed_at: float  # newest mtime or ctime of the folder and its files (epoch seconds)

    @property
    def rel(self) -> str:
        return f"{self.system}/{self.entity}/{self.month}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.system, self.entity])


def batch_states(landing: Path | str) -> list[BatchState]:
    """Every batch folder of the landing root with its fingerprint (no file is opened)."""
    root = Path(landing)
    states = []
    for ref in scan_landing(root).batches:
        folder = root / ref.system / ref.entity / ref.batch
        try:
            st = folder.stat()
            lines, changed = [], max(st.st_mtime, st.st_ctime)
            with os.scandir(folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.name.startswith("."):  # temporary files of a copy in progress
                        continue
                    fst = entry.stat(follow_symlinks=True)
                    lines.append(f"{entry.name}\t{fst.st_size}\t{fst.st_mtime_ns}")
                    changed = max(changed, fst.st_mtime, fst.st_ctime)
        except OSError:  # vanished or unreadable while we looked: look again next tick
            continue
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]
        states.append(BatchState(ref.system, ref.entity, ref.batch, digest, changed))
    return states


def parse_cursor(cursor: str | None) -> dict[str, str] | None:
    """The fingerprints recorded by the previous tick; None before the first tick."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        if data.get("v") == CURSOR_VERSION and isinstance(data.get("batches"), dict):
            return {str(k): str(v) for k, v in data["batches"].items()}
    except (ValueError, AttributeError):
        pass
    return None  # an unreadable cursor is treated as a first tick (the instance check still applies)


def dump_cursor(fingerprints: Mapping[str, str]) -> str:
    return json.dumps({"v": CURSOR_VERSION, "batches": dict(sorted(fingerprints.items()))},
                      separators=(",", ":"))


def latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, months: Iterable[str]
) -> dict[str, float]:
    """The newest materialisation time of each of `months` of the asset (absent: never)."""
    wanted = set(months)
    found: dict[str, float] = {}
    cursor = None
    while wanted - found.keys():
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=sorted(wanted)),
            limit=500, cursor=cursor, ascending=False,
        )
        for record in result.records:
            if record.partition_key in wanted and record.partition_key not in found:
                found[record.partition_key] = record.timestamp
        if not result.has_more:
            break
        cursor = result.cursor
    return found


def month_blocks(all_months: Iterable[str], changed: Iterable[str]) -> list[list[str]]:
    """The changed months grouped into blocks that no other month of `all_months` (the landing
    folder's) separates: each block is one partition range."""
    changed = set(changed)
    blocks: list[list[str]] = []
    current: list[str] = []
    for month in sorted(set(all_months) | changed):
        if month in changed:
            current.append(month)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def plan_runs(
    due: list[BatchState], all_months: Iterable[str], asset_graph
) -> list[dg.RunRequest]:
    """One run request per block of months (`month_blocks`): its changed entities and their downstream."""
    by_month: dict[str, set[dg.AssetKey]] = defaultdict(set)
    for state in due:
        by_month[state.month].add(state.asset_key)
    requests = []
    for block in month_blocks(all_months, by_month):
        keys = set().union(*(by_month[m] for m in block))
        selection = dg.AssetSelection.assets(*sorted(keys, key=lambda k: k.path)).downstream()
        selected = sorted(selection.resolve(asset_graph), key=lambda k: k.to_user_string())
        batches = sorted((s for s in due if s.month in block), key=lambda s: s.rel)
        run_key = "landing:" + hashlib.sha256(
            "\n".join(f"{s.rel}\t{s.fingerprint}" for s in batches).encode()
        ).hexdigest()[:24]
        tags = {TRIGGER_TAG: "landing_sensor", "strata/batches": str(len(batches))}
        if len(block) == 1:
            requests.append(dg.RunRequest(run_key=run_key, asset_selection=selected,
                                          partition_key=block[0], tags=tags))
        else:
            requests.append(dg.RunRequest(run_key=run_key, asset_selection=selected, tags={
                **tags, RANGE_START_TAG: block[0], RANGE_END_TAG: block[-1]}))
    return requests


@dg.sensor(
    name="landing_sensor",
    job=load_landed_batches,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Notices batches that land in (or are re-delivered to) the landing folder and loads "
    "the changed entities' months plus everything downstream. Cheap: folder listings and file stats "
    "only; never opens the warehouse.",
)
def landing_sensor(context: dg.SensorEvaluationContext, paths: StrataPaths) -> dg.SensorResult:
    landing = paths.landing
    previous = parse_cursor(context.cursor)
    quiet = max(0, paths.landing_quiet_seconds)
    now = time.time()
    partitions = set(month_keys(paths.settings().partitions.first_month))
    states, outside = [], []
    for state in batch_states(landing):
        (states if state.month in partitions else outside).append(state)
    present_rels = {s.rel for s in states}
    # Batch folders that are gone are forgotten (their rows stay in the warehouse).
    fingerprints = {rel: fp for rel, fp in (previous or {}).items() if rel in present_rels}

    changed = [s for s in states if fingerprints.get(s.rel) != s.fingerprint]
    settled = [s for s in changed if now - s.changed_at >= quiet]
    waiting = [s for s in changed if now - s.changed_at < quiet]

    # Skip what the instance already has newer than the batch's last change.
    due: list[BatchState] = []
    by_asset: dict[dg.AssetKey, list[BatchState]] = defaultdict(list)
    for s in settled:
        by_asset[s.asset_key].append(s)
    for key, group in by_asset.items():
        loaded = latest_materializations(context.instance, key, (s.month for s in group))
        due.extend(s for s in group if loaded.get(s.month, float("-inf")) < s.changed_at)
    for s in settled:
        fingerprints[s.rel] = s.fingerprint
    due.sort(key=lambda s: (s.month, s.rel))

    present = sorted({s.month for s in states})
    runs = plan_runs(due, present, context.repository_def.asset_graph) if due else []

    for s in outside:
        context.log.warning(f"{s.rel}: not loaded, {s.month} is no month partition (they run from "
                            f"partitions.first_month {min(partitions)} to the open month {max(partitions)})")
    for s in waiting:
        context.log.info(f"{s.rel}: changed {now - s.changed_at:.0f} s ago; waiting until it has "
                         f"been quiet for {quiet:.0f} s")
    for s in due:
        context.log.info(f"{s.rel}: {'re-delivered' if previous and s.rel in previous else 'new'} batch")
    skip = None
    if not runs:
        skip = ("no new or re-delivered batch" if not waiting
                else f"{len(waiting)} batch(es) still being written; waiting for them to settle")
    return dg.SensorResult(
        run_requests=runs,
        cursor=dump_cursor(fingerprints),
        skip_reason=skip,
    )


ALL_SENSORS = [landing_sensor]
