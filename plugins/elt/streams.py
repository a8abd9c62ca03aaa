"""What every reader hands the loader: a CSV stream for COPY, the error that names a file's problem, what the loader
wants from a file, and the pieces the readers share (header names, CSV fields, hints about text that is not UTF-8).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

MiB = 1 << 20
MAX_RECORD_BYTES = 16 * MiB  # one CSV record (a line, or several when a quoted value holds line ends); one value


class FileError(Exception):
    """A landed file cannot be loaded: the message names the file and the problem."""


@dataclass
class CsvStream:
    """A file as CSV for COPY: its columns (in the file's order), the data chunks (no header).

    `selected`: the chunks hold only the contract's columns (the reader left the `extra` ones out), so the loader
    copies them straight in. `row_numbers`: every record ends with one more field, its `_source_row`, for files
    whose rows are not numbered one after the other (a sheet's empty rows are skipped). `extra` may grow while the
    chunks are read (a JSON record with keys the earlier ones did not have).
    """

    columns: list[str]
    chunks: Iterator[bytes]
    first_line: int  # line or record number of the first data row in the file
    extra: list[str] = field(default_factory=list)  # columns in the file that no contract names (not loaded)
    selected: bool = False
    row_numbers: bool = False
    not_utf8: Callable[[], bytes] | None = None
    written: list[str] = field(default_factory=list)  # a CSV header's names as the file writes them (for messages)


@dataclass(frozen=True)
class Wanted:
    """What the loader wants from a file: the contract's columns (in contract order), the required ones, and for a
    workbook the sheet (None: the workbook's only sheet). `name in wanted` tests a column."""

    columns: tuple[str, ...]
    required: tuple[str, ...] = ()
    sheet: str | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    @classmethod
    def of(cls, wanted: Collection[str]) -> Wanted:
        """A Wanted from a Wanted or a plain collection of column names (none required, no sheet)."""
        return wanted if isinstance(wanted, Wanted) else cls(tuple(sorted(wanted)))


_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


def normalise_column(name: str) -> str:
    """A header name as an identifier: BOM removed, stripped, lowercase, every run of characters other than
    [a-z0-9_] one `_`, no `_` at either end (`ORDER_TIME  (PST)` is `order_time_pst`)."""
    return _NOT_IDENTIFIER.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


def quoted(text: str) -> str:
    """A CSV field that COPY reads as this text (quoted: an empty string stays an empty string, not NULL)."""
    return '"' + text.replace('"', '""') + '"'


def encoding_hint(raw: bytes) -> str:
    """` (possibly GBK/GB18030 ...)` when bytes that are not UTF-8 read as Chinese characters in GB18030 (the
    encoding of Chinese Windows exports); empty otherwise."""
    for end in range(len(raw), 1, -1):  # the bytes may stop inside a character
        try:
            text = raw[:end].decode("gb18030")
        except UnicodeDecodeError:
            continue
        if any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text):
            shown = re.match(r"[^\x00-\x7f]*", text).group()[:8]  # the run of non-ASCII text the bytes start
            return f" (possibly GBK/GB18030-encoded Chinese: they read as {shown!r} in GB18030)"
        return ""
    return ""


def bytes_text(raw: bytes) -> str:
    """Bytes as Postgres shows them in an encoding error: 0xd6 0xd0."""
    return " ".join(f"0x{byte:02x}" for byte in raw)
