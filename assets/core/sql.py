"""SQL text: every path, name or value put into SQL goes through these two, never raw."""

from __future__ import annotations


def sql_literal(value: object) -> str:
    """A SQL string literal: single quotes doubled (`o'brien` → `'o''brien'`)."""
    text = str(value)
    if "\x00" in text:
        raise ValueError("a SQL string cannot hold a NUL character")
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier: double quotes doubled."""
    if "\x00" in name:
        raise ValueError("a SQL identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'
