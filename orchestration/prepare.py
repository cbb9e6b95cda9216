"""`strata prepare` and the start of `strata materialize`: the dbt manifest, parsed again only when
something it depends on changed."""

from __future__ import annotations

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
    target/strata_prepared.json), or when `force` (`strata prepare`). Otherwise the ~10-30 s of a
    `dbt parse` are saved.

    `warehouse` (a run's warehouse file) and `settings_file` make the parse see the same profile
    and vars as the run's `dbt build`: dbt reuses the saved parse (partial parsing) only when
    both are unchanged, and re-parses the whole project inside the run otherwise.
    """
    import hashlib
    import json
    import os
    from importlib.metadata import version

    from dagster_dbt import DagsterDbtProjectPreparer

    from assets.core.dbt import dbt_project, vars_arg
    from assets.core.engines import dbt_env, environment, resolve_target

    settings = load_settings(settings_file)
    target = resolve_target()
    # The parse sees the profile's environment of the run's `dbt build` (the warehouse's path).
    env = dbt_env(target, warehouse, warehouse.parent, settings.warehouse) if warehouse is not None else {}
    with environment(env):
        args = ["parse", "--quiet", *vars_arg(settings), "--target", target]
        project = dbt_project()
        project_dir = Path(project.project_dir)
        digest = hashlib.sha256(json.dumps({
            "args": args, "dbt": version("dbt-core"), "dbt-duckdb": version("dbt-duckdb"),
            "env": sorted((k, v) for k, v in os.environ.items() if k.startswith(("STRATA_", "DBT_"))),
        }, sort_keys=True).encode())
        for path in sorted(project_dir.rglob("*")):
            rel = path.relative_to(project_dir)
            if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
                digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
        fingerprint = digest.hexdigest()
        target = Path(project.manifest_path).parent
        stamp = target / PREPARED_STAMP
        if (not force and stamp.exists() and project.manifest_path.exists()
                and (target / "partial_parse.msgpack").exists()
                and json.loads(stamp.read_text()).get("fingerprint") == fingerprint):
            return False
        DagsterDbtProjectPreparer(prepare_project_cli_args=args).prepare(project)
        stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
        return True
