"""A tiny builder of parameterised WHERE clauses: values always travel as $n parameters."""

from __future__ import annotations

from typing import Any


class Where:
    """Collects `AND`ed conditions and their arguments, numbering placeholders in order."""

    def __init__(self, first: int = 1) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []
        self._first = first

    def arg(self, value: Any) -> str:
        """A placeholder for `value`."""
        self.args.append(value)
        return f"${self._first + len(self.args) - 1}"

    def add(self, clause: str, *values: Any) -> None:
        """Add a condition; `{}` in it are replaced by placeholders for `values`, in order."""
        self.clauses.append(clause.format(*(self.arg(v) for v in values)))

    def copy(self) -> Where:
        other = Where(self._first)
        other.clauses = list(self.clauses)
        other.args = list(self.args)
        return other

    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.clauses)) if self.clauses else ""
