"""dbt's saved parse, made again only when something it depends on changed.

Two folders hold one:
- the dbt project's `target/`: the manifest the Dagster definitions load (`strata prepare`, and the
  start of `strata materialize`);
- each output folder's dbt target folder (`engines.dbt_target_dir`): the saved parse of that
  folder's own dbt calls, made with the environment of the folder's `dbt build`, which reruns into
  that folder reuse. The first dbt step of a run makes sure of it (`ensure_run_parsed`);
  `strata materialize` starts it while the batches load, and the step then only waits for what is
  left of it.

dbt reuses a saved parse only while the profile and the vars are unchanged. The profile names the
warehouse by its file name, relative to the folder dbt runs in (`engines.dbt_env`,
`dbt_executable`), so it is the same for every output folder, and so is the parse: each one made
for an output folder is kept in `<project target>/parse_cache/<fingerprint>/`, and a new output
folder with the same fingerprint copies it (milliseconds) instead of a full parse (about 10 CPU-s).

A parse reruns when any file of dbt_project/ (models, macros, tests, seeds, dbt_project.yml,
profiles.yml), dbt's version, the vars, the target or a STRATA_*/DBT_* variable of the environment
the parse sees changed since the last one: the fingerprint in the folder's strata_prepared.json.
One parse at a time into a folder (an fcntl lock, re-checked after waiting), whoever asks: test
workers, deployments and a run's own background parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path

from assets.core import folder_cache
from assets.core.dbt_executable import WORKDIR_ENV

PREPARED_STAMP = "strata_prepared.json"
# Where a parse is written and where dbt runs: not part of the profile, so not of the parse either.
FOLDER_ENV = ("DBT_TARGET_PATH", "DBT_LOG_PATH", WORKDIR_ENV)
# The output folders' parses, one per fingerprint, beside the prepared manifest: a new output folder
# copies the one its fingerprint names instead of a full parse.
PARSE_CACHE = "parse_cache"
PARSE_CACHE_KEEP = 4  # entries kept; each is a few MB
PARSE_FILES = ("manifest.json", "partial_parse.msgpack", "semantic_manifest.json")


def ensure_parsed(target: str, settings, into: Path | None = None, env: Mapping[str, str] | None = None,
                  force: bool = False, files: bytes | None = None) -> bool:
    """`dbt parse` into `into` (None: the project's target folder) unless its stamp is current;
    True if it parsed. `env` is added to this process's environment for the parse (the profile's
    settings); `files` is the digest of the project's files when the caller has it already."""
    from assets.core.dbt import dbt_project, vars_arg

    args = ["parse", "--quiet", *vars_arg(settings), "--target", target]
    project = dbt_project()
    project_dir = Path(project.project_dir)
    env = {**os.environ, **(env or {})}
    digest = hashlib.sha256(json.dumps({
        "args": args, "dbt": version("dbt-core"), "dbt-duckdb": version("dbt-duckdb"),
        "env": sorted((k, v) for k, v in env.items()
                      if k.startswith(("STRATA_", "DBT_")) and k not in FOLDER_ENV),
    }, sort_keys=True).encode())
    digest.update(project_files(project_dir) if files is None else files)
    fingerprint = digest.hexdigest()
    folder = into or Path(project.manifest_path).parent
    stamp = folder / PREPARED_STAMP

    def prepared() -> bool:
        return (stamp.exists() and (folder / "manifest.json").exists()
                and (folder / "partial_parse.msgpack").exists()
                and json.loads(stamp.read_text()).get("fingerprint") == fingerprint)

    if not force and prepared():
        return False
    shared = Path(project.manifest_path).parent / PARSE_CACHE if into is not None else None
    with _one_at_a_time(folder):
        if not force and prepared():  # another process or thread parsed exactly this while we waited
            return False
        if shared is not None and not force and _copy_shared(shared / fingerprint, folder):
            stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
            return False
        _parse(project_dir, args, folder, env)
        stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
    if shared is not None:
        folder_cache.store(folder, shared, fingerprint, {"fingerprint": fingerprint}, PARSE_FILES)
        folder_cache.prune(shared, PARSE_CACHE_KEEP)
    return True


def _copy_shared(entry: Path, folder: Path) -> bool:
    """Copy the shared parse `entry` into `folder`; False when there is none (or it is damaged, or
    another worker pruned it meanwhile): then the folder is parsed."""
    if not entry.is_dir():
        return False
    if folder_cache.entry_problem(entry, required=PARSE_FILES[:2]) is not None:
        folder_cache.remove_entry(entry)  # replaced by the parse made now
        return False
    try:
        for name in PARSE_FILES:
            if (entry / name).is_file():
                shutil.copyfile(entry / name, folder / name)
    except OSError:
        return False
    return True


def ensure_run_parsed(target: str, warehouse: Path, out: Path, settings, force: bool = False,
                      files: bytes | None = None) -> bool:
    """The saved parse of the dbt calls into `out` (its dbt target folder), made with the profile
    environment of its `dbt build`; True if it parsed."""
    from assets.core.engines import dbt_env, dbt_target_dir

    return ensure_parsed(target, settings, dbt_target_dir(out),
                         dbt_env(target, warehouse, out, settings.warehouse), force, files)


def project_files(project_dir: Path) -> bytes:
    """A digest of every file of the dbt project (not dbt's own output folders)."""
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@contextlib.contextmanager
def _one_at_a_time(folder: Path) -> Iterator[None]:
    """One parse at a time into `folder`. flock conflicts between two open files, so this holds
    between threads of one process as between processes."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "strata_prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _parse(project_dir: Path, args: list[str], folder: Path, env: Mapping[str, str]) -> None:
    """`dbt parse` with `args` and `env`, writing the manifest and dbt's saved parse into `folder`.

    Through strata-dbt (assets/core/dbt_executable.py), dbt's own command line, and without
    dagster-dbt's resource: that would ask dbt for its version and load dbt's adapter in this
    process first, about 5 CPU-seconds that a parse does not need.
    """
    import subprocess

    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    from assets.core import dbt_executable

    env = {**env, "DBT_PROFILES_DIR": str(project_dir), "DBT_TARGET_PATH": str(folder),
           "DBT_LOG_PATH": str(folder), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run([dbt_executable.path(), *args], cwd=project_dir, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise DagsterDbtCliRuntimeError(
            description=f"dbt parse failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
