"""The one exception of ingestion: a batch (or a landing folder) is refused."""

from __future__ import annotations


class Refused(Exception):  # noqa: N818 - it reads as what happened to the batch
    """Raised while checking a batch: nothing of it may be loaded.

    `path` is the file or folder at fault (relative to the landing root), `reason` says what is
    wrong with it and `hint` what the sender should do about it.
    """

    def __init__(self, path: str, reason: str, hint: str = ""):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.hint = path, reason, hint

    @property
    def message(self) -> str:
        text = f"{self.path}: {self.reason.rstrip('.')}."
        if self.hint:
            text += f" What to do: {self.hint.rstrip('.')}."
        return text
