"""`strata-dbt`: the executable the dbt resource runs dbt with (`DbtCliResource(dbt_executable=...)`).

It is dbt's own command line, except for `dbt --version`: dagster-dbt asks the executable for its
version before every dbt call (to tell dbt Core from dbt Fusion), and dbt answers only after
importing its whole command line, 3 CPU-seconds per dbt step (docs/performance.md). This answers
from the installed package's metadata, in the form dbt prints it. Importing this module imports
nothing else of strata, so the answer costs a bare Python start.
"""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import version
from pathlib import Path

NAME = "strata-dbt"


def path() -> str:
    """`strata-dbt` beside this interpreter (installed with the project: pyproject's scripts), else
    on PATH; plain `dbt` where neither is installed (a checkout not synced since it was added)."""
    beside = Path(sys.executable).with_name(NAME)
    return str(beside) if beside.exists() else shutil.which(NAME) or "dbt"


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(f"Core:\n  - installed: {version('dbt-core')}")
        return
    from dbt.cli.main import cli

    sys.exit(cli())
