"""Cheap checks before a run: the landing folder's layout and the months asked for.

`strata materialize` runs these before it imports Dagster or dbt, so a missing, empty or misspelled
landing folder is refused in a fraction of a second with a message that names the folder and what
to do, instead of after the dbt work. Only the standard library and the landing contract (YAML) are
imported here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

from assets.core.contract import SYSTEMS, entities

MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
LAYOUT = "<system>/<entity>/<YYYY-MM>/part-*.csv|parquet (systems: " + ", ".join(SYSTEMS) + ")"


class MaterializeError(RuntimeError):
    """The run could not start, or finished with failures; the message says what and where."""


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))  # metadata (the generator's _generator.json, .DS_Store)


def _batch_folders(landing: Path) -> list[Path]:
    """The batch folders `<system>/<entity>/<YYYY-MM>/` of `landing`, sorted."""
    return sorted(b for s in landing.iterdir() if s.is_dir() and not _hidden(s)
                  for e in s.iterdir() if e.is_dir() and not _hidden(e)
                  for b in e.iterdir() if b.is_dir() and MONTH_RE.fullmatch(b.name))


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close and name.lower() in choices:
        close = [name.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_landing(landing: Path) -> None:
    """Refuse a landing folder that cannot hold a batch: missing, empty, without system folders, or
    with a folder that is no system or entity of the landing contract."""
    landing = Path(landing)
    if not landing.exists():
        siblings = [p.name for p in landing.parent.iterdir() if p.is_dir()] if landing.parent.is_dir() else []
        raise MaterializeError(
            f"landing folder {landing} does not exist{_did_you_mean(landing.name, siblings)}: pass the "
            f"folder that holds the extracts ({LAYOUT}); `strata generate --out {landing}` writes sample ones"
        )
    if not landing.is_dir():
        raise MaterializeError(f"landing folder {landing} is a file, not a folder: pass the folder that "
                               f"holds the extracts ({LAYOUT})")
    children = sorted((p for p in landing.iterdir() if not _hidden(p)), key=lambda p: p.name)
    if not children:
        raise MaterializeError(
            f"landing folder {landing} is empty: expected {LAYOUT}. Deliver the extracts there, or write "
            f"sample ones with `strata generate --out {landing}`"
        )
    systems = [p for p in children if p.is_dir() and p.name in SYSTEMS]
    unknown = [p for p in children if p not in systems]
    if unknown:
        names = ", ".join(f"{p.name!r}{_did_you_mean(p.name, SYSTEMS)}" for p in unknown)
        nested = [p for p in unknown if p.is_dir() and any((p / s).is_dir() for s in SYSTEMS)]
        if not systems and nested:
            raise MaterializeError(
                f"landing folder {landing} holds no system folder ({', '.join(SYSTEMS)}), but {nested[0]} "
                f"does: pass --landing {nested[0]}"
            )
        found = "no system folder" if not systems else "system folders " + ", ".join(p.name for p in systems)
        what = "is not a system folder" if len(unknown) == 1 else "are not system folders"
        raise MaterializeError(
            f"landing folder {landing} holds {names}, which {what} of the landing contract ({found} "
            f"found): rename to one of {', '.join(SYSTEMS)} or move out of {landing}; expected {LAYOUT}"
        )
    known = {name for system, name in entities()}
    for system in systems:
        wrong = [p for p in sorted(system.iterdir())
                 if not _hidden(p) and (system.name, p.name) not in entities()]
        if wrong:
            own = sorted(e for s, e in entities() if s == system.name)
            names = ", ".join(f"{p.name!r}{_did_you_mean(p.name, own if p.name not in known else [])}"
                              for p in wrong)
            what = "is not an entity" if len(wrong) == 1 else "are not entities"
            raise MaterializeError(
                f"landing folder {system} holds {names}, which {what} of {system.name}: rename to one of "
                f"{', '.join(own)} or move out of {landing}"
            )
    if not _batch_folders(landing):
        raise MaterializeError(f"no batches found in {landing}: expected {LAYOUT}")


def open_month(now: dt.datetime | None = None) -> str:
    """The month in progress (UTC): the last month partition (assets/core/partitions.py)."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m")


def check_months(landing: Path, first_month: str, config_file: Path | str,
                 now: dt.datetime | None = None) -> None:
    """Refuse batch folders whose month is no month partition: before the configured first month
    (`partitions.first_month`) or after the open month. Dagster could not run them."""
    landing, last = Path(landing), open_month(now)
    folders = _batch_folders(landing)

    def named(batches: list[Path]) -> str:
        more = ", ..." if len(batches) > 3 else ""
        return ", ".join(str(b.relative_to(landing)) for b in batches[:3]) + more

    early = [b for b in folders if b.name < first_month]
    if early:
        earliest = min(b.name for b in early)
        raise MaterializeError(
            f"landing folder {landing} holds {len(early)} batch folder(s) before the first month partition "
            f"{first_month} ({named(early)}): set `partitions: first_month: \"{earliest}\"` in the "
            f"configuration ({config_file}) to load them, or move them out of {landing}"
        )
    late = [b for b in folders if b.name > last]
    if late:
        raise MaterializeError(
            f"landing folder {landing} holds {len(late)} batch folder(s) after the open month {last} "
            f"({named(late)}): a batch is the extract of a month that has begun; rename or move them out "
            f"of {landing}"
        )


def parse_months(text: str) -> list[str]:
    """`2025-01,2025-03..2025-06` → every month named or inside a range, sorted, once each."""
    months: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, sep, last = part.partition("..")
        first, last = first.strip(), (last.strip() if sep else first.strip())
        for month in (first, last):
            if not MONTH_RE.fullmatch(month):
                raise ValueError(f"{month!r} is not a month: write YYYY-MM, e.g. 2025-01,2025-03..2025-06")
        if last < first:
            raise ValueError(f"the range {part!r} ends before it starts: write the earlier month first")
        year, month = int(first[:4]), int(first[5:])
        while f"{year:04d}-{month:02d}" <= last:
            months.add(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not months:
        raise ValueError("no month given: write YYYY-MM, e.g. 2025-01,2025-03..2025-06")
    return sorted(months)


def contiguous_blocks(months: list[str], known: list[str]) -> list[list[str]]:
    """`months` split where a known month (in the landing folder or loaded before) between them is left
    out: each block is one partition range, so a run loads exactly the months asked for (a month in a
    range that is not known has no batch to load)."""
    position = {m: i for i, m in enumerate(known)}
    blocks: list[list[str]] = []
    for month in sorted(months, key=position.__getitem__):
        if blocks and position[month] == position[blocks[-1][-1]] + 1:
            blocks[-1].append(month)
        else:
            blocks.append([month])
    return blocks
