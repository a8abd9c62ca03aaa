"""JSON reader: a file holding one array of objects (records) as a CSV stream for COPY, one record at a time (ijson,
yajl2 C backend).

Keys are column names (normalised like a CSV header); a required key missing from a record fails naming the record,
keys no contract names are reported (like a CSV's extra columns) and not loaded. Values: null is NULL, numbers keep
their exact value (int or Decimal, never a float), true/false, strings as they are, nested arrays and objects as
their JSON text. `_source_row` is the record's index in the array (0-based, as `jq '.[N]'` finds it).

Memory stays bounded: one record at a time, each at most MAX_RECORD_BYTES of JSON. The bytes are checked as UTF-8
before the parser sees them, so text in another encoding (GBK) fails naming the record and the byte.
"""

from __future__ import annotations

import ast
import codecs
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from elt.streams import (
    MAX_RECORD_BYTES,
    CsvStream,
    FileError,
    MiB,
    Wanted,
    bytes_text,
    encoding_hint,
    normalise_column,
    quoted,
)

FEED_BYTES = 64 << 10
CHUNK_CHARS = 1 << 20
MAX_LEADING_BYTES = 1 * MiB  # whitespace before the array
BOM = b"\xef\xbb\xbf"


class _Utf8Source:
    """The file as the parser reads it: a BOM dropped, checked as UTF-8, and capped per record. An invalid byte
    ends the data handed to the parser just before it, so the parser stops in the record that holds it; the error
    is raised on the parser's next read, naming the record being parsed then."""

    def __init__(self, handle: BinaryIO, shown: str, start: int) -> None:
        self.handle, self.shown = handle, shown
        self.position = start  # file offset of the next byte to hand to the parser
        self.mark = start  # file offset where the record being parsed starts (about: the parser reads ahead)
        self.record = 0  # index of the record being parsed
        self.pending = b""  # an incomplete UTF-8 sequence at the end of the last piece
        self.invalid: tuple[int, bytes] | None = None  # (file offset, bytes from there) of text that is not UTF-8

    def read(self, size: int = FEED_BYTES) -> bytes:
        if size == 0:  # ijson asks for nothing first, to learn whether the file gives bytes or text
            return b""
        while True:
            self._check()
            data = self.handle.read(max(size, 4096))
            text = self.pending + data
            valid = self._valid(text, final=not data)
            self.pending = text[valid:] if self.invalid is None else b""
            self.position += valid
            if valid or (not data and self.invalid is None):
                return text[:valid]

    def _check(self) -> None:
        """Raise what is wrong with the data read so far: text that is not UTF-8, a record past the cap."""
        if self.invalid is not None:
            offset, bad = self.invalid
            raise FileError(
                f"{self.shown}: record [{self.record:,}]: text that is not UTF-8 ({bytes_text(bad[:4])} at byte"
                f" {offset:,}){encoding_hint(bad)}: save the file as UTF-8"
            )
        if self.position - self.mark > MAX_RECORD_BYTES:
            raise FileError(
                f"{self.shown}: record [{self.record:,}]: more than {MAX_RECORD_BYTES // MiB} MiB of JSON in one"
                " record: a runaway value, or not an array of records"
            )

    def _valid(self, text: bytes, final: bool) -> int:
        """How many bytes of `text` are whole UTF-8 characters; an invalid byte is noted."""
        try:
            return codecs.utf_8_decode(text, "strict", final)[1]
        except UnicodeDecodeError as exc:
            self.invalid = (self.position + exc.start, text[exc.start : exc.start + 16])
            return exc.start


def _start_of_array(handle: BinaryIO, shown: str) -> int:
    """The offset of the top-level `[` (after a BOM and whitespace); anything else is a FileError."""
    head = handle.read(MAX_LEADING_BYTES)
    start = len(BOM) if head.startswith(BOM) else 0
    body = head[start:].lstrip()
    if not body:
        raise FileError(f"{shown}: no JSON value in the first {MAX_LEADING_BYTES // MiB} MiB (only white space)")
    if body[:1] != b"[":
        found = "an object ({)" if body[:1] == b"{" else f"{body[:20]!r}"
        raise FileError(
            f"{shown}: the top level is {found}, not an array: the file must hold one array of records, [{{...}}, ...]"
        )
    return start


def _yajl_problem(exc: Exception) -> tuple[str, str]:
    """yajl's words for a parse error and the text where it happened."""
    text = str(exc)
    if text[:2] in ("b'", 'b"'):
        try:
            text = ast.literal_eval(text).decode("utf-8", "replace")
        except (ValueError, SyntaxError):
            pass
    lines = [line.strip() for line in text.strip().splitlines()]
    return (lines[0] if lines else text), (lines[1][:80] if len(lines) > 1 else "")


def _parse_error(exc: Exception, shown: str, index: int) -> FileError:
    problem, near = _yajl_problem(exc)
    if "premature EOF" in problem:
        return FileError(
            f"{shown}: record [{index:,}]: the file ends before this record is complete or the array is closed: it is"
            " truncated (still being copied, or cut short)"
        )
    if "trailing garbage" in problem:
        return FileError(
            f"{shown}: after the array's last record [{index - 1:,}]: more data follows the array ({near!r}): a file"
            " holds one array"
        )
    return FileError(f"{shown}: record [{index:,}]: invalid JSON ({problem}; near {near!r})")


def json_text(value: Any) -> str:
    """A nested value as compact JSON text (numbers exact: a Decimal is written as it is)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json_text(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


class _Records:
    """Turns records into CSV lines of the wanted columns and the record's index; notes extra keys."""

    def __init__(self, shown: str, wanted: Wanted) -> None:
        self.shown, self.wanted = shown, wanted
        self.required = set(wanted.required)
        self.known = set(wanted.columns)
        self.names: dict[str, str] = {}  # key as written -> column name
        self.extra: list[str] = []

    def line(self, record: Any, index: int) -> str:
        if not isinstance(record, dict):
            raise FileError(
                f"{self.shown}: record [{index:,}]: {_kind(record)}, not an object: every element of the array must"
                ' be an object such as {"column": value, ...}'
            )
        values = self._by_column(record, index)
        fields = []
        for column in self.wanted.columns:
            if column in values:
                fields.append(self._field(values[column], index, column))
            elif column in self.required:
                raise FileError(
                    f"{self.shown}: record [{index:,}]: no key {column} (a required column); the record has"
                    f" {', '.join(record)[:300] or 'no keys'}"
                )
            else:
                fields.append("")
        fields.append(str(index))
        return ",".join(fields)

    def _by_column(self, record: dict[str, Any], index: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in record.items():
            name = self.names.get(key)
            if name is None:
                name = self.names[key] = normalise_column(key)
                if name not in self.known and name not in self.extra:
                    self.extra.append(name)
            if name in values:
                raise FileError(f"{self.shown}: record [{index:,}]: two keys name column {name} (key {key!r})")
            values[name] = value
        return values

    def _field(self, value: Any, index: int, column: str) -> str:
        if value is None:
            return ""
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, str):
            if "\x00" in value:
                raise FileError(f"{self.shown}: record [{index:,}]: {column} holds a NUL character (\\u0000): not text")
            return quoted(value)
        if isinstance(value, (int, Decimal)):
            return str(value)
        try:
            return quoted(json_text(value))
        except RecursionError:
            raise FileError(f"{self.shown}: record [{index:,}]: {column} is nested too deeply") from None


def _encoded(lines: list[str], shown: str, first: int) -> bytes:
    text = "\n".join(lines) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        for offset, line in enumerate(lines):
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                raise FileError(
                    f"{shown}: record [{first + offset:,}]: a lone surrogate escape (\\ud800-\\udfff): not text"
                ) from None
        raise


def _chunks(handle: BinaryIO, source: _Utf8Source, records: _Records) -> Iterator[bytes]:
    import ijson

    lines: list[str] = []
    size = first = 0
    index = -1
    try:
        for index, record in enumerate(ijson.items(source, "item", use_float=False, buf_size=FEED_BYTES)):
            source.record, source.mark = index + 1, source.position
            line = records.line(record, index)
            lines.append(line)
            size += len(line)
            if size >= CHUNK_CHARS:
                yield _encoded(lines, source.shown, first)
                lines, size, first = [], 0, index + 1
    except ijson.JSONError as exc:
        raise _parse_error(exc, source.shown, index + 1) from None
    finally:
        handle.close()
    if lines:
        yield _encoded(lines, source.shown, first)


def read_json(path: Path, wanted: Wanted) -> CsvStream:
    """A JSON array of records as a CSV stream of the wanted columns (contract order) and the record index."""
    shown = str(path)
    handle = path.open("rb")
    try:
        start = _start_of_array(handle, shown)
        handle.seek(start)
    except BaseException:
        handle.close()
        raise
    records = _Records(shown, wanted)
    source = _Utf8Source(handle, shown, start)
    return CsvStream(
        columns=list(wanted.columns),
        chunks=_chunks(handle, source, records),
        first_line=0,
        extra=records.extra,
        selected=True,
        row_numbers=True,
    )
