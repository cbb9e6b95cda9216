"""The layers import one way (docs/architecture.md, contracts in pyproject.toml `[tool.importlinter]`):
`orchestration` → `quality` → `assets` → `assets.core`, and `quality` reads only `assets.core`.

Runs import-linter's own command, so a violation fails CI with import-linter's explanation."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_layer_imports_only_the_layers_below_it():
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout, result.stdout  # every contract in pyproject.toml ran
