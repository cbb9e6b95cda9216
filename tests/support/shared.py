"""Session fixtures built once for the whole test run, also when pytest-xdist runs it in workers.

pytest runs a session-scoped fixture once per process: under xdist (the suite's default, pyproject's
`-n`), once per worker. For the expensive ones (a whole real run takes minutes) that is once too
often. `once_per_run` is pytest-xdist's documented pattern: the first worker to ask builds the
result in the folder all workers share (the parent of their `basetemp`), under a file lock; the
others wait for it and read the pickled result. A build that fails fails every test that asks,
each with the first worker's message, and is not tried again.

What is built there is shared: tests read it and copy it before they change anything.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from filelock import FileLock

T = TypeVar("T")


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """`build(folder)`, called once per test run with a fresh folder; its result must pickle."""
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process: a session fixture is once per run
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    result, failure = shared / f"{name}.pickle", shared / f"{name}.failed"
    with FileLock(str(shared / f"{name}.lock")):
        if result.exists():
            return pickle.loads(result.read_bytes())
        if failure.exists():
            pytest.fail(f"{name} (built by another worker) failed:\n{failure.read_text()}", pytrace=False)
        folder = shared / name
        folder.mkdir()
        try:
            value = build(folder)
        except BaseException as exc:
            failure.write_text("".join(traceback.format_exception(exc)))
            raise
        result.write_bytes(pickle.dumps(value))
        return value
