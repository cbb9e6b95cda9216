"""What a test does when this machine lacks something it needs (a server, a browser, Java, a tool).

In CI (CI=true) it fails: `.ci/run` installs everything the suite needs, so a skip there would hide
a failure. Elsewhere it skips, saying what is missing and how to get it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(reason: str) -> NoReturn:
    """Fail in CI, skip elsewhere, with `reason`."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
