"""The COPY loader against a real Postgres: lineage, idempotency, bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from elt import warehouse
from elt.load import LoadError, load_partition

DAY = date(2024, 3, 1)
HEADER = "timestamp,country_code,last_order_ts,first_order_ts,total_orders,voucher_amount\n"
ROWS = [
    "2024-03-01 10:00:00.000001,Peru,2024-02-01,2023-01-01,3.0,2640.0\n",
    "2024-03-01 11:00:00,China,2024-01-15,2023-05-01,,3520.0\n",
    "2024-03-01 11:00:00,China,2024-01-15,2023-05-01,,3520.0\n",
]


def write(landing: Path, day: date, name: str, content: str | bytes) -> Path:
    folder = landing / "vouchers" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def raw_rows(day: date | None = None) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select timestamp, country_code, last_order_ts, first_order_ts, total_orders, voucher_amount,"
            " _source_file, _source_row, _partition_date from raw_vouchers.voucher_assignments"
            " where %(day)s::date is null or _partition_date = %(day)s"
            " order by _partition_date, _source_file, _source_row",
            {"day": day},
        ).fetchall()


def load_log() -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select partition_date, file_path, rows_loaded, status, error from audit.load_log order by batch_id"
        ).fetchall()


def test_csv_rows_land_with_lineage(landing: Path) -> None:
    write(landing, DAY, "part.csv", HEADER + "".join(ROWS))
    [result] = load_partition("vouchers", DAY)
    assert result.rows == 3
    rows = raw_rows()
    assert [r[6:] for r in rows] == [("vouchers/2024-03-01/part.csv", n, DAY) for n in (2, 3, 4)]
    assert rows[0][:6] == ("2024-03-01 10:00:00.000001", "Peru", "2024-02-01", "2023-01-01", "3.0", "2640.0")
    assert rows[1][4] is None or rows[1][4] == ""
    assert rows[1] == rows[2][:7] + (3, DAY), "exact duplicates are kept"
    assert load_log() == [(DAY, "vouchers/2024-03-01/part.csv", 3, "loaded", None)]


def test_every_file_of_a_partition_counts_its_own_lines(landing: Path) -> None:
    write(landing, DAY, "a.csv", HEADER + "".join(ROWS))
    write(landing, DAY, "b.csv", HEADER + ROWS[0] + ROWS[1])
    [result] = load_partition("vouchers", DAY)
    assert [(f.path, f.rows) for f in result.files] == [
        ("vouchers/2024-03-01/a.csv", 3),
        ("vouchers/2024-03-01/b.csv", 2),
    ]
    assert [r[6:8] for r in raw_rows()] == [
        ("vouchers/2024-03-01/a.csv", 2),
        ("vouchers/2024-03-01/a.csv", 3),
        ("vouchers/2024-03-01/a.csv", 4),
        ("vouchers/2024-03-01/b.csv", 2),
        ("vouchers/2024-03-01/b.csv", 3),
    ]
    with warehouse.connect() as conn:
        stamps = conn.execute(
            "select count(distinct _loaded_at), count(distinct _batch_id) from raw_vouchers.voucher_assignments"
        ).fetchone()
    assert stamps == (1, 1), "one batch, one load time"


def test_rerun_replaces_the_partition_only(landing: Path) -> None:
    write(landing, DAY, "part.csv", HEADER + "".join(ROWS))
    other = date(2024, 3, 2)
    write(landing, other, "part.csv", HEADER + ROWS[0])
    load_partition("vouchers", DAY)
    load_partition("vouchers", other)
    before = raw_rows()
    load_partition("vouchers", DAY)
    assert raw_rows() == before
    assert len(raw_rows(DAY)) == 3 and len(raw_rows(other)) == 1


def test_parquet_with_timestamp_column(landing: Path) -> None:
    table = pa.table(
        {
            "timestamp": ["2024-03-01 10:00:00.5"],
            "country_code": ["Latvia"],
            "last_order_ts": ["2024-02-01"],
            "first_order_ts": pa.array(
                [pa.scalar(1_600_000_000_000_000, pa.timestamp("us")).as_py()], pa.timestamp("us")
            ),
            "total_orders": [""],
            "voucher_amount": pa.array([None], pa.float64()),
            "unexpected": ["x"],
        }
    )
    folder = landing / "vouchers" / DAY.isoformat()
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "a.parquet.gzip", compression="gzip")
    load_partition("vouchers", DAY)
    [row] = raw_rows()
    assert row[:6] == ("2024-03-01 10:00:00.5", "Latvia", "2024-02-01", "2020-09-13 12:26:40.000000", "", None)
    assert row[6:] == ("vouchers/2024-03-01/a.parquet.gzip", 1, DAY)


def test_no_files_loads_nothing_and_says_so(landing: Path) -> None:
    [result] = load_partition("vouchers", DAY)
    assert result.rows == 0
    assert load_log() == [(DAY, None, 0, "no_files", None)]


def _truncated_parquet() -> bytes:
    import io

    sink = io.BytesIO()
    pq.write_table(pa.table({c: ["x"] * 100 for c in HEADER.strip().split(",")}), sink)
    return sink.getvalue()[:-40]


BAD_FILES = {
    "empty": ("v.csv", b"", "file is empty"),
    "header only": ("v.csv", HEADER.encode(), "header only, no data rows"),
    "missing column": (
        "v.csv",
        b"timestamp,country_code\n2024-03-01,Peru\n",
        "missing required column(s) last_order_ts",
    ),
    "truncated parquet": ("v.parquet", _truncated_parquet(), "not a readable Parquet file"),
    "not utf-8": ("v.csv", (HEADER + ROWS[0] + "2024-03-01,Per\xfa,2024-02-01,,1.0,5\n").encode("latin-1"), "line 3"),
    "csv named parquet": ("v.parquet", (HEADER + ROWS[0]).encode(), "named as parquet but its content is csv"),
    "ragged row": ("v.csv", (HEADER + ROWS[0] + "2024-03-01,Peru\n").encode(), "line 3: a short row"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_fails_clearly_and_commits_nothing(landing: Path, case: str) -> None:
    name, content, expected = BAD_FILES[case]
    good_day = date(2024, 2, 29)
    write(landing, good_day, "good.csv", HEADER + ROWS[1])  # not first.csv's content: that would be a duplicate
    load_partition("vouchers", good_day)
    write(landing, DAY, "first.csv", HEADER + ROWS[0])
    load_partition("vouchers", DAY)
    before = raw_rows()
    (landing / "vouchers" / DAY.isoformat() / "first.csv").unlink()
    write(landing, DAY, "aaa.csv", HEADER + "".join(ROWS))
    write(landing, DAY, name, content)
    with pytest.raises(LoadError) as failure:
        load_partition("vouchers", DAY)
    message = str(failure.value)
    assert f"vouchers/2024-03-01/{name}" in message and expected in message, message
    assert raw_rows() == before, "nothing committed, other partitions untouched"
    last = load_log()[-1]
    assert last[3] == "failed" and expected in last[4]
