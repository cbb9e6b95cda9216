"""`strata-dbt`: the executable the dbt resource runs dbt with (`DbtCliResource(dbt_executable=...)`).

It is dbt's own command line, except for `dbt --version`: dagster-dbt asks the executable for its
version before every dbt call (to tell dbt Core from dbt Fusion), and dbt answers only after
importing its whole command line, 3 CPU-seconds per dbt step (docs/performance.md). This answers
from the installed package's metadata, in the form dbt prints it. Importing this module imports
nothing else of strata, so the answer costs a bare Python start.

It also runs dbt in the folder `STRATA_DBT_WORKDIR` names (the warehouse's folder), when set: the
profile then names the warehouse by its file name (`STRATA_WAREHOUSE`, assets/core/engines.py:
`dbt_env`), the same for every output folder. dbt makes its whole parse again when the profile
changes, so one saved parse serves every output folder (assets/core/dbt_parse.py) instead of a
full parse, seconds of CPU, for each new one.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

NAME = "strata-dbt"
WORKDIR_ENV = "STRATA_DBT_WORKDIR"


def path() -> str:
    """`strata-dbt` beside this interpreter (installed with the project: pyproject's scripts), else
    on PATH. Never plain `dbt`: it would open the warehouse relative to the project's folder."""
    beside = Path(sys.executable).with_name(NAME)
    return str(beside) if beside.exists() else shutil.which(NAME) or NAME


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(f"Core:\n  - installed: {version('dbt-core')}")
        return
    workdir = os.environ.get(WORKDIR_ENV)
    if workdir:
        # The project and its profiles stay where the caller ran dbt (dagster-dbt: the project's
        # folder); options given on the command line still take precedence over these.
        os.environ.setdefault("DBT_PROJECT_DIR", os.getcwd())
        os.environ.setdefault("DBT_PROFILES_DIR", os.getcwd())
        os.chdir(workdir)
    from dbt.cli.main import cli

    sys.exit(cli())
