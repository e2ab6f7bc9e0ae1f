"""Exceptions gnnkit raises for bad input, naming the file, line and field."""

from __future__ import annotations

from os import PathLike


class GnnkitError(ValueError):
    """Base class of every error gnnkit raises about a user's input."""


class DataError(GnnkitError):
    """Bad input data, located by file, line (1-based, header included) and
    field.

    Example:
        >>> raise DataError("not a number", path="nodes.csv", line=3,
        ...                 field="weight")
        DataError: nodes.csv, line 3, field 'weight': not a number
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class ModelError(GnnkitError):
    """A model, checkpoint or configuration that cannot be used as asked."""
