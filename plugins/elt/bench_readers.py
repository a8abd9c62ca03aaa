"""`make bench` (or `--only readers`): the XLSX and JSON readers on a store's day of orders (160,000 rows x 6 columns
in a workbook of Excel's layout; 40,000 JSON records), alone and through COPY into a text table, beside openpyxl's
read-only mode on the same workbook. Times are printed, not asserted: wall clock and CPU of this process (the
machine may be busy).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import sql

from elt import warehouse
from elt.bench_report import Measure
from elt.generate.workbook import write_workbook
from elt.readers import CsvStream, Wanted, open_stream

SHEET_HEADER = ["ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY"]
SHEET = Wanted(("order_id", "order_time_pst", "city_district_id", "rptg_amt", "currency_cd", "order_qty"), (), "DATA")
RECORD = Wanted(
    ("order_id", "order_time_pst", "ship_to_district_name", "ship_to_city_cd", "rptg_amt", "currency_cd", "order_qty")
)
DISTRICTS = ["浦东新区", "朝阳区", "海淀区", "天河区", "福田区", "南山区", "武侯区", "西湖区"]
START = datetime(2024, 3, 1)


def _sheet_rows(rows: int, seed: int) -> Iterator[list]:
    rng = random.Random(seed)
    yield SHEET_HEADER
    for n in range(rows):
        at = START + timedelta(seconds=rng.randrange(86_400))
        yield [f"G{n + 1:010d}", at, rng.randrange(1, 300), round(rng.uniform(1, 5000), 2), "CNY", rng.randrange(1, 9)]


def _records(records: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "ORDER_ID": f"G{n + 1:010d}",
            "ORDER_TIME_PST": (START + timedelta(seconds=rng.randrange(86_400))).isoformat(sep=" "),
            "SHIP_TO_DISTRICT_NAME": rng.choice(DISTRICTS),
            "SHIP_TO_CITY_CD": f"C{rng.randrange(30):03d}",
            "RPTG_AMT": round(rng.uniform(1, 5000), 2),
            "CURRENCY_CD": "CNY",
            "ORDER_QTY": rng.randrange(1, 9),
        }
        for n in range(records)
    ]


def _timed(action: Callable[[], int]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, what `action` counted)."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = action()
    return time.perf_counter() - wall, time.process_time() - cpu, count


def _drain(stream: CsvStream) -> int:
    return sum(chunk.count(b"\n") for chunk in stream.chunks)


def _openpyxl_rows(path: Path) -> int:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in book["DATA"].iter_rows(min_row=2, values_only=True))
    finally:
        book.close()


def _copy(params: warehouse.ServerParams, path: Path, wanted: Wanted) -> int:
    """The reader's stream through COPY into a text table of the raw table's columns."""
    columns = [*wanted.columns, "_source_row"]
    with warehouse.connect(params) as conn:
        conn.execute("drop table if exists public.bench_reader")
        conn.execute(
            sql.SQL("create table public.bench_reader ({})").format(
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )
        stream = open_stream(path, wanted)
        with conn.cursor() as cur:
            statement = sql.SQL("copy public.bench_reader ({}) from stdin with (format csv)").format(
                sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for chunk in stream.chunks:
                    copy.write(chunk)
            return cur.rowcount


def _report(name: str, runs: list[tuple[float, float, int]]) -> Measure:
    wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    rows = runs[0][2]
    speed = f"{wall:6.2f} s wall ({rows / wall:>8,.0f} rows/s)  {cpu:6.2f} s CPU"
    print(f"  {name:<34} {rows:>8,} rows  {speed}", flush=True)
    return Measure(f"{name}, {rows:,} rows", wall, "s")


def bench_readers(
    params: warehouse.ServerParams, tmp_path: Path, rows: int, records: int, repeats: int
) -> list[Measure]:
    """The readers on a workbook and a JSON array of a store's day; medians of `repeats` runs, as rows of the table."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    workbook, array = tmp_path / "dataset1.xlsx", tmp_path / "dataset2.json"
    print(f"\nwriting a workbook of {rows:,} rows x 6 columns and {records:,} JSON records ...", flush=True)
    write_workbook(workbook, {"DATA": _sheet_rows(rows, seed=1)})
    array.write_text(json.dumps(_records(records, seed=2), ensure_ascii=False))
    print(f"  {workbook.stat().st_size / 1e6:.1f} MB xlsx, {array.stat().st_size / 1e6:.1f} MB json", flush=True)
    cases: list[tuple[str, Callable[[], int], int]] = [
        ("XLSX reader (elt.xlsx)", lambda: _drain(open_stream(workbook, SHEET)), repeats),
        ("XLSX reader + COPY", lambda: _copy(params, workbook, SHEET), repeats),
        ("openpyxl read_only, values only", lambda: _openpyxl_rows(workbook), 1),
        ("JSON reader (elt.jsonrecords)", lambda: _drain(open_stream(array, RECORD)), repeats),
        ("JSON reader + COPY", lambda: _copy(params, array, RECORD), repeats),
    ]
    return [_report(name, [_timed(action) for _ in range(times)]) for name, action, times in cases]
