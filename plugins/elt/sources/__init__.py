"""Source contracts: which files make which raw table, with which columns and key.

Every module of this package that defines `SOURCE` is a source, found when the package is imported: adding
a source is adding a module (its contract, generator, report sections and the tables a Python step owns),
with no registry to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
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
    `sheet`: the sheet of a matching workbook (XLSX) that the table loads; None for tables of other files (and for
    a workbook of one sheet). Tables naming different sheets may match the same workbook: each loads its sheet.
    `snapshot`: every partition holds the whole table as known that day, so a file with the same content as one of
    another partition is that day's snapshot (loaded, not a duplicate); two copies in one partition still are.
    """

    name: str
    patterns: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    every_day: bool = True
    personal: tuple[str, ...] = ()
    sheet: str | None = None
    snapshot: bool = False

    def __post_init__(self) -> None:
        for name in (self.name, *self.required, *self.optional, *self.key):
            check_identifier(name)
        if unknown := [c for c in self.personal if c not in self.columns]:
            raise ValueError(f"{self.name}: personal column(s) {', '.join(unknown)} are not in the contract")
        if self.sheet is not None and not self.sheet.strip():
            raise ValueError(f"{self.name}: an empty sheet name")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def matches(self, filename: str) -> bool:
        return any(fnmatch(filename.lower(), pattern) for pattern in self.patterns)


@dataclass(frozen=True)
class ReportSection:
    """One section of `elt report`: a query of a mart for one date, printed as a table.

    The date is the latest `date_column` of `mart` on or before the date asked for (the latest when none);
    the query gets it as `%(date)s`. A section whose mart is absent or empty is left out.
    """

    title: str
    mart: str
    query: str
    headers: tuple[str, ...]
    date_column: str = "as_of_date"

    def __post_init__(self) -> None:
        check_identifier(self.mart)
        check_identifier(self.date_column)


@dataclass(frozen=True)
class Source:
    """A source: its name, raw schema and tables, and what the framework does for it.

    `generator`: "module:function" writing sample files (see elt.generate); `report`: its sections of
    `elt report`; `ddl`: SQL creating the tables a Python step (not dbt) writes, run by the warehouse
    bootstrap before the grants (idempotent: `create ... if not exists`).
    """

    name: str
    tables: tuple[Table, ...]
    description: str = ""
    dag_ids: tuple[str, ...] = field(default=())
    generator: str = ""
    report: tuple[ReportSection, ...] = ()
    ddl: str = ""

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

    def tables_for(self, filename: str) -> tuple[Table, ...]:
        """The tables a landed file belongs to: every matching table that names a sheet (a workbook feeds one table
        per sheet), and the first matching table that names none; empty if no contract matches it."""
        matching = [table for table in self.tables if table.matches(filename)]
        first_plain = next((table for table in matching if table.sheet is None), None)
        return tuple(table for table in matching if table.sheet is not None or table is first_plain)

    def table_for(self, filename: str) -> Table | None:
        """The first table a landed file belongs to, or None if no contract matches it."""
        return next(iter(self.tables_for(filename)), None)


def _discover() -> dict[str, Source]:
    """Every source module of this package, by source name (in module order)."""
    found: dict[str, Source] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        source = getattr(module, "SOURCE", None)
        if not isinstance(source, Source):
            continue
        if source.name in found:
            raise ValueError(f"two modules define the source {source.name!r}")
        found[source.name] = source
    return found


SOURCES: dict[str, Source] = _discover()


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}") from None
