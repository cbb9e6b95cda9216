"""Which step failures are worth another try, and when: the one home of strata's step retries.

The jobs carry no retry policy. Dagster turns an interrupt (SIGINT, a SIGTERM, a termination from
the UI) into a retry when the interrupted step has one, so a run asked to stop would wait and go
on. Instead a step raises `dg.RetryRequested` (through `retry_later`) for the failures known to be
transient, and only for them; every other failure fails the step at once, and an interrupt ends
the run (docs/operations.md, "Retries, time limits, one writer").

Transient: the warehouse locked by another process (DuckDB "Could not set lock on file"), a full
disk, a network share that timed out or went stale, and what a module marks as `Transient` (the
PostgreSQL server unreachable, the warehouse busy for the publisher). The schedule: 3 retries,
10 s, 30 s and 70 s after each failure, so a lock held for up to about two minutes is waited out.
"""

from __future__ import annotations

import errno
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

MAX_RETRIES = 3
FIRST_DELAY_SECONDS = 10

# What the exception says when DuckDB (or dbt through it) meets one of the transient conditions:
# DuckDB reports an OS error as text in its own exception, not as an OSError.
WAREHOUSE_LOCKED = "Could not set lock on file"
TRANSIENT_MESSAGES = (WAREHOUSE_LOCKED, "No space left on device", "Disk quota exceeded")
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.ESTALE, errno.ETIMEDOUT})


class Transient(Exception):
    """An error its module knows another try may cure (a server unreachable, a writer running)."""


def retry_delay(retry_number: int) -> int:
    """Seconds before the next try, after `retry_number` earlier retries: 10, 30, 70 (exponential,
    (2^n - 1) x 10 s). No jitter: the warehouse pool lets one step run at a time."""
    return FIRST_DELAY_SECONDS * (2 ** (retry_number + 1) - 1)


def names_transient(message: str) -> bool:
    """Whether an error's text names a transient condition (DuckDB's, or dbt's through DuckDB)."""
    return any(m in message for m in TRANSIENT_MESSAGES)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` (or an error it was raised from) is a transient condition. A `dg.Failure` is
    a decision the step already made: never retried (dagster-dbt's error is one: `failed_build`
    turns a transient one into `Transient`)."""
    if isinstance(exc, dg.Failure):
        return False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Transient):
            return True
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
            return True
        if names_transient(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retries_left(context) -> bool:
    """Whether this step may still be tried again."""
    return context.retry_number < MAX_RETRIES


def retry_later(context, reason: BaseException | str) -> dg.RetryRequested:
    """The retry request for a transient failure of this step, on the schedule above; `reason` is
    logged (pass a scrubbed text where the error may hold a secret). Raise it `from` the cause.
    Only while `retries_left`: after the last retry the step must fail with its cause, or Dagster's
    failure would say only "Exceeded max_retries"."""
    n = context.retry_number
    context.log.warning(f"transient failure, retry {n + 1} of {MAX_RETRIES} in {retry_delay(n)} s: "
                        f"{str(reason).strip()[:500]}")
    return dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=retry_delay(n))


def transient_retries(fn: Callable) -> Callable:
    """Decorates a step's body (its first parameter the context; plain or generator): a transient
    failure becomes a retry request, anything else goes on as it is (an interrupt is no Exception,
    so it ends the run). Put it under Dagster's decorator; the signature Dagster reads is `fn`'s."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def steps(context, *args, **kwargs):
            with _retrying(context):
                yield from fn(context, *args, **kwargs)

        return steps

    @functools.wraps(fn)
    def step(context, *args, **kwargs):
        with _retrying(context):
            return fn(context, *args, **kwargs)

    return step


@contextmanager
def _retrying(context) -> Iterator[None]:
    try:
        yield
    except dg.RetryRequested:
        raise
    except Exception as exc:
        if is_transient(exc) and retries_left(context):
            raise retry_later(context, exc) from exc
        raise  # not transient, or no retry left: the step fails with its cause
