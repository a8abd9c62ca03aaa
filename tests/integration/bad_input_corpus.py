"""A corpus of bad (and merely odd) landed inputs, generated in a temporary landing zone, each with its one outcome.

Every case writes its entry into the partition folder of DAY (next to a good file `aaa.csv`) and says what the
loader must do with it:

- `failed`: the table partition fails, the message names the file (and line or record) and the problem;
- `loaded`: the file loads (rows as given), odd but valid;
- `exceptions`: the file loads and its bad rows are recorded by the GX validation in audit.dq_exceptions;
- `skipped`: not a data file; a load_log row with status skipped says why;
- `duplicate`: its content is already loaded; a load_log row with status duplicate names the first file.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from elt.generate.workbook import write_workbook
from elt.sources import Source, Table

DAY = date(2024, 3, 1)
NEIGHBOUR = date(2024, 2, 29)
COLUMNS = ("timestamp", "country_code", "last_order_ts", "first_order_ts", "total_orders", "voucher_amount")
HEADER = ",".join(COLUMNS) + "\n"
MiB = 1 << 20


def row(n: int, country: str = "Peru") -> str:
    """A good voucher row; `n` makes it unique."""
    return f"2024-03-01 10:{n // 60 % 60:02d}:{n % 60:02d},{country},2024-02-01,2023-01-01,{n % 50}.0,2640.0\n"


def rows(count: int, start: int = 100) -> str:
    return "".join(row(n) for n in range(start, start + count))


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it, and its exact outcome."""

    name: str
    fmt: str  # csv | csv.gz | parquet | xlsx | json | landing (the folder, not a file format)
    outcome: str  # failed | loaded | exceptions | skipped | duplicate
    build: Callable[[Path, Path], str]  # (partition folder, landing) -> the entry's name as shown, from the folder
    expect: tuple[str, ...] = ()  # fragments of the message (load error or load_log.error)
    rows: int = 0  # rows the entry adds to the partition (loaded, exceptions)
    table: str = "voucher_assignments"  # load_log.table_name of the entry's row
    values: dict[str, object] = field(default_factory=dict)  # column -> a value the loaded rows must hold
    rules: tuple[str, ...] = ()  # exceptions: rules that must appear in audit.dq_exceptions for the file
    source: str = "vouchers"  # or "shop", a source of the tests only (SHOP)
    issue: bool = False  # reproduced in issue 10 (failed before the fix)

    @property
    def id(self) -> str:
        return f"{self.name} [issue 10]" if self.issue else self.name


def _write(folder: Path, name: str, content: str | bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return name


def csv_file(name: str, content: str | bytes) -> Callable[[Path, Path], str]:
    return lambda folder, landing: _write(folder, name, content)


def gz_file(name: str, content: str | bytes, cut: Callable[[bytes], bytes] = lambda b: b) -> Callable:
    data = content.encode() if isinstance(content, str) else content
    return lambda folder, landing: _write(folder, name, cut(gzip.compress(data, mtime=0)))


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def voucher_table(count: int = 3, **overrides: pa.Array) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "timestamp": pa.array([f"2024-03-01 11:00:{n:02d}" for n in range(count)]),
        "country_code": pa.array(["Latvia"] * count),
        "last_order_ts": pa.array(["2024-02-01"] * count),
        "first_order_ts": pa.array(["2023-01-01"] * count),
        "total_orders": pa.array(["1.0"] * count),
        "voucher_amount": pa.array([2640.0] * count),
    }
    columns.update(overrides)
    return pa.table(columns)


def parquet_file(name: str, table: pa.Table | Callable[[], bytes]) -> Callable[[Path, Path], str]:
    def build(folder: Path, landing: Path) -> str:
        return _write(folder, name, table() if callable(table) else parquet_bytes(table))

    return build


TRUNCATED_GZIP = gzip.compress((HEADER + rows(5000, 1000)).encode(), mtime=0)[:-300]


def _readable_lines(data: bytes) -> int:
    """The line where the data of a truncated gzip stops: the lines zlib inflates, plus the one cut off."""
    return zlib.decompressobj(wbits=31).decompress(data).count(b"\n") + 1


def _gzip_bomb() -> bytes:
    """A few MB of gzip that inflate to 2 GiB: a header, then one line of 'x' with no line end (32 gzip members)."""
    member = gzip.compress(b"x" * (64 * MiB), compresslevel=9, mtime=0)
    return gzip.compress((HEADER + "2024-03-01,").encode(), mtime=0) + member * 32


def _big_line(folder: Path, landing: Path) -> str:
    """A 200 MB line with no line end, written in 1 MiB pieces."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "line.csv").open("wb") as handle:
        handle.write((HEADER + row(1) + "2024-03-01,").encode())
        block = b"x" * MiB
        for _ in range(200):
            handle.write(block)
    return "line.csv"


def _no_line_end(folder: Path, landing: Path) -> str:
    """200 MB without a single line end: the header never ends."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "one.csv").open("wb") as handle:
        block = b"x," * (MiB // 2)
        for _ in range(200):
            handle.write(block)
    return "one.csv"


def _huge_cell() -> bytes:
    return (HEADER + row(1) + "2024-03-01," + "y" * (17 * MiB) + ",2024-02-01,,1.0,5\n").encode()


def _runaway_quote() -> bytes:
    return (HEADER + row(1) + '2024-03-01,"Peru\n' + "still inside the quote,\n" * 800_000).encode()


def _truncated_parquet() -> bytes:
    return parquet_bytes(voucher_table(100))[:-40]


def _symlink(target: str | Callable[[Path], Path], name: str = "v.csv") -> Callable[[Path, Path], str]:
    def build(folder: Path, landing: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        os.symlink(target(landing) if callable(target) else target, folder / name)
        return name

    return build


def _subfolder(folder: Path, landing: Path) -> str:
    (folder / "part.parquet").mkdir(parents=True)
    (folder / "part.parquet" / "part-0000.parquet").write_bytes(parquet_bytes(voucher_table()))
    return "part.parquet"


def _fifo(folder: Path, landing: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.csv")
    return "pipe.csv"


def _not_utf8_name(folder: Path, landing: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / os.fsdecode(b"caf\xe9.csv")).write_text(HEADER + rows(2, 700))
    return "caf\\xe9.csv"


def _control_name(folder: Path, landing: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "v\nx.csv").write_text(HEADER + rows(2, 710))
    return "v\\x0ax.csv"


def _misnamed_folder(folder: Path, landing: Path) -> str:
    wrong = landing / "vouchers" / "2024-3-1"
    wrong.mkdir(parents=True)
    (wrong / "v.csv").write_text(HEADER + rows(2, 720))
    return "../2024-3-1"


def _twice_in_partition(folder: Path, landing: Path) -> str:
    _write(folder, "v.csv", HEADER + rows(3, 730))
    past = datetime.now().timestamp() - 60
    os.utime(folder / "v.csv", (past, past))  # the first one landed earlier
    return _write(folder, "v (1).csv", HEADER + rows(3, 730))


def _neighbour_again(folder: Path, landing: Path) -> str:
    return _write(folder, "again.csv", (landing / "vouchers" / str(NEIGHBOUR) / "neighbour.csv").read_bytes())


BERLIN = timezone(timedelta(hours=1))
AWARE = pa.array(
    [datetime(2024, 3, 1, 9, 30, tzinfo=BERLIN), datetime(2024, 3, 1, 23, 30, tzinfo=UTC)],
    pa.timestamp("us", "Europe/Berlin"),
)

CASES: list[Case] = [
    # -- CSV: shape of the file ---------------------------------------------------------------------------------
    Case("empty file", "csv", "failed", csv_file("v.csv", b""), ("file is empty (0 bytes)",)),
    Case("header only", "csv", "failed", csv_file("v.csv", HEADER), ("header only, no data rows",)),
    Case("header and blank lines", "csv", "failed", csv_file("v.csv", HEADER + "\n\n\n"), ("header only",)),
    Case("blank first line", "csv", "failed", csv_file("v.csv", "\n" + HEADER + row(1)), ("no header row",)),
    Case("BOM", "csv", "loaded", csv_file("v.csv", "\ufeff" + HEADER + rows(3, 110)), rows=3),
    Case("CRLF line ends", "csv", "loaded", csv_file("v.csv", (HEADER + rows(3, 120)).replace("\n", "\r\n")), rows=3),
    Case(
        "CR-only line ends (old Mac)",
        "csv",
        "loaded",
        csv_file("v.csv", (HEADER + rows(3, 130)).replace("\n", "\r")),
        rows=3,
        values={"voucher_amount": "2640.0"},
    ),
    Case(
        "mixed line ends",
        "csv",
        "failed",
        csv_file("v.csv", HEADER + row(1) + row(2).replace("\n", "\r\n") + row(3)),
        ("line 3: mixed line endings",),
    ),
    Case(
        "quoted line breaks in a value",
        "csv",
        "loaded",
        csv_file("v.csv", HEADER + row(1) + '2024-03-01 10:00:00,"Peru\nLima, ""centre""",2024-02-01,,1.0,5\n'),
        rows=2,
        values={"country_code": 'Peru\nLima, "centre"'},
    ),
    Case("no line end at the end", "csv", "loaded", csv_file("v.csv", HEADER + rows(2, 140).rstrip("\n")), rows=2),
    Case("blank lines at the end", "csv", "loaded", csv_file("v.csv", HEADER + rows(2, 150) + "\n\n\r\n"), rows=2),
    Case(
        "blank line in the middle",
        "csv",
        "failed",
        csv_file("v.csv", HEADER + row(1) + "\n" + row(2)),
        ("line 3: a blank line",),
    ),
    Case(
        "semicolon delimiter",
        "csv",
        "failed",
        csv_file("v.csv", (HEADER + row(1)).replace(",", ";")),
        ("missing required column(s)", "the delimiter must be a comma"),
    ),
    Case(
        "tab delimiter",
        "csv",
        "failed",
        csv_file("v.csv", (HEADER + row(1)).replace(",", "\t")),
        ("missing required column(s)", "but a tab"),
    ),
    Case(
        "duplicated column in the header",
        "csv",
        "failed",
        csv_file("v.csv", HEADER.strip() + ",country_code\n" + row(1).strip() + ",Chile\n"),
        ("column(s) country_code appear more than once in the header",),
    ),
    Case(
        "missing required column",
        "csv",
        "failed",
        csv_file("v.csv", "timestamp,country_code\n2024-03-01,Peru\n"),
        ("missing required column(s) last_order_ts, total_orders, voucher_amount",),
    ),
    Case(
        "header repeated inside (two exports concatenated)",
        "csv",
        "exceptions",
        csv_file("v.csv", HEADER + rows(20, 160) + HEADER + rows(20, 180)),
        rows=41,
        rules=("timestamp_is_timestamp", "voucher_amount_positive_number"),
    ),
    Case(
        "bad values",
        "csv",
        "exceptions",
        csv_file("v.csv", HEADER + rows(20, 200) + "not-a-date,Peru,2024-02-01,,x,-5\n"),
        rows=21,
        rules=("timestamp_is_timestamp", "voucher_amount_positive_number", "total_orders_whole_number"),
    ),
    Case(
        "identical rows in one file",
        "csv",
        "loaded",
        csv_file("v.csv", HEADER + row(230) * 3),
        rows=3,
    ),
    # -- CSV: ragged rows and extra columns ---------------------------------------------------------------------
    Case(
        "short row", "csv", "failed", csv_file("v.csv", HEADER + row(1) + "2024-03-01,Peru\n"), ("line 3: a short row",)
    ),
    Case(
        "long row",
        "csv",
        "failed",
        csv_file("v.csv", HEADER + row(1) + row(2).strip() + ",x\n"),
        ("line 3: a long row",),
    ),
    Case(
        "extra column",
        "csv",
        "loaded",
        csv_file(
            "v.csv", HEADER.strip() + ",coupon\n" + "".join(r.strip() + ",C1\n" for r in rows(3, 240).splitlines())
        ),
        ("extra column(s) coupon: not in the contract of voucher_assignments, not loaded",),
        rows=3,
    ),
    Case(
        "extra column and a short row",
        "csv",
        "failed",
        csv_file("v.csv", HEADER.strip() + ",coupon\n" + row(1).strip() + ",C1\n" + "2024-03-01,Peru\n"),
        ("line 3: a short row: fewer fields than the header's 7 (nothing for column last_order_ts)",),
    ),
    Case(
        "extra column and a long row",
        "csv",
        "failed",
        csv_file("v.csv", HEADER.strip() + ",coupon\n" + row(1).strip() + ",C1,surplus\n"),
        ("line 2: a long row: more fields than the header's 7",),
    ),
    Case(
        "extra column with quoted commas and line breaks",
        "csv",
        "loaded",
        csv_file("v.csv", "note," + HEADER + '"a, b\nc",' + row(250) + '"",' + row(251)),
        ("extra column(s) note",),
        rows=2,
        values={"country_code": "Peru"},
    ),
    Case(
        "2,000 columns",
        "csv",
        "failed",
        csv_file("v.csv", HEADER.strip() + "".join(f",x{n}" for n in range(1994)) + "\n" + row(1)),
        ("2,000 columns, more than a table can hold (1,599)",),
    ),
    # -- CSV: bytes ---------------------------------------------------------------------------------------------
    Case(
        "NUL byte",
        "csv",
        "failed",
        csv_file("v.csv", HEADER + row(1) + "2024\x00-03-01" + row(2)[10:]),
        ("line 3: a NUL byte",),
    ),
    Case(
        "NUL byte in the header",
        "csv",
        "failed",
        csv_file("v.csv", "time\x00stamp" + HEADER[9:] + row(1)),
        ("line 1 (header): a NUL byte",),
    ),
    Case(
        "not UTF-8 (Latin-1)",
        "csv",
        "failed",
        csv_file("v.csv", (HEADER + row(1) + row(2).replace("Peru", "Perú")).encode("latin-1")),
        ("line 3: not valid UTF-8 (bytes 0xfa",),
    ),
    Case(
        "not UTF-8 header",
        "csv",
        "failed",
        csv_file("v.csv", ("timestamp,país," + HEADER[23:] + row(1)).encode("latin-1")),
        ("line 1 (header) is not valid UTF-8",),
    ),
    Case("UTF-16", "csv", "failed", csv_file("v.csv", (HEADER + row(1)).encode("utf-16")), ("the file is UTF-16",)),
    Case(
        "CSV named .parquet",
        "csv",
        "failed",
        csv_file("v.parquet", HEADER + row(1)),
        ("named as parquet but its content is csv",),
    ),
    # -- CSV: sizes (bounded memory) ----------------------------------------------------------------------------
    Case(
        "huge header (2 MB)",
        "csv",
        "failed",
        csv_file("v.csv", HEADER.strip() + "," + "h" * (2 * MiB) + "\n" + row(1)),
        ("line 1: the header is longer than 1,024 KiB",),
    ),
    Case("huge cell (17 MB)", "csv", "failed", csv_file("v.csv", _huge_cell()), ("line 3: a line longer than 16 MiB",)),
    Case("a line of 200 MB, no line end", "csv", "failed", _big_line, ("line 3: a line longer than 16 MiB",)),
    Case(
        "a file of 200 MB without any line end",
        "csv",
        "failed",
        _no_line_end,
        ("line 1: the header is longer than 1,024 KiB",),
    ),
    Case(
        "quote never closed (runs on)",
        "csv",
        "failed",
        csv_file("v.csv", _runaway_quote()),
        ('line 3: a quoted field runs on for more than 16 MiB: a quote (") that is never closed?',),
    ),
    Case(
        "quote never closed (at the end)",
        "csv",
        "failed",
        csv_file("v.csv", HEADER + row(1) + '2024-03-01,"Peru,2024-02-01,,1.0,5\n' + row(3)),
        ("line 3: a quoted field that starts here is never closed",),
    ),
    # -- CSV.gz -------------------------------------------------------------------------------------------------
    Case(
        "truncated gzip",
        "csv.gz",
        "failed",
        lambda folder, landing: _write(folder, "v.csv.gz", TRUNCATED_GZIP),
        (f"line {_readable_lines(TRUNCATED_GZIP):,}: the gzip data ends early (the file is truncated",),
    ),
    Case(
        "corrupt gzip (bad checksum)",
        "csv.gz",
        "failed",
        gz_file("v.csv.gz", HEADER + rows(10, 300), cut=lambda b: b[:-8] + bytes(8)),
        ("line 12: the gzip data is corrupt (CRC check failed",),
    ),
    Case(
        "gzip bomb (2 GiB, one line)",
        "csv.gz",
        "failed",
        gz_file("v.csv.gz", b"", cut=lambda b: _gzip_bomb()),
        ("line 2: a line longer than 16 MiB",),
    ),
    Case("gzip of nothing", "csv.gz", "failed", gz_file("v.csv.gz", b""), ("no header row",)),
    Case(
        "gzip with BOM and CRLF",
        "csv.gz",
        "loaded",
        gz_file("v.csv.gz", ("\ufeff" + HEADER + rows(4, 310)).replace("\n", "\r\n")),
        rows=4,
    ),
    Case(
        "gzip short row",
        "csv.gz",
        "failed",
        gz_file("v.csv.gz", HEADER + row(1) + "2024-03-01\n"),
        ("line 3: a short row",),
    ),
    Case(
        "gzip named .csv",
        "csv.gz",
        "failed",
        gz_file("v.csv", HEADER + row(1)),
        ("named as csv but its content is gzip",),
    ),
    Case(
        "plain CSV named .csv.gz",
        "csv.gz",
        "failed",
        csv_file("v.csv.gz", HEADER + row(1)),
        ("named as gzip but its content is csv",),
    ),
    # -- Parquet ------------------------------------------------------------------------------------------------
    Case(
        "truncated Parquet",
        "parquet",
        "failed",
        parquet_file("v.parquet", _truncated_parquet),
        ("not a readable Parquet file",),
    ),
    Case(
        "Parquet without rows",
        "parquet",
        "failed",
        parquet_file("v.parquet", voucher_table(0)),
        ("Parquet file has no rows",),
    ),
    Case(
        "Parquet missing a required column",
        "parquet",
        "failed",
        parquet_file("v.parquet", voucher_table().drop_columns(["voucher_amount"])),
        ("missing required column(s) voucher_amount",),
    ),
    Case(
        "nested Parquet column in the contract",
        "parquet",
        "failed",
        parquet_file("v.parquet", voucher_table(voucher_amount=pa.array([{"value": 2640.0, "currency": "PEN"}] * 3))),
        ("column voucher_amount is a nested Parquet type (struct<value: double, currency: string>)",),
    ),
    Case(
        "nested Parquet column outside the contract",
        "parquet",
        "loaded",
        parquet_file("v.parquet", voucher_table(tags=pa.array([["a", "b"], [], None]))),
        ("extra column(s) tags",),
        rows=3,
    ),
    Case(
        "time-zone-aware Parquet timestamps",
        "parquet",
        "loaded",
        parquet_file("v.parquet", voucher_table(2, first_order_ts=AWARE)),
        rows=2,
        values={"first_order_ts": "2024-03-01 08:30:00.000000+00:00"},
    ),
    Case(
        "naive Parquet timestamps",
        "parquet",
        "loaded",
        parquet_file("v.parquet", voucher_table(1, first_order_ts=pa.array([datetime(2024, 3, 1, 9, 30)]))),
        rows=1,
        values={"first_order_ts": "2024-03-01 09:30:00.000000"},
    ),
    Case(
        "Parquet binary that is not UTF-8",
        "parquet",
        "failed",
        parquet_file("v.parquet", voucher_table(country_code=pa.array([b"Peru", b"Per\xfa", b"Chile"], pa.binary()))),
        ("record 2: column country_code is not valid UTF-8 text",),
    ),
    Case(
        "Parquet value of 17 MB",
        "parquet",
        "failed",
        parquet_file("v.parquet", voucher_table(2, country_code=pa.array(["Peru", "p" * (17 * MiB)]))),
        ("record 2: column country_code holds a value of 17 MiB",),
    ),
    # -- the landing folder -------------------------------------------------------------------------------------
    Case(
        "symbolic link out of the landing zone",
        "landing",
        "skipped",
        _symlink("/etc/passwd"),
        ("a symbolic link (to /etc/passwd)",),
    ),
    Case(
        "symbolic link inside the landing zone",
        "landing",
        "skipped",
        _symlink(lambda landing: landing / "vouchers" / str(NEIGHBOUR) / "neighbour.csv"),
        ("a symbolic link", "links are not followed"),
    ),
    Case(
        "sub-folder (Spark-style part.parquet/)",
        "landing",
        "skipped",
        _subfolder,
        ("a folder: the files of a partition go directly in vouchers/2024-03-01/",),
    ),
    Case(
        "temporary file .part",
        "landing",
        "skipped",
        csv_file("v.csv.part", HEADER + row(1)),
        ("a temporary file (.part)",),
    ),
    Case("Office lock file ~$", "landing", "skipped", csv_file("~$v.csv", b"\x00lock"), ("a temporary file (~$)",)),
    Case(
        "browser download .crdownload",
        "landing",
        "skipped",
        csv_file("v.csv.crdownload", HEADER),
        ("a temporary file (.crdownload)",),
    ),
    Case("hidden file", "landing", "skipped", csv_file(".v.csv", HEADER + row(1)), ("a hidden file",)),
    Case("FIFO", "landing", "skipped", _fifo, ("a FIFO (named pipe), not a data file",)),
    Case(
        "name no table takes",
        "landing",
        "skipped",
        csv_file("notes.txt", "hello"),
        ("no table of source vouchers takes this name",),
        table="(none)",
    ),
    Case(
        "misnamed date folder 2024-3-1",
        "landing",
        "skipped",
        _misnamed_folder,
        ("a folder named like a date but not in the form YYYY-MM-DD", "rename it to 2024-03-01"),
        table="(none)",
    ),
    Case("file name not UTF-8", "landing", "failed", _not_utf8_name, ("its name is not valid UTF-8",)),
    Case("file name with a line break", "landing", "failed", _control_name, ("holds control characters",)),
    # -- duplicates ---------------------------------------------------------------------------------------------
    Case(
        "same file twice in a partition (v.csv, v (1).csv)",
        "csv",
        "duplicate",
        _twice_in_partition,
        ("same content (sha256", "as vouchers/2024-03-01/v.csv of this partition: not loaded again"),
        rows=3,
    ),
    Case(
        "same file as an earlier partition's",
        "csv",
        "duplicate",
        _neighbour_again,
        ("as vouchers/2024-02-29/neighbour.csv, loaded in partition 2024-02-29",),
    ),
]

# -- theLook: a keyed table (upserted through a temporary table), the same outcomes ----------------------------------
TL_HEADER = "id,name,latitude,longitude\n"


def tl_row(n: int) -> str:
    return f"{n},Centre {n},35.{n},-90.{n}\n"


def tl_rows(count: int, start: int) -> str:
    return "".join(tl_row(n) for n in range(start, start + count))


def _tl_neighbour_again(folder: Path, landing: Path) -> str:
    source = landing / "thelook" / str(NEIGHBOUR) / "distribution_centers_neighbour.csv"
    return _write(folder, "distribution_centers_again.csv", source.read_bytes())


CASES += [
    Case(
        "theLook: extra column",
        "csv",
        "loaded",
        csv_file("distribution_centers_x.csv", "id,name,latitude,longitude,region\n5,Lima,-12.0,-77.0,south\n"),
        ("extra column(s) region: not in the contract of distribution_centers",),
        rows=1,
        table="distribution_centers",
        source="thelook",
        values={"name": "Lima"},
    ),
    Case(
        "theLook: extra column and a short row",
        "csv",
        "failed",
        csv_file(
            "distribution_centers_x.csv", "id,name,latitude,longitude,region\n5,Lima,-12.0,-77.0,south\n6,Quito\n"
        ),
        ("line 3: a short row: fewer fields than the header's 5 (nothing for column latitude)",),
        table="distribution_centers",
        source="thelook",
    ),
    Case(
        "theLook: truncated gzip",
        "csv.gz",
        "failed",
        gz_file("distribution_centers_x.csv.gz", TL_HEADER + tl_rows(5000, 1000), cut=lambda b: b[:-200]),
        ("the gzip data ends early",),
        table="distribution_centers",
        source="thelook",
    ),
    Case(
        "theLook: same file as an earlier partition's",
        "csv",
        "duplicate",
        _tl_neighbour_again,
        ("as thelook/2024-02-29/distribution_centers_neighbour.csv, loaded in partition 2024-02-29",),
        table="distribution_centers",
        source="thelook",
    ),
]

# -- a test-only source of workbooks and JSON (the shape of store_orders): one table takes CSV, XLSX (its sheet
# DATA) and JSON, so that the corpus's neighbour and good files stay CSV ----------------------------------------------
SHOP_REQUIRED = ("order_id", "order_time_pst", "rptg_amt", "currency_cd", "order_qty")
SHOP_OPTIONAL = ("city_district_id", "ship_to_district_name", "ship_to_city_cd")
SHOP = Source(
    name="shop",
    tables=(
        Table(
            "orders",
            patterns=("*.csv", "*.xlsx", "*.json"),
            required=SHOP_REQUIRED,
            optional=SHOP_OPTIONAL,
            sheet="DATA",
        ),
    ),
)
SHOP_HEADER = ",".join(SHOP_REQUIRED) + "\n"
XLSX_HEADER = ["ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY"]


def shop_row(n: int) -> str:
    return f"G{n:010d},2024-03-01 10:{n // 60 % 60:02d}:{n % 60:02d},12.50,CNY,{n % 9 + 1}\n"


def shop_rows(count: int, start: int = 100) -> str:
    return "".join(shop_row(n) for n in range(start, start + count))


def sheet_row(n: int, **changes: object) -> list:
    """A row of sheet DATA, as the cells hold it."""
    row = {"id": f"G{n:010d}", "at": datetime(2024, 3, 1, 10) + timedelta(seconds=n), "district": 7}
    row.update({"amount": 12.5, "currency": "CNY", "qty": n % 9 + 1, **changes})
    return list(row.values())


def json_record(n: int, **changes: object) -> dict[str, object]:
    """A record of dataset2.json; a key set to ... is left out."""
    record = {"ORDER_ID": f"G{n:010d}", "ORDER_TIME_PST": "2024-03-01 10:00:00", "SHIP_TO_DISTRICT_NAME": "浦东新区"}
    record.update({"SHIP_TO_CITY_CD": "SH", "RPTG_AMT": 12.5, "CURRENCY_CD": "CNY", "ORDER_QTY": n % 9 + 1, **changes})
    return {key: value for key, value in record.items() if value is not ...}


def workbook(
    name: str, sheets: dict[str, list[list]], build: Callable[[Workbook], None] | None = None
) -> Callable[[Path, Path], str]:
    """An openpyxl workbook (rows appended from row 1; `build` adds formats, merges)."""

    def write(folder: Path, landing: Path) -> str:
        book = Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for cells in rows:
                sheet.append(cells)
        if build:
            build(book)
        folder.mkdir(parents=True, exist_ok=True)
        book.save(folder / name)
        return name

    return write


def excel_workbook(name: str, rows: list[list], edit: Callable[[str], str] = lambda xml: xml) -> Callable:
    """A workbook in Excel's layout (shared strings), its sheet's XML edited as another program would write it."""

    def write(folder: Path, landing: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        path = write_workbook(folder / name, {"DATA": rows})
        with zipfile.ZipFile(path) as archive:
            parts = {part: archive.read(part) for part in archive.namelist()}
        sheet = "xl/worksheets/sheet1.xml"
        parts[sheet] = edit(parts[sheet].decode()).encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, data in parts.items():
                archive.writestr(part, data)
        return name

    return write


def json_file(name: str, content: str | bytes | list) -> Callable[[Path, Path], str]:
    data = json.dumps(content, ensure_ascii=False) if isinstance(content, list) else content
    return lambda folder, landing: _write(folder, name, data)


def _date_formats(book: Workbook) -> None:
    book["DATA"]["B2"].number_format = "yyyy-mm-dd hh:mm:ss"
    book["DATA"]["B3"].number_format = "General"


def _gbk_json() -> bytes:
    good = json.dumps([json_record(n) for n in range(2)], ensure_ascii=False).encode()
    bad = (
        json.dumps([json_record(2)], ensure_ascii=False).encode().replace("浦东新区".encode(), "浦东新区".encode("gbk"))
    )
    return good[:-1] + b", " + bad[1:]


def _truncated_workbook(folder: Path, landing: Path) -> str:
    workbook("orders.xlsx", {"DATA": [XLSX_HEADER, *[sheet_row(n) for n in range(50)]]})(folder, landing)
    data = (folder / "orders.xlsx").read_bytes()
    return _write(folder, "orders.xlsx", data[: len(data) * 2 // 3])


ORDERS_SHEET = [XLSX_HEADER, sheet_row(1), sheet_row(2)]
CASES += [
    # -- XLSX ---------------------------------------------------------------------------------------------------
    Case(
        "workbook of Excel's layout (shared strings), header with spaces and parentheses",
        "xlsx",
        "loaded",
        excel_workbook("orders.xlsx", [[*XLSX_HEADER, "NOTE"], [*sheet_row(1), "x"], sheet_row(2), sheet_row(3)]),
        ("extra column(s) note: not in the contract of orders, not loaded",),
        rows=3,
        table="orders",
        source="shop",
        values={"order_time_pst": "2024-03-01 10:00:02", "city_district_id": "7", "rptg_amt": "12.5"},
    ),
    Case(
        "workbook without the sheet",
        "xlsx",
        "failed",
        workbook("orders.xlsx", {"Orders": ORDERS_SHEET, "Notes": [["x"]]}),
        ("orders.xlsx: the workbook has no sheet DATA; its sheets: Orders, Notes",),
        table="orders",
        source="shop",
    ),
    Case(
        "sheet without a header row",
        "xlsx",
        "failed",
        workbook("orders.xlsx", {"DATA": [sheet_row(1), sheet_row(2)]}),
        ("sheet DATA: row 1 is not a header: DATA!B1 holds a date (",),
        table="orders",
        source="shop",
    ),
    Case(
        "header not on row 1",
        "xlsx",
        "failed",
        workbook("orders.xlsx", {"DATA": [[None], ORDERS_SHEET[0], *ORDERS_SHEET[1:]]}),
        ("sheet DATA: no header on row 1 (row 1 is empty; the first row with values is row 2)",),
        table="orders",
        source="shop",
    ),
    Case(
        "formula with a cached value",
        "xlsx",
        "loaded",
        excel_workbook(
            "orders.xlsx",
            ORDERS_SHEET,
            lambda xml: xml.replace('<c r="C3"><v>7</v></c>', '<c r="C3"><f>C2+1</f><v>8</v></c>'),
        ),
        rows=2,
        table="orders",
        source="shop",
        values={"city_district_id": "8"},
    ),
    Case(
        "formula without a cached value",
        "xlsx",
        "failed",
        workbook(
            "orders.xlsx", {"DATA": [*ORDERS_SHEET, *[sheet_row(n) for n in range(3, 6)], sheet_row(6, at="=B6+1")]}
        ),
        ("orders.xlsx: DATA!B7: a formula (=B6+1) without a cached value",),
        table="orders",
        source="shop",
    ),
    Case(
        "merged cells",
        "xlsx",
        "failed",
        workbook("orders.xlsx", {"DATA": ORDERS_SHEET}, lambda book: book["DATA"].merge_cells("E2:E3")),
        ("orders.xlsx: DATA!E2:E3: merged cells: a merged range shows one value over several cells",),
        table="orders",
        source="shop",
    ),
    Case(
        "date cells",
        "xlsx",
        "loaded",
        workbook("orders.xlsx", {"DATA": [XLSX_HEADER, sheet_row(1, at=45352.5), sheet_row(2)]}, _date_formats),
        rows=2,
        table="orders",
        source="shop",
        values={"order_time_pst": "2024-03-01 12:00:00"},
    ),
    Case(
        "dates as bare Excel serials (General format)",
        "xlsx",
        "loaded",
        workbook("orders.xlsx", {"DATA": [XLSX_HEADER, sheet_row(1), sheet_row(2, at=45352.5)]}, _date_formats),
        rows=2,
        table="orders",
        source="shop",
        values={"order_time_pst": "45352.5"},
    ),
    Case(
        "empty rows inside the sheet",
        "xlsx",
        "loaded",
        workbook("orders.xlsx", {"DATA": [*ORDERS_SHEET, [None], [None], sheet_row(3)]}),
        rows=3,
        table="orders",
        source="shop",
        values={"order_id": "G0000000003"},
    ),
    Case(
        "truncated workbook",
        "xlsx",
        "failed",
        _truncated_workbook,
        ("orders.xlsx: not a readable XLSX workbook: the zip archive is truncated or corrupt",),
        table="orders",
        source="shop",
    ),
    Case(
        "legacy .xls named .xlsx",
        "xlsx",
        "failed",
        csv_file("orders.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000)),
        ("an OLE2 compound file (a legacy .xls workbook, or a password-protected .xlsx)",),
        table="orders",
        source="shop",
    ),
    # -- JSON ---------------------------------------------------------------------------------------------------
    Case(
        "JSON with keys outside the contract, nulls and nested values",
        "json",
        "loaded",
        json_file(
            "orders.json",
            [json_record(1, NOTE="x"), json_record(2, SHIP_TO_CITY_CD=None, SHIP_TO_DISTRICT_NAME={"zh": ["浦东"]})],
        ),
        ("extra column(s) note: not in the contract of orders, not loaded",),
        rows=2,
        table="orders",
        source="shop",
        values={"ship_to_district_name": '{"zh":["浦东"]}', "rptg_amt": "12.5"},
    ),
    Case(
        "JSON numbers keep their text",
        "json",
        "loaded",
        json_file(
            "orders.json",
            '[{"ORDER_ID": 1, "ORDER_TIME_PST": 0, "RPTG_AMT": 0.10, "CURRENCY_CD": "CNY", "ORDER_QTY": 1e2}]',
        ),  # fmt: skip
        rows=1,
        table="orders",
        source="shop",
        values={"rptg_amt": "0.10", "order_qty": "1E+2"},
    ),
    Case(
        "JSON that is not an array",
        "json",
        "failed",
        json_file("orders.json", json.dumps({"orders": [json_record(1)]})),
        ("orders.json: the top level is an object ({), not an array",),
        table="orders",
        source="shop",
    ),
    Case(
        "truncated JSON",
        "json",
        "failed",
        json_file("orders.json", json.dumps([json_record(n) for n in range(5)])[:-60]),
        ("orders.json: record [4]: the file ends before this record is complete or the array is closed",),
        table="orders",
        source="shop",
    ),
    Case(
        "invalid JSON",
        "json",
        "failed",
        json_file("orders.json", json.dumps([json_record(n) for n in range(3)]).replace('"CNY"', "'CNY'", 2)),
        ("orders.json: record [0]: invalid JSON (lexical error: invalid char in json text.",),
        table="orders",
        source="shop",
    ),
    Case(
        "JSON element that is not an object",
        "json",
        "failed",
        json_file("orders.json", [json_record(1), json_record(2), "G3"]),
        ("orders.json: record [2]: a string, not an object",),
        table="orders",
        source="shop",
    ),
    Case(
        "JSON object missing a required key",
        "json",
        "failed",
        json_file("orders.json", [json_record(1), json_record(2, ORDER_QTY=...)]),
        ("orders.json: record [1]: no key order_qty (a required column); the record has ORDER_ID",),
        table="orders",
        source="shop",
    ),
    Case(
        "GBK-encoded JSON",
        "json",
        "failed",
        json_file("orders.json", _gbk_json()),
        ("orders.json: record [2]: text that is not UTF-8 (0xc6 0xd6", "(possibly GBK/GB18030-encoded Chinese"),
        table="orders",
        source="shop",
    ),
    # -- CSV in GBK (Chinese Windows exports) -------------------------------------------------------------------
    Case(
        "GBK-encoded CSV",
        "csv",
        "failed",
        csv_file("v.csv", (HEADER + row(1) + row(2, "北京")).encode("gbk")),
        ("line 3: not valid UTF-8 (bytes 0xb1) (possibly GBK/GB18030-encoded Chinese: they read as '北京'",),
    ),
    Case(
        "GBK-encoded CSV header",
        "csv",
        "failed",
        csv_file("v.csv", (HEADER.strip() + ",备注\n" + row(1).strip() + ",x\n").encode("gbk")),
        ("line 1 (header) is not valid UTF-8", "(possibly GBK/GB18030-encoded Chinese: they read as '备注'"),
    ),
]

REPORTED = {
    "truncated gzip",
    "CR-only line ends (old Mac)",
    "extra column and a short row",
    "same file twice in a partition (v.csv, v (1).csv)",
    "symbolic link out of the landing zone",
}
CASES = [replace(case, issue=True) if case.name in REPORTED else case for case in CASES]
assert len({case.name for case in CASES}) == len(CASES) and REPORTED <= {case.name for case in CASES}
