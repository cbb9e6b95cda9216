"""Finding batches in the landing folder, and refusing folders and paths that break the layout.

The layout (docs/landing-contract.md): `<root>/<system>/<entity>/<YYYY-MM>/part-*.csv|parquet`
plus an optional `_manifest.json`. Names starting with `_` or `.` are metadata (the generator's
`_generator.json`, `.DS_Store`, ...) and are ignored at every level, except the batch's own
`_manifest.json`. Everything else that does not fit the layout is a *folder refusal*: an unknown
system or entity folder, a batch folder that is not a month, a stray file, a system or entity folder
that is a symlink leaving the landing root. A month-named batch folder is always a batch: loading it
checks the rest (that it is a folder inside the landing root, its files), so a bad delivery there is
refused as that batch and its earlier version stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assets.core.contract import SYSTEMS, entities

from .errors import Refused

MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
DATA_SUFFIXES = (".csv", ".parquet")
MANIFEST = "_manifest.json"


@dataclass(frozen=True, order=True)
class BatchRef:
    system: str
    entity: str
    batch: str

    @property
    def rel(self) -> str:
        return f"{self.system}/{self.entity}/{self.batch}"


@dataclass(frozen=True)
class FolderRefusal:
    """Something in the landing folder that belongs to no loadable batch.

    `system`, `entity` and `batch` are the folder names as found (None below the level reached);
    `path` is relative to the landing root.
    """

    system: str | None
    entity: str | None
    batch: str | None
    path: str
    reason: str
    hint: str

    @property
    def message(self) -> str:
        return Refused(self.path, self.reason, self.hint).message


@dataclass(frozen=True)
class LandingScan:
    batches: list[BatchRef]
    refusals: list[FolderRefusal]

    @property
    def months(self) -> list[str]:
        return sorted({b.batch for b in self.batches})


@dataclass(frozen=True)
class BatchFiles:
    """A batch folder's files, checked: data files in part order, the manifest if any."""

    dir: Path
    data: list[Path]
    manifest: Path | None


def is_metadata(name: str) -> bool:
    return name.startswith(("_", "."))


def is_month(name: str) -> bool:
    return MONTH_RE.fullmatch(name) is not None


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, with every symlink resolved, stays inside the (resolved) landing root."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


OUTSIDE = ("it is a symlink that points outside the landing root",
           "deliver the files themselves into the landing folder, not links to other places")
MONTH_HINT = "name the batch folder after the fiscal month it covers, as YYYY-MM (e.g. 2026-10)"


def scan_landing(root: Path | str) -> LandingScan:
    """Every batch folder of the landing root, and every folder refusal, both in sorted order."""
    root = Path(root).resolve()
    batches: list[BatchRef] = []
    refusals: list[FolderRefusal] = []
    if not root.is_dir():
        return LandingScan(batches, refusals)
    known = entities()

    def refuse(level: tuple, path: Path, reason: str, hint: str) -> None:
        refusals.append(FolderRefusal(*level, rel(root, path), reason, hint))

    def folders(parent: Path, level, what: str):
        """The sub-folders of `parent` to walk; refuses files and symlinks leaving the root."""
        for p in sorted(parent.iterdir()):
            if is_metadata(p.name):
                continue
            if not inside(root, p):
                refuse(level(p.name), p, *OUTSIDE)
            elif not p.is_dir():
                refuse(level(p.name), p, f"a file where the layout expects {what} folder",
                       "put part files in <system>/<entity>/<YYYY-MM>/ folders, or start the names "
                       "of metadata files with '_'")
            else:
                yield p

    for sdir in folders(root, lambda n: (n, None, None), "a system"):
        system = sdir.name
        if system not in SYSTEMS:
            refuse((system, None, None), sdir, f"unknown system folder {system!r}",
                   f"the landing contract's systems are {', '.join(SYSTEMS)} (lower case); rename "
                   "or remove the folder")
            continue
        for edir in folders(sdir, lambda n, s=system: (s, n, None), "an entity"):
            entity = edir.name
            if (system, entity) not in known:
                names = sorted(e for s, e in known if s == system)
                refuse((system, entity, None), edir, f"unknown entity folder {entity!r}",
                       f"the {system} entities of the landing contract are {', '.join(names)}; "
                       "rename or remove the folder")
                continue
            for bdir in sorted(edir.iterdir()):
                if is_metadata(bdir.name):
                    continue
                if is_month(bdir.name):
                    batches.append(BatchRef(system, entity, bdir.name))
                elif bdir.is_dir():
                    refuse((system, entity, bdir.name), bdir,
                           f"batch folder {bdir.name!r} is not a month", MONTH_HINT)
                else:
                    refuse((system, entity, bdir.name), bdir,
                           "a file where the layout expects a month folder",
                           "put part files in <system>/<entity>/<YYYY-MM>/ folders")
    return LandingScan(batches, refusals)


def check_names(system: str, entity: str, batch: str) -> None:
    """Refuse names that are not a contract entity and a month (this also keeps `..` out)."""
    where = f"{system}/{entity}/{batch}"
    if (system, entity) not in entities():
        raise Refused(where, f"unknown system/entity {system}/{entity}",
                      "use a system and entity of the landing contract (assets/core/extracts.yml)")
    if not is_month(batch):
        raise Refused(where, f"batch {batch!r} is not a month", MONTH_HINT)


def batch_files(root: Path | str, ref: BatchRef) -> BatchFiles:
    """The checked file list of one batch folder; raises Refused for anything out of place."""
    root = Path(root).resolve()
    check_names(ref.system, ref.entity, ref.batch)
    bdir = root / ref.system / ref.entity / ref.batch
    for p in (root / ref.system, root / ref.system / ref.entity, bdir):
        if not inside(root, p):
            raise Refused(rel(root, p), *OUTSIDE)
    if not bdir.is_dir():
        raise Refused(ref.rel, "the batch folder does not exist or is not a folder",
                      "deliver the batch as <system>/<entity>/<YYYY-MM>/part-0001.csv")
    data: list[Path] = []
    manifest = None
    for p in sorted(bdir.iterdir()):
        if not inside(root, p):
            raise Refused(rel(root, p), *OUTSIDE)
        if p.name == MANIFEST:
            manifest = p
        elif is_metadata(p.name):
            continue
        elif p.is_dir():
            raise Refused(rel(root, p), "a folder inside a batch folder",
                          "a batch is a flat folder of part files; move the files up or remove it")
        elif p.suffix.lower() in DATA_SUFFIXES:
            data.append(p)
        else:
            raise Refused(rel(root, p), f"unknown kind of file {p.name!r} in a batch folder",
                          "deliver part files as .csv or .parquet; start the names of metadata "
                          "files with '_'")
    if not data:
        raise Refused(ref.rel, "the batch folder holds no .csv or .parquet file",
                      "deliver at least one part file (it may hold only a header)")
    return BatchFiles(bdir, data, manifest)
