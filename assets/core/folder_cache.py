"""A cache of folders of files, one entry per key, shared by every output folder and test worker.

Used for the dbt docs site (assets/docs_cache.py) and for dbt's saved parse (assets/core/dbt_parse.py).
An entry is written into a temporary folder and renamed into place whole, so a reader never finds a
half-written entry under a key; its `entry.json` holds the key's parts and the sha256 of every file,
checked before the entry is used. Old entries are pruned to the newest few.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

ENTRY = "entry.json"  # the key's parts and the sha256 of every file; written last, before the rename
STALE_SECONDS = 3600  # a temporary folder this old belongs to a writer that died


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def entry_problem(entry: Path, required: Iterable[str] = ()) -> str | None:
    """None when `entry` is a whole entry (every file its entry.json lists, with that sha256, and
    every `required` file among them), else what is wrong with it."""
    try:
        files = json.loads((entry / ENTRY).read_text(encoding="utf-8"))["files"]
        for name in required:
            if name not in files:
                return f"the cached entry has no {name}"
        for name, sha in files.items():
            if file_sha256(entry / name) != sha:
                return f"the cached {name} differs from what was stored"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"the cached entry is unreadable ({type(err).__name__}: {err})"
    return None


def entry_parts(entry: Path) -> dict[str, str] | None:
    """The key's parts an entry was stored with (None if its entry.json is unreadable)."""
    try:
        return json.loads((entry / ENTRY).read_text(encoding="utf-8"))["parts"]
    except (OSError, ValueError, KeyError):
        return None


def store(built: Path, cache: Path, key: str, parts: dict[str, str], names: Iterable[str]) -> None:
    """Store the files `names` of `built` (those that exist) under `key`."""
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".tmp-{key[:16]}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {}
        for name in names:
            if (built / name).is_file():
                shutil.copyfile(built / name, tmp / name)
                files[name] = file_sha256(tmp / name)
        (tmp / ENTRY).write_text(json.dumps({"parts": parts, "files": files}, indent=1), encoding="utf-8")
        # Fails when another worker stored the same key first: its entry is as good as this one.
        with contextlib.suppress(OSError):
            os.rename(tmp, cache / key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_entry(path: Path) -> None:
    """Rename first, so no reader finds a half-deleted entry under its key; then delete."""
    trash = path.with_name(f".trash-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except OSError:
        return  # already gone (another worker pruned it)
    shutil.rmtree(trash, ignore_errors=True)


def entries(cache: Path) -> list[Path]:
    """The whole entries (named by their key), newest first; temporary folders start with a dot."""
    found = []
    for p in cache.iterdir() if cache.is_dir() else []:
        if p.name.startswith("."):
            continue
        try:
            found.append((p.stat().st_mtime, p))
        except OSError:
            continue
    return [p for _, p in sorted(found, reverse=True)]


def prune(cache: Path, keep: int) -> None:
    """Keep the newest `keep` entries; delete the temporary folders of writers that died."""
    for old in entries(cache)[keep:]:
        remove_entry(old)
    now = time.time()
    for p in cache.glob(".t*-*") if cache.is_dir() else []:
        try:
            stale = p.name.startswith(".trash-") or now - p.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)
