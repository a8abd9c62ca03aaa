"""XLSX reader: one sheet of a workbook as a CSV stream for COPY, parsed (expat) as the zip member is inflated.

Memory stays bounded: the sheet is read in 64 KiB pieces and emitted row by row; a row is capped at
MAX_ROW_XML_BYTES of XML; the workbook's small parts (workbook, relationships, styles) at MAX_PART_BYTES; the shared
strings (held in memory, as every reader of XLSX does) at MAX_SHARED_STRINGS_BYTES. openpyxl's read-only mode
streams too, but took 3x the CPU here, and it hides what this reader must see: a formula without a cached value
(it reads as an empty cell), merged ranges and each row's number. python-calamine is 3-4x faster but holds the
whole sheet in memory (README, Benchmarks).

Values as COPY text: text cells quoted, numbers in shortest round-trip form (integers without `.0`), numbers in a
date format as ISO dates or timestamps, booleans true/false, empty cells NULL, error cells (#N/A) as their text.
`_source_row` is the row number Excel shows; empty rows are skipped.
"""

from __future__ import annotations

import posixpath
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from xml.parsers import expat

from elt.streams import MAX_RECORD_BYTES, CsvStream, FileError, MiB, Wanted, normalise_column, quoted

FEED_BYTES = 64 << 10
CHUNK_BYTES = 1 << 20
MAX_PART_BYTES = 32 * MiB
MAX_SHARED_STRINGS_BYTES = 256 * MiB  # memory the shared-strings table may take (Python objects, as measured)
MAX_ROW_XML_BYTES = 4 * MAX_RECORD_BYTES  # the XML of one row (a value may be escaped: &amp; is 5 bytes for 1)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
REL_OFFICE_DOCUMENT = "/officeDocument"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Built-in number formats (ECMA-376 18.8.30) that are dates or times; 27-36 and 50-58 are the East Asian ones
# (zh-CN: 27 yyyy"年"m"月", 31 yyyy"年"m"月"d"日", 32 h"时"mm"分", ...).
BUILTIN_DATES = {
    **dict.fromkeys((14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58), "date"),
    **dict.fromkeys((18, 19, 20, 21, 32, 33, 34, 35, 45, 46, 47, 55, 56), "time"),
}
MS_PER_DAY = 86_400_000
LAST_SERIAL = 2_958_466  # 9999-12-31 is 2,958,465


@dataclass(frozen=True)
class Workbook:
    """What a workbook's small parts say: its sheets (name -> part, in workbook order), where its shared strings and
    styles are, and whether its dates count from 1904."""

    sheets: dict[str, str]
    shared_strings: str | None
    styles: str | None
    date1904: bool


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attribute(element: ET.Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (r:id)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _read_part(archive: zipfile.ZipFile, name: str, shown: str) -> bytes | None:
    """A small part of the workbook, whole (None if absent); one larger than MAX_PART_BYTES is an error."""
    try:
        handle = archive.open(name)
    except KeyError:
        return None
    with handle:
        data = handle.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise FileError(f"{shown}: the workbook's part {name} is larger than {MAX_PART_BYTES // MiB} MiB")
    return data


def _parse_part(archive: zipfile.ZipFile, name: str, shown: str) -> ET.Element | None:
    data = _read_part(archive, name, shown)
    if data is None:
        return None
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise FileError(f"{shown}: the workbook's part {name} is not readable XML ({exc})") from None


def _relationships(archive: zipfile.ZipFile, part: str, shown: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, target part name)."""
    folder, name = posixpath.split(part)
    root = _parse_part(archive, posixpath.join(folder, "_rels", f"{name}.rels"), shown)
    found = {}
    for rel in root.iter() if root is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return found


def read_workbook(archive: zipfile.ZipFile, shown: str) -> Workbook:
    """The workbook's sheets and parts, from its package relationships (xl/workbook.xml by default)."""
    package = _relationships(archive, "", shown).values()
    main = next((t for kind, t in package if kind.endswith(REL_OFFICE_DOCUMENT)), None) or "xl/workbook.xml"
    root = _parse_part(archive, main, shown)
    if root is None:
        raise FileError(f"{shown}: a zip file but not an XLSX workbook (it has no {main})")
    rels = _relationships(archive, main, shown)
    sheets, date1904 = {}, False
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "sheet":
            kind, target = rels.get(_attribute(element, "id") or "", ("", ""))
            if kind.endswith("/worksheet"):
                sheets[element.get("name", "")] = target
        elif tag == "workbookPr":
            date1904 = element.get("date1904", "").lower() in ("1", "true")
    by_kind = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
    return Workbook(sheets, by_kind.get("sharedStrings"), by_kind.get("styles"), date1904)


def _number_format_kind(code: str) -> str | None:
    from openpyxl.styles.numbers import is_datetime

    kind = is_datetime(code)
    return "date" if kind == "date" else "time" if kind == "time" else "datetime" if kind else None


def date_styles(archive: zipfile.ZipFile, part: str | None, shown: str) -> dict[str, str]:
    """Cell style index (the `s` attribute, as text) -> date, datetime or time, for the styles whose number format
    shows a date or a time."""
    root = _parse_part(archive, part, shown) if part else None
    if root is None:
        return {}
    custom = {
        element.get("numFmtId", ""): element.get("formatCode", "")
        for element in root.iter()
        if _local(element.tag) == "numFmt"
    }
    cell_xfs = next((element for element in root.iter() if _local(element.tag) == "cellXfs"), None)
    kinds = {}
    for index, xf in enumerate(x for x in (cell_xfs if cell_xfs is not None else ()) if _local(x.tag) == "xf"):
        number_format = xf.get("numFmtId", "0")
        if number_format in custom:
            kind = _number_format_kind(custom[number_format])
        else:
            kind = BUILTIN_DATES.get(int(number_format)) if number_format.isdigit() else None
            kind = "datetime" if number_format == "22" else kind
        if kind:
            kinds[str(index)] = kind
    return kinds


def _unescaped(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return match.group() if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)  # no NUL, no lone surrogate


def unescape(text: str) -> str:
    """OOXML's escapes of characters XML cannot hold (_x000D_ is a carriage return); _x0000_ and surrogates, which
    no text column can hold, stay as written."""
    return _ESCAPED.sub(_unescaped, text) if "_x" in text else text


class _SharedStrings:
    """Collects <si> texts (runs of rich text joined; phonetic runs left out) as CSV fields, within the memory cap.
    The handlers are closures, as in SheetParser."""

    def __init__(self, shown: str, parser: expat.XMLParserType) -> None:
        self.shown, self.parser = shown, parser
        self.fields: list[str] = []
        self.size = 0
        parser.StartElementHandler = self._root

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        prefix = name[: name.index(":") + 1] if ":" in name else ""
        SI, T, RPH = prefix + "si", prefix + "t", prefix + "rPh"
        add = self._add
        parts: list[str] = []
        text: str | None = None
        phonetic = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal text, phonetic
            if name == T:
                text = "" if not phonetic else None
            elif name == SI:
                parts.clear()
            elif name == RPH:
                phonetic += 1

        def end(name: str) -> None:
            nonlocal text, phonetic
            if name == T:
                if text is not None:
                    parts.append(text)
                    text = None
            elif name == SI:
                add(parts[0] if len(parts) == 1 else "".join(parts))
            elif name == RPH:
                phonetic -= 1

        def characters(data: str) -> None:
            nonlocal text
            if text is not None:
                text += data
                if len(text) > MAX_RECORD_BYTES:
                    add(text)  # fails naming the string, before it grows further

        self.parser.StartElementHandler, self.parser.EndElementHandler = start, end
        self.parser.CharacterDataHandler = characters

    def _add(self, text: str) -> None:
        if len(text) > MAX_RECORD_BYTES:
            raise FileError(
                f"{self.shown}: shared string {len(self.fields):,} is longer than {MAX_RECORD_BYTES // MiB} MiB"
            )
        value = quoted(unescape(text)) if text else ""
        self.size += sys.getsizeof(value) + 8
        if self.size > MAX_SHARED_STRINGS_BYTES:
            raise FileError(
                f"{self.shown}: the workbook's shared strings need more than {MAX_SHARED_STRINGS_BYTES // MiB} MiB"
                f" of memory ({len(self.fields):,} strings read so far): too large to load"
            )
        self.fields.append(value)


def shared_strings(archive: zipfile.ZipFile, part: str | None, shown: str) -> list[str]:
    """The shared strings as CSV fields (an empty string is NULL), read in pieces."""
    if not part:
        return []
    try:
        handle = archive.open(part)
    except KeyError:
        return []
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = FEED_BYTES
    table = _SharedStrings(shown, parser)
    with handle:
        try:
            for piece in iter(lambda: handle.read(FEED_BYTES), b""):
                parser.Parse(piece, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise FileError(f"{shown}: the workbook's shared strings are not readable XML ({exc})") from None
    return table.fields


@lru_cache(maxsize=4096)
def _day_text(epoch: date, days: int) -> str:
    return (epoch + timedelta(days=days)).isoformat()


def excel_date(value: str, kind: str, date1904: bool) -> str:
    """A number in a date or time format as ISO text (to the millisecond, as Excel keeps it): YYYY-MM-DD for a date
    format and a whole day, YYYY-MM-DD HH:MM:SS[.fff] otherwise, HH:MM:SS[.fff] for a time format under one day.
    A number no date can be (negative, past 9999, Excel's phantom 1900-02-29) stays a number."""
    try:
        serial = float(value)
    except ValueError:
        return quoted(value)
    if not 0 <= serial < LAST_SERIAL or (not date1904 and 60 <= serial < 61):
        return plain_number(value)
    epoch = date(1904, 1, 1) if date1904 else date(1899, 12, 31) if serial < 60 else date(1899, 12, 30)
    days, ms = divmod(round(serial * MS_PER_DAY), MS_PER_DAY)
    if kind == "date" and not ms:
        return _day_text(epoch, days)
    seconds, fraction = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    clock = f"{hour:02d}:{minute:02d}:{second:02d}" + (f".{fraction:03d}" if fraction else "")
    if kind == "time" and days == 0:
        return clock
    return f"{_day_text(epoch, days)} {clock}"


def plain_number(value: str) -> str:
    """A number as COPY text: integers without `.0`, others in shortest round-trip form (Excel may write 17 digits:
    4237.3199999999997 is 4237.32). Text that is no number is loaded as it is (the validation flags it)."""
    if value.isdigit():
        return value
    try:
        number = float(value)
    except ValueError:
        return quoted(value)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def column_index(letters: str) -> int:
    """A column's letters as a 0-based index: A is 0, Z 25, AA 26."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class SheetParser:
    """Push parser of one sheet's XML: complete rows become CSV lines (the wanted columns and the row number); the
    first row with values is the header. Problems are FileErrors naming the cell (DATA!B7) or the row.

    The handlers expat calls for every element are closures over local state (`_handlers`): with attributes on
    `self` the parse takes about a third longer."""

    def __init__(self, shown: str, sheet: str, wanted: Wanted, workbook: Workbook, shared: list[str]) -> None:
        self.shown, self.sheet, self.wanted, self.shared = shown, sheet, wanted, shared
        self.styles: dict[str, str] = {}
        self.date1904 = workbook.date1904
        self.header: list[str] | None = None  # the column names (normalised), once row 1 is read
        self.selected: list[int] = []
        self.lines: list[str] = []
        self.rows = 0
        self.merged = 0  # merged ranges seen, and the first one
        self.first_merged = ""
        self.row_number = 0
        self.row_start = 0  # bytes fed when the current row started
        self.fed = 0
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.buffer_size = FEED_BYTES
        self.parser.StartElementHandler = self._root

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        """The root element: the namespace prefix that every element of the sheet carries (usually none)."""
        prefix = name[: name.index(":") + 1] if ":" in name else ""
        start, end, text = self._handlers(prefix)
        self.parser.StartElementHandler, self.parser.EndElementHandler = start, end
        self.parser.CharacterDataHandler = text

    def feed(self, data: bytes, final: bool = False) -> None:
        self.fed += len(data)
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            where = f"after row {self.row_number:,}" if self.row_number else "before its first row"
            raise FileError(f"{self.shown}: sheet {self.sheet}: the sheet's XML is malformed {where} ({exc})") from None
        if self.fed - self.row_start > MAX_ROW_XML_BYTES:
            raise FileError(
                f"{self.shown}: {self.sheet} row {self.row_number:,}: more than {MAX_ROW_XML_BYTES // MiB} MiB of XML"
                " in one row: a runaway value, or not a sheet of rows"
            )

    def _handlers(self, prefix: str):  # one closure per expat event, kept together for speed
        """expat's start, end and text handlers for a sheet whose elements carry `prefix`."""
        C, V, ROW, F, T, IS, RPH, MERGE = (prefix + n for n in ("c", "v", "row", "f", "t", "is", "rPh", "mergeCell"))
        shared, styles, date1904 = self.shared, self.styles, self.date1904
        columns: dict[str, int] = {}
        row: dict[int, str] = {}
        ref = kind = style = value = formula = text = None
        inline = ""
        phonetic = 0
        in_header = True  # until the header row is complete

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal ref, kind, style, value, formula, text, inline, phonetic, row
            if name == C:
                ref, kind, style = attrs.get("r"), attrs.get("t"), attrs.get("s")
                value = formula = None
                inline = ""
            elif name == V or name == F:
                text = ""
            elif name == ROW:
                row = {}
                self.row_start_row(attrs.get("r"))
            elif name == T:
                if not phonetic:
                    text = ""
            elif name == RPH:
                phonetic += 1
            elif name == MERGE:
                self.merged += 1
                self.first_merged = self.first_merged or attrs.get("ref", "?")

        def end(name: str) -> None:
            nonlocal value, formula, text, inline, phonetic, in_header
            if name == V:
                value, text = text, None
            elif name == C:
                if not value and kind != "inlineStr":  # no <v>, or an empty one (openpyxl writes <f>..</f><v/>)
                    if formula is not None and not (value == "" and kind == "str"):  # "" is a formula's empty text
                        self.no_cached_value(ref or "?", formula)
                    return
                if ref:
                    letters = ref.rstrip("0123456789")
                    column = columns.get(letters)
                    if column is None:
                        column = columns[letters] = column_index(letters)
                else:
                    column = max(row, default=-1) + 1
                if in_header:
                    row[column] = self.header_name(column, kind, style, value, inline)
                    return
                if kind is None:
                    date_kind = styles.get(style) if style else None
                    if date_kind:
                        field_text = excel_date(value, date_kind, date1904)
                    else:
                        field_text = value if value.isdigit() else plain_number(value)
                elif kind == "s":
                    if not value.isdigit():
                        self.bad_shared_string(ref or "?", value)
                    try:
                        field_text = shared[int(value)]
                    except IndexError:
                        self.bad_shared_string(ref or "?", value)
                else:
                    field_text = self.other_value(kind, style, value, inline, ref)
                if field_text:
                    row[column] = field_text
            elif name == ROW:
                self.row_done(row)
                in_header = self.header is None
            elif name == F:
                formula, text = text, None
            elif name == T:
                if text is not None:
                    inline, text = inline + text, None
            elif name == RPH:
                phonetic -= 1

        def characters(data: str) -> None:
            nonlocal text
            if text is not None:
                text += data
                if len(data) >= 4096 and len(text) > MAX_RECORD_BYTES:  # long text comes in pieces of 64 KiB
                    self.too_long(ref or f"row {self.row_number}")

        return start, end, characters

    def too_long(self, ref: str) -> None:
        raise FileError(f"{self.shown}: {self.sheet}!{ref}: a value longer than {MAX_RECORD_BYTES // MiB} MiB")

    def row_start_row(self, number: str | None) -> None:
        self.row_number = int(number) if number else self.row_number + 1
        self.row_start = self.fed

    def no_cached_value(self, ref: str, formula: str) -> None:
        raise FileError(
            f"{self.shown}: {self.sheet}!{ref}: a formula (={formula[:200]}) without a cached value: the workbook was"
            " saved by a program that does not calculate formulas; open it in Excel and save it, or export the values"
        )

    def bad_shared_string(self, ref: str, value: str) -> None:
        raise FileError(
            f"{self.shown}: {self.sheet}!{ref}: refers to shared string {value!r}, which the workbook does not have"
            f" ({len(self.shared):,} shared strings): the workbook is corrupt"
        )

    def other_value(self, kind: str, style: str | None, value: str | None, inline: str, ref: str | None) -> str:
        """A cell that is not a number or a shared string, as a CSV field ("" for NULL)."""
        if kind == "n":
            date_kind = self.styles.get(style) if style else None
            return excel_date(value, date_kind, self.date1904) if date_kind else plain_number(value)
        if kind == "b":
            return "true" if value.strip().lower() in ("1", "true") else "false"
        text = unescape(inline if kind == "inlineStr" else value)  # inlineStr, str (a formula's), e (#N/A), d (ISO)
        if len(text) > MAX_RECORD_BYTES:
            raise FileError(f"{self.shown}: {self.sheet}!{ref}: a value longer than {MAX_RECORD_BYTES // MiB} MiB")
        return quoted(text) if text else ""

    def header_name(self, column: int, kind: str | None, style: str | None, value: str | None, inline: str) -> str:
        """A header cell's text; a header that is not on row 1, or a cell of it that is no text, is a FileError."""
        ref = f"{column_letters(column)}{self.row_number}"
        if self.row_number != 1:
            raise FileError(
                f"{self.shown}: sheet {self.sheet}: no header on row 1 (row 1 is empty; the first row with values is"
                f" row {self.row_number:,}): the column names must be on row 1"
            )
        if kind not in ("s", "inlineStr", "str"):
            what = "a date" if style in self.styles else "a boolean" if kind == "b" else "a number"
            raise FileError(
                f"{self.shown}: sheet {self.sheet}: row 1 is not a header: {self.sheet}!{ref} holds {what} ({value}),"
                " not a column name: the column names must be on row 1"
            )
        if kind == "s":
            if not (value.isdigit() and int(value) < len(self.shared)):
                self.bad_shared_string(ref, value)
            field_text = self.shared[int(value)]
        else:
            field_text = self.other_value(kind, style, value, inline, ref)
        return field_text[1:-1].replace('""', '"') if field_text else ""

    def row_done(self, row: dict[int, str]) -> None:
        """A row complete: the header (the first row with values), or a CSV line of the wanted columns."""
        self.row_start = self.fed
        if not row:
            return
        if self.header is None:
            self.header = [normalise_column(row.get(i, "")) for i in range(max(row) + 1)]
            self.selected = [i for i, name in enumerate(self.header) if name in self.wanted]
            return
        width = len(self.header)
        if max(row) >= width:
            beyond = min(i for i in row if i >= width)
            raise FileError(
                f"{self.shown}: {self.sheet}!{column_letters(beyond)}{self.row_number}: a value in a column without a"
                f" header (the header ends at column {column_letters(width - 1)})"
            )
        fields = [row.get(i, "") for i in self.selected]
        fields.append(str(self.row_number))
        self.lines.append(",".join(fields))
        self.rows += 1

    def take(self) -> bytes:
        """The CSV lines completed so far, as bytes (and forget them)."""
        text = "\n".join(self.lines) + "\n"
        self.lines.clear()
        return text.encode("utf-8")


def _choose_sheet(workbook: Workbook, wanted: Wanted, shown: str) -> tuple[str, str]:
    """The sheet to read (its name as the workbook spells it) and its part."""
    names = list(workbook.sheets)
    present = ", ".join(names) if names else "none"
    if wanted.sheet is None:
        if len(names) != 1:
            raise FileError(f"{shown}: the workbook has {len(names)} sheets ({present}) and the table names none")
        return names[0], workbook.sheets[names[0]]
    for name in names:  # Excel's sheet names are unique without regard to case
        if name.casefold() == wanted.sheet.casefold():
            return name, workbook.sheets[name]
    raise FileError(f"{shown}: the workbook has no sheet {wanted.sheet}; its sheets: {present}")


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise FileError(
            f"{path}: not a readable XLSX workbook: the zip archive is truncated or corrupt ({exc})"
        ) from None


def _rows(archive: zipfile.ZipFile, part: str, parser: SheetParser) -> Iterator[bytes]:
    """Feed the sheet's XML to `parser` in pieces; after each piece, the CSV bytes of the rows completed (b"" until
    enough are). Closes the archive."""
    shown, sheet = parser.shown, parser.sheet
    try:
        try:
            handle = archive.open(part)
        except KeyError:
            raise FileError(f"{shown}: sheet {sheet}: its part {part} is missing: the workbook is corrupt") from None
        with handle:
            while True:
                piece = handle.read(FEED_BYTES)
                parser.feed(piece, final=not piece)
                if not piece:
                    break
                yield parser.take() if len(parser.lines) >= 4096 else b""
    except ZIP_ERRORS as exc:
        where = f"after row {parser.row_number:,}" if parser.row_number else "before its first row"
        raise FileError(f"{shown}: sheet {sheet}: the workbook is truncated or corrupt {where} ({exc})") from None
    finally:
        archive.close()
    if parser.merged:
        more = f" (and {parser.merged - 1:,} more)" if parser.merged > 1 else ""
        raise FileError(
            f"{shown}: {sheet}!{parser.first_merged}: merged cells{more}: a merged range shows one value over several"
            " cells, so the rows it spans are ambiguous; unmerge them (and fill every cell) in the export"
        )
    if parser.lines:
        yield parser.take()


def _open_sheet(path: Path, wanted: Wanted) -> tuple[zipfile.ZipFile, str, SheetParser]:
    """The workbook open, the sheet's part and a parser for it (shared strings and date styles read)."""
    shown = str(path)
    archive = _open_archive(path)
    try:
        workbook = read_workbook(archive, shown)
        sheet, part = _choose_sheet(workbook, wanted, shown)
        parser = SheetParser(shown, sheet, wanted, workbook, shared_strings(archive, workbook.shared_strings, shown))
        parser.styles = date_styles(archive, workbook.styles, shown)
    except ZIP_ERRORS as exc:
        archive.close()
        raise FileError(f"{shown}: not a readable XLSX workbook: the zip archive is corrupt ({exc})") from None
    except BaseException:
        archive.close()
        raise
    return archive, part, parser


def read_xlsx(path: Path, wanted: Wanted) -> CsvStream:
    """One sheet of a workbook (the table's `sheet`) as a CSV stream of the wanted columns and the row numbers."""
    archive, part, parser = _open_sheet(path, wanted)
    rows = _rows(archive, part, parser)
    for _ in rows:  # up to the header
        if parser.header is not None:
            break
    if parser.header is None:
        raise FileError(f"{path}: sheet {parser.sheet} is empty (no header, no rows)")
    header = parser.header
    return CsvStream(
        columns=[header[i] for i in parser.selected],
        chunks=(chunk for chunk in rows if chunk),
        first_line=2,
        extra=[name for name in header if name not in wanted],
        selected=True,
        row_numbers=True,
    )
