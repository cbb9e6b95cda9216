"""tests/support/ci.py: what a test does when this machine lacks something it needs."""

import pytest

from tests.support.ci import missing


def test_something_missing_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        missing("no server")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        missing("no server")
