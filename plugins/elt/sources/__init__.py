"""Source contracts: which files make which raw table, with which columns and key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatch

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_identifier(name: str) -> str:
    """Return `name` if it is a safe lowercase SQL identifier, else raise."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a valid identifier: {name!r}")
    return name


@dataclass(frozen=True)
class Table:
    """A raw table's contract: the files it comes from, its columns and key.

    `every_day`: a file is expected for every partition (freshness counts a day without one as missing).
    False for tables that are sent only when they change, or whose daily delta has no file on a quiet day.
    `personal`: columns that hold personal data (names, contact details, precise location): their failing
    values are masked in audit.dq_exceptions, and no mart may carry them.
    """

    name: str
    patterns: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    every_day: bool = True
    personal: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (self.name, *self.required, *self.optional, *self.key):
            check_identifier(name)
        if unknown := [c for c in self.personal if c not in self.columns]:
            raise ValueError(f"{self.name}: personal column(s) {', '.join(unknown)} are not in the contract")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def matches(self, filename: str) -> bool:
        return any(fnmatch(filename.lower(), pattern) for pattern in self.patterns)


@dataclass(frozen=True)
class Source:
    """A source: its name, raw schema and tables."""

    name: str
    tables: tuple[Table, ...]
    description: str = ""
    dag_ids: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_identifier(self.name)

    @property
    def schema(self) -> str:
        return f"raw_{self.name}"

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"source {self.name!r} has no table {name!r}")

    def table_for(self, filename: str) -> Table | None:
        """The table a landed file belongs to, or None if no contract matches it."""
        return next((table for table in self.tables if table.matches(filename)), None)


def _registry() -> dict[str, Source]:
    from elt.sources import thelook, vouchers

    return {source.name: source for source in (vouchers.SOURCE, thelook.SOURCE)}


SOURCES: dict[str, Source] = _registry()


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}") from None
