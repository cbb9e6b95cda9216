"""`strata prepare` and the start of `strata materialize`: the dbt manifest, parsed again only when
something it depends on changed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from assets.core.settings import load_settings

PREPARED_STAMP = "strata_prepared.json"


def prepare_dbt(
    warehouse: Path | None = None, settings_file: Path | None = None, force: bool = False
) -> bool:
    """Build the dbt manifest unless it was built from exactly this project; True if it parsed.

    A changed dbt project is never run from a stale manifest: the parse reruns when any file of
    dbt_project/ (models, macros, tests, seeds, dbt_project.yml, profiles.yml), dbt's version, the
    vars or a STRATA_*/DBT_* environment variable changed since the last one (the fingerprint in
    the target folder's strata_prepared.json), or when `force` (`strata prepare`). Otherwise the
    ~10-30 s of a `dbt parse` are saved.

    The project's `target/` holds the manifest the Dagster definitions load. `warehouse` (a run's
    warehouse file) adds the run's own parse, with the profile and vars of its `dbt build`, in its
    output folder's dbt target folder (`engines.dbt_target_dir`), where the run's dbt calls find it:
    dbt reuses a saved parse only when the profile (the warehouse path) and vars are unchanged, so
    reruns into one output folder parse once, and runs into other folders at the same time (test
    workers) never overwrite it.
    """
    from assets.core.dbt import dbt_project
    from assets.core.engines import dbt_env, dbt_target_dir, environment, resolve_target

    settings = load_settings(settings_file)
    target = resolve_target()
    files = _project_files(Path(dbt_project().project_dir))
    parsed = _prepare(target, settings, files, None, force)
    if warehouse is not None:
        # The parse sees the profile's environment of the run's `dbt build` (the warehouse's path).
        with environment(dbt_env(target, warehouse, warehouse.parent, settings.warehouse)):
            parsed = _prepare(target, settings, files, dbt_target_dir(warehouse.parent), force) or parsed
    return parsed


def _prepare(target: str, settings, files: bytes, into: Path | None, force: bool) -> bool:
    """`dbt parse` into `into` (None: the project's target folder) unless its stamp is current;
    `files` is the digest of the project's files (`_project_files`)."""
    import hashlib
    import json
    import os
    from importlib.metadata import version

    from assets.core.dbt import dbt_project, vars_arg

    args = ["parse", "--quiet", *vars_arg(settings), "--target", target]
    project = dbt_project()
    project_dir = Path(project.project_dir)
    digest = hashlib.sha256(json.dumps({
        "args": args, "dbt": version("dbt-core"), "dbt-duckdb": version("dbt-duckdb"),
        "env": sorted((k, v) for k, v in os.environ.items() if k.startswith(("STRATA_", "DBT_"))),
    }, sort_keys=True).encode())
    digest.update(files)
    fingerprint = digest.hexdigest()
    folder = into or Path(project.manifest_path).parent
    stamp = folder / PREPARED_STAMP

    def prepared() -> bool:
        return (stamp.exists() and (folder / "manifest.json").exists()
                and (folder / "partial_parse.msgpack").exists()
                and json.loads(stamp.read_text()).get("fingerprint") == fingerprint)

    if not force and prepared():
        return False
    with _one_at_a_time(folder):
        if not force and prepared():  # another process parsed exactly this while we waited
            return False
        _parse(project_dir, args, folder)
        stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
    return True


def _project_files(project_dir: Path) -> bytes:
    """A digest of every file of the dbt project (not dbt's own output folders), read once per
    `prepare_dbt`: the project's manifest and the run's own parse are both checked against it."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@contextlib.contextmanager
def _one_at_a_time(target: Path) -> Iterator[None]:
    """One parse at a time into `target` (test workers and deployments share the project's folder)."""
    import fcntl

    target.mkdir(parents=True, exist_ok=True)
    with open(target / "strata_prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _parse(project_dir: Path, args: list[str], target: Path) -> None:
    """`dbt parse` with `args`, writing the manifest and dbt's saved parse into `target`.

    Through strata-dbt (assets/core/dbt_executable.py), dbt's own command line, and without
    dagster-dbt's resource: that would ask dbt for its version and load dbt's adapter in this
    process first, about 5 CPU-seconds that a parse does not need.
    """
    import os
    import subprocess

    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    from assets.core import dbt_executable

    env = {**os.environ, "DBT_PROFILES_DIR": str(project_dir), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(target), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run([dbt_executable.path(), *args], cwd=project_dir, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise DagsterDbtCliRuntimeError(
            description=f"dbt parse failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
