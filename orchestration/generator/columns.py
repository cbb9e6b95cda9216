"""Building pyarrow columns from numpy arrays, fast and exact.

Money is carried as integer minor units (cents) and written as `decimal128` built straight from those
integers: no floating point reaches a decimal column. Identifiers are formatted as fixed-width byte
strings in numpy and handed to Arrow without a per-row Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
SF_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None or valid.all():
        return None, 0
    valid = np.asarray(valid, dtype=bool)
    return pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little")), int((~valid).sum())


def _strings(buf: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Rows of a 2-D uint8 array (one fixed-width ASCII string each) as an Arrow string array."""
    n, width = buf.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    bitmap, nulls = _validity(valid)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)), bitmap, nulls
    )


def _digits(numbers: np.ndarray, width: int, alphabet: np.ndarray = DIGITS) -> np.ndarray:
    x = np.asarray(numbers, dtype=np.int64).copy()
    if len(x) and x.min() < 0:
        raise ValueError("identifiers are built from non-negative numbers")
    base = len(alphabet)
    out = np.zeros((width, len(x)), dtype=np.uint8)  # digit rows, transposed once at the end
    for k in range(width - 1, -1, -1):
        x, digit = np.divmod(x, base)
        out[k] = alphabet[digit]
    if len(x) and x.max() > 0:
        raise ValueError(f"a number does not fit in {width} digits")
    return out.T


def ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """e.g. ids("SI", [42], 9) -> ["SI000000042"] (null where not valid)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if valid is not None:
        numbers = np.where(valid, numbers, 0)
    p = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    head = np.broadcast_to(p, (len(numbers), len(p)))
    return _strings(np.hstack([head, _digits(numbers, width)]), valid)


def sf_ids(key_prefix: str, numbers: np.ndarray) -> pa.Array:
    """18-character Salesforce-style record ids: a 3-character key prefix, "5g", ten base-62 digits and
    the 3-character case-safe checksum suffix Salesforce computes from the upper-case letters."""
    head = np.frombuffer((key_prefix + "5g").encode("ascii"), dtype=np.uint8)
    body = np.hstack([np.broadcast_to(head, (len(numbers), 5)), _digits(numbers, 10, BASE62)])
    upper = ((body >= ord("A")) & (body <= ord("Z"))).astype(np.int64)
    weights = 1 << np.arange(5)
    suffix = np.stack(
        [SF_SUFFIX[(upper[:, 5 * i : 5 * i + 5] * weights).sum(axis=1)] for i in range(3)], axis=1
    )
    return _strings(np.hstack([body, suffix]))


def money(units: np.ndarray, scale: int = 2, valid: np.ndarray | None = None) -> pa.Array:
    """Integer minor units as decimal128(18, scale): money(np.array([1234]), 2) -> 12.34."""
    units = np.asarray(units, dtype=np.int64)
    words = np.zeros(2 * len(units), dtype=np.int64)  # little-endian 128-bit words: low, high
    words[0::2] = units
    words[1::2] = units >> 63  # two's-complement sign extension
    validity, null_count = _validity(valid)
    return pa.Array.from_buffers(
        pa.decimal128(18, scale), len(units), [validity, pa.py_buffer(words)], null_count=null_count
    )


def _mask(valid: np.ndarray | None) -> np.ndarray | None:
    return None if valid is None else ~np.asarray(valid, dtype=bool)


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=_mask(valid))


def bools(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_(), mask=_mask(valid))


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=_mask(valid))


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s", tz="UTC"), mask=_mask(valid))


def labels(categories, codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Category names picked by integer codes (null where not valid)."""
    cats = categories if isinstance(categories, pa.Array) else pa.array(list(categories), pa.string())
    idx = pa.array(np.asarray(codes, dtype=np.int32), pa.int32(), mask=_mask(valid))
    return pc.take(cats, idx)


def constant(value: str, n: int) -> pa.Array:
    return labels([value], np.zeros(n, dtype=np.int32))


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Float amounts to integers, half away from zero (used only to *make* values, never to sum them)."""
    x = np.asarray(x, dtype=np.float64)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def div_round(numerator: int, denominator: int) -> int:
    """Exact integer division rounded half away from zero (Python ints: no overflow)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q
