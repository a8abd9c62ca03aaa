"""The XLSX reader without a database: a sheet's cells as COPY text, row numbers as Excel shows them, and a clear
failure for each ambiguous or broken workbook. Workbooks are built here with openpyxl (and the project's writer, which
lays text out in a shared-strings table as Excel does)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from reader_memory import read_in_own_process

from elt import xlsx
from elt.generate.workbook import write_workbook
from elt.readers import FileError, Wanted, open_stream
from elt.streams import normalise_column

ORDERS = ("order_id", "order_time_pst", "city_district_id", "rptg_amt", "currency_cd", "order_qty")
HEADER = ["ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY"]
DATA = Wanted(ORDERS, ORDERS, "DATA")


def book(path: Path, sheets: dict[str, list[list]], build: Callable[[Workbook], None] | None = None) -> Path:
    """An openpyxl workbook of `sheets` (rows appended from row 1; None leaves a cell empty)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if build:
        build(workbook)
    workbook.save(path)
    return path


def rewrite(path: Path, part: str, change: Callable[[str], str]) -> Path:
    """Edit one XML part of a workbook (what another program would have written)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[part] = change(parts[part].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def read(path: Path, wanted: Wanted = DATA) -> tuple[list[str], list[str]]:
    """The stream's columns and its CSV lines."""
    stream = open_stream(path, wanted)
    assert stream.selected and stream.row_numbers
    text = b"".join(stream.chunks).decode()
    return stream.columns, text.split("\n")[:-1] if text else []


def order(n: int, **changes: object) -> list:
    at = datetime(2024, 3, 1, 10) + timedelta(seconds=n)
    row = {"id": f"G{n:010d}", "at": at, "district": 7, "amount": 12.5, "cur": "CNY"}
    row.update(changes)
    return [*row.values(), 2]


def test_header_names_become_identifiers() -> None:
    assert normalise_column("ORDER_TIME  (PST)") == "order_time_pst"
    assert normalise_column("\ufeff Ship-To City (CD) ") == "ship_to_city_cd"
    assert normalise_column("timestamp") == "timestamp", "existing headers are unchanged"
    assert normalise_column("__x__") == "x"


def test_cells_become_copy_text_with_excel_row_numbers(tmp_path: Path) -> None:
    rows = [
        HEADER,
        order(1),
        ["G2", date(2024, 3, 1), 12, 1 / 3, 'say "hi", then leave', True],
        [None] * 6,  # an empty row: not loaded, and the row numbers after it stay Excel's
        ["G4", datetime(2024, 3, 1, 23, 59, 59, 250000), 1e20, -0.5, "", False],
        ["G5", time(7, 30), 45352, 4237.3199999999997, "元", None],
    ]
    columns, lines = read(book(tmp_path / "d.xlsx", {"DATA": rows}))
    assert columns == list(ORDERS)
    assert lines == [
        '"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2',
        '"G2",2024-03-01,12,0.3333333333333333,"say ""hi"", then leave",true,3',
        '"G4",2024-03-01 23:59:59.250,1e+20,-0.5,,false,5',
        '"G5",07:30:00,45352,4237.32,"元",,6',
    ]


def test_values_as_the_database_sees_them(tmp_path: Path) -> None:
    """The CSV lines parse back to the cell values (a quoted line break stays inside its field)."""
    import csv
    import io

    rows = [HEADER, ["G2", date(2024, 3, 1), 12, 1 / 3, 'say "hi", then\nleave', True]]
    stream = open_stream(book(tmp_path / "d.xlsx", {"DATA": rows}), DATA)
    [record] = list(csv.reader(io.StringIO(b"".join(stream.chunks).decode())))
    assert record == ["G2", "2024-03-01", "12", "0.3333333333333333", 'say "hi", then\nleave', "true", "2"]


def test_excel_layout_shared_strings_and_styles(tmp_path: Path) -> None:
    """The layout Excel writes (text in the shared-strings table, dates by style) reads the same as openpyxl's."""
    rows = [HEADER, order(1), order(2, cur="CNY", amount=3), ["G3", None, 5, 0.1, "朝阳区", 1]]
    path = write_workbook(tmp_path / "e.xlsx", {"DATA": rows, "OTHER": [["x"], [1]]})
    columns, lines = read(path)
    assert lines == [
        '"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2',
        '"G0000000002",2024-03-01 10:00:02,7,3,"CNY",2,3',
        '"G3",,5,0.1,"朝阳区",1,4',
    ]


def test_date_serials_load_as_iso_only_in_a_date_format(tmp_path: Path) -> None:
    """A date-formatted cell is a date; the same serial in General format stays a number (the validation flags
    it)."""

    def formats(workbook: Workbook) -> None:
        sheet = workbook["DATA"]
        sheet["B2"].number_format = "yyyy-mm-dd hh:mm"
        sheet["B3"].number_format = 'yyyy"年"m"月"d"日"'
        sheet["B4"].number_format = "General"

    rows = [HEADER, order(1, at=45352.5), order(2, at=45352), order(3, at=45352.5)]
    _, lines = read(book(tmp_path / "d.xlsx", {"DATA": rows}, formats))
    assert [line.split(",")[1] for line in lines] == ["2024-03-01 12:00:00", "2024-03-01", "45352.5"]


def test_the_1904_date_system(tmp_path: Path) -> None:
    def mac(workbook: Workbook) -> None:
        workbook.epoch = CALENDAR_MAC_1904

    _, lines = read(book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1)]}, mac))
    assert lines[0].split(",")[1] == "2024-03-01 10:00:01"


@pytest.mark.parametrize(
    ("serial", "kind", "text"),
    [
        ("45352", "date", "2024-03-01"),
        ("45352.999999999", "date", "2024-03-02"),  # a hair under midnight: Excel shows the next day
        ("61", "date", "1900-03-01"),
        ("59", "date", "1900-02-28"),
        ("60", "date", "60"),  # Excel's 1900-02-29 does not exist: stays a number
        ("-1", "datetime", "-1"),
        ("0.75", "time", "18:00:00"),
        ("1.75", "time", "1900-01-01 18:00:00"),
        ("4E4", "date", "2009-07-06"),
    ],
)
def test_excel_serials(serial: str, kind: str, text: str) -> None:
    assert xlsx.excel_date(serial, kind, date1904=False) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("42", "42"), ("42.0", "42"), ("-3", "-3"), ("1E3", "1000"), ("0.1", "0.1"), ("1.0000000000000001E-3", "0.001"),
     ("12345678901234567890", "12345678901234567890"), ("1.5E+20", "1.5e+20"), ("abc", '"abc"')],
)  # fmt: skip
def test_numbers_in_shortest_form(value: str, text: str) -> None:
    assert xlsx.plain_number(value) == text


def test_one_workbook_two_sheets(tmp_path: Path) -> None:
    districts = [["CITY_DISTRICT_ID", "SHIP_TO_CITY_CD", "SHIP_TO_DISTRICT_NAME"], [7, "SH", "浦东新区"]]
    path = write_workbook(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1)], "CITY_DISTRICT_MAP": districts})
    wanted = Wanted(("city_district_id", "ship_to_city_cd", "ship_to_district_name"), (), "city_district_map")
    assert read(path, wanted) == (list(wanted.columns), ['7,"SH","浦东新区",2'])
    assert read(path)[1] == ['"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2']


def test_extra_columns_are_left_out_and_named(tmp_path: Path) -> None:
    path = book(tmp_path / "d.xlsx", {"DATA": [["note", *HEADER], ["x", *order(1)]]})
    stream = open_stream(path, DATA)
    assert stream.extra == ["note"] and stream.columns == list(ORDERS)
    assert b"".join(stream.chunks) == b'"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2\n'


def test_a_workbook_of_one_sheet_needs_no_sheet_name(tmp_path: Path) -> None:
    path = book(tmp_path / "d.xlsx", {"Sheet1": [HEADER, order(1)]})
    assert len(read(path, Wanted(ORDERS))[1]) == 1
    two = book(tmp_path / "two.xlsx", {"A": [HEADER], "B": [HEADER]})
    with pytest.raises(FileError, match=r"two.xlsx: the workbook has 2 sheets \(A, B\) and the table names none"):
        open_stream(two, Wanted(ORDERS))


def test_formula_with_a_cached_value_loads_the_value(tmp_path: Path) -> None:
    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1, district="=3+4")]})
    # openpyxl writes an empty cached value (<v />, or <v></v> with lxml): give it the value a spreadsheet would
    empty = re.compile(r"<f>3\+4</f><v\s*(/>|></v>)")
    rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: empty.sub("<f>3+4</f><v>7</v>", xml))
    assert read(path)[1] == ['"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2']


FAILURES = {
    "sheet missing": (
        {"Orders": [HEADER, order(1)], "Map": [["a"]]},
        None,
        r"d.xlsx: the workbook has no sheet DATA; its sheets: Orders, Map$",
    ),
    "header not on row 1": (
        {"DATA": [[None], [None], HEADER, order(1)]},
        None,
        r"sheet DATA: no header on row 1 \(row 1 is empty; the first row with values is row 3\)",
    ),
    "no header row": (
        {"DATA": [order(1), order(2)]},
        None,
        r"sheet DATA: row 1 is not a header: DATA!B1 holds a date \([\d.]+\), not a column name",
    ),
    "empty sheet": ({"DATA": []}, None, r"sheet DATA is empty \(no header, no rows\)"),
    "formula without cached value": (
        {"DATA": [HEADER, *[order(n) for n in range(1, 6)], order(6, at="=B6+1")]},
        None,
        r"d.xlsx: DATA!B7: a formula \(=B6\+1\) without a cached value",
    ),
    "merged cells": (
        {"DATA": [HEADER, order(1), order(2)]},
        lambda workbook: workbook["DATA"].merge_cells("E2:E3"),
        r"d.xlsx: DATA!E2:E3: merged cells: a merged range shows one value over several cells",
    ),
    "value beyond the header": (
        {"DATA": [HEADER, order(1), [*order(2), "surplus"]]},
        None,
        r"d.xlsx: DATA!G3: a value in a column without a header \(the header ends at column F\)",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_ambiguous_workbooks_fail_naming_the_place(tmp_path: Path, case: str) -> None:
    sheets, build, message = FAILURES[case]
    path = book(tmp_path / "d.xlsx", sheets, build)
    with pytest.raises(FileError, match=message) as failure:
        read(path)
    assert str(failure.value).startswith(str(path) + ": ")


def test_merged_cells_are_named_with_their_count(tmp_path: Path) -> None:
    def merge(workbook: Workbook) -> None:
        workbook["DATA"].merge_cells("A2:A3")
        workbook["DATA"].merge_cells("B2:B3")

    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1), order(2)]}, merge)
    with pytest.raises(FileError, match=r"DATA!(A2:A3|B2:B3): merged cells \(and 1 more\)"):
        read(path)


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda data: data[: len(data) // 2], "not a readable XLSX workbook: the zip archive is truncated or corrupt"),
        (lambda data: b"PK\x03\x04" + bytes(100), "not a readable XLSX workbook"),
    ],
)
def test_a_truncated_or_corrupt_zip_fails_clearly(tmp_path: Path, cut: Callable[[bytes], bytes], message: str) -> None:
    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1)]})
    path.write_bytes(cut(path.read_bytes()))
    with pytest.raises(FileError, match=message):
        read(path)


def test_corrupt_sheet_data_fails_naming_the_row(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "d.xlsx", {"DATA": [HEADER, *[order(n) for n in range(1, 2000)]]})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        start = info.header_offset + 30 + len(info.filename.encode())
    data = bytearray(path.read_bytes())
    data[start + info.compress_size // 2 : start + info.compress_size // 2 + 64] = bytes(64)  # damage the middle
    path.write_bytes(bytes(data))
    with pytest.raises(
        FileError,
        match=r"d.xlsx: sheet DATA: the (workbook is truncated or corrupt|sheet's XML is malformed) after row",
    ):
        read(path)


def test_a_workbook_that_is_another_zip_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(FileError, match="a zip file but not an XLSX workbook"):
        read(path)


def test_a_legacy_or_encrypted_workbook_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(FileError, match="an OLE2 compound file .a legacy .xls workbook, or a password-protected"):
        read(path)


def test_prefixed_elements_and_rich_text(tmp_path: Path) -> None:
    """Some writers prefix every element (x:row); rich text is runs; phonetic guides (rPh) are not the text."""
    path = write_workbook(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1, cur="RUN")]})

    def prefixed(xml: str) -> str:
        xml = re.sub(r"<(/?)(\w+)", r"<\1x:\2", xml.split("?>", 1)[1])
        return xml.replace("xmlns=", "xmlns:x=", 1)

    def rich(xml: str) -> str:
        return xml.replace("<si><t>RUN</t></si>", "<si><r><t>C</t></r><r><rPr/><t>NY</t></r><rPh><t>x</t></rPh></si>")

    rewrite(path, "xl/worksheets/sheet1.xml", prefixed)
    rewrite(path, "xl/sharedStrings.xml", rich)
    assert read(path)[1] == ['"G0000000001",2024-03-01 10:00:01,7,12.5,"CNY",2,2']


def test_escapes_of_characters_xml_cannot_hold() -> None:
    assert xlsx.unescape("a_x000D__x000A_b") == "a\r\nb"
    assert xlsx.unescape("nul _x0000_ and _xD800_") == "nul _x0000_ and _xD800_", "no text column holds them"


def test_error_cells_and_escapes_load_as_text(tmp_path: Path) -> None:
    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1, cur="#N/A", id="a_x000D_b")]})
    assert read(path)[1] == ['"a\rb",2024-03-01 10:00:01,7,12.5,"#N/A",2,2']


def test_a_huge_shared_strings_table_fails_instead_of_filling_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_workbook(tmp_path / "d.xlsx", {"DATA": [HEADER, *[order(n) for n in range(1, 20_000)]]})
    monkeypatch.setattr(xlsx, "MAX_SHARED_STRINGS_BYTES", 1 << 20)  # the real cap is 256 MiB
    with pytest.raises(FileError, match=r"d.xlsx: the workbook's shared strings need more than 1 MiB of memory"):
        read(path)


def test_a_huge_value_fails_in_bounded_memory(tmp_path: Path) -> None:
    """A cell of 20 MB fails once its text passes 16 MiB, naming the cell."""
    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1, cur="RUNAWAY")]})
    rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("RUNAWAY", "y" * (20 << 20)))
    with pytest.raises(FileError, match=r"d.xlsx: DATA!E2: a value longer than 16 MiB"):
        read(path)


def test_a_runaway_row_fails_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of endless empty (styled) cells fails once its XML passes the cap (64 MiB; 2 MiB here, to be quick)."""
    path = book(tmp_path / "d.xlsx", {"DATA": [HEADER, order(1)]})
    cells = "".join(f'<c r="{xlsx.column_letters(n)}2" s="0"/>' for n in range(7, 16_384)) * 20
    rewrite(
        path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("</row></sheetData>", cells + "</row></sheetData>")
    )
    monkeypatch.setattr(xlsx, "MAX_ROW_XML_BYTES", 2 << 20)
    with pytest.raises(FileError, match=r"d.xlsx: DATA row 2: more than 2 MiB of XML in one row"):
        read(path)


def test_a_gigantic_shared_string_fails_early_in_bounded_memory(tmp_path: Path) -> None:
    """A shared string of 300 MB (a 300 KB zip): parsing stops soon after 16 MiB, memory grows by far less."""
    path = write_workbook(tmp_path / "d.xlsx", {"DATA": [["ORDER_ID"], ["HUGE"]]})
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist() if name != "xl/sharedStrings.xml"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        with archive.open("xl/sharedStrings.xml", "w") as out:
            out.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>ORDER_ID</t></si>'
            )
            out.write(b"<si><t>")
            for _ in range(300):
                out.write(b"y" * (1 << 20))
            out.write(b"</t></si></sst>")
    message, grown = read_in_own_process(path)
    assert "d.xlsx: shared string 1 is longer than 16 MiB" in message, message
    assert grown < 150, f"peak RSS grew by {grown} MiB"
