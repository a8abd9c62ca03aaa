"""The vouchers sample-data generator: deterministic files with the real export's quirks."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from elt.generate import GENERATORS, generate
from elt.generate.vouchers import COLUMNS, COUNTRIES, generate_vouchers, write_voucher_file

DAY = date(2018, 7, 21)
ROWS = 20_000


def _read(path: Path) -> pa.Table:
    """A generated file as an Arrow table; CSV columns all read as text, as the loader does."""
    if path.suffix == ".csv":
        options = pcsv.ConvertOptions(column_types={name: pa.string() for name in COLUMNS}, strings_can_be_null=False)
        return pcsv.read_csv(path, convert_options=options)
    return pq.read_table(path)


def _parse_ts(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return None


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """20,000 rows of one day, as Python dicts."""
    path = write_voucher_file(tmp_path_factory.mktemp("v") / "v.parquet", ROWS, 42, DAY, "parquet")
    return pq.read_table(path).to_pylist()


def _share(rows: list[dict], predicate) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows)


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    for fmt in ("parquet", "csv"):
        a = write_voucher_file(tmp_path / "a" / f"v.{fmt}", 3000, 7, DAY, fmt)
        b = write_voucher_file(tmp_path / "b" / f"v.{fmt}", 3000, 7, DAY, fmt)
        c = write_voucher_file(tmp_path / "c" / f"v.{fmt}", 3000, 8, DAY, fmt)
        d = write_voucher_file(tmp_path / "d" / f"v.{fmt}", 3000, 7, date(2018, 7, 22), fmt)
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
        assert a.read_bytes() != d.read_bytes()


def test_generate_vouchers_writes_one_file_per_day(tmp_path: Path) -> None:
    paths = generate_vouchers(tmp_path, date(2018, 7, 30), 3, rows_per_day=500)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "vouchers/2018-07-30/vouchers.parquet",
        "vouchers/2018-07-31/vouchers.parquet",
        "vouchers/2018-08-01/vouchers.parquet",
    ]
    assert all(pq.read_metadata(p).num_rows == 500 for p in paths)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    csv_paths = generate_vouchers(tmp_path, date(2018, 7, 30), 1, rows_per_day=100, file_format="csv")
    assert csv_paths == [tmp_path / "vouchers" / "2018-07-30" / "vouchers.csv"]


def test_registry_dispatch(tmp_path: Path) -> None:
    assert "vouchers" in GENERATORS
    paths = generate("all", tmp_path, DAY, 2, seed=1, rows_per_day=50)
    assert sum(p.parts[-3] == "vouchers" for p in paths) == 2
    assert generate("vouchers", tmp_path / "x", DAY, 1, seed=1, rows_per_day=50)[0].name == "vouchers.parquet"
    with pytest.raises(ValueError, match="no generator for source 'nope'"):
        generate("nope", tmp_path, DAY, 1)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file format"):
        write_voucher_file(tmp_path / "v.xlsx", 10, 1, DAY, "xlsx")
    with pytest.raises(ValueError, match="days"):
        generate_vouchers(tmp_path, DAY, -1)


def test_columns_and_types_parquet_and_csv(tmp_path: Path) -> None:
    parquet = _read(write_voucher_file(tmp_path / "v.parquet", 1000, 3, DAY, "parquet"))
    csv = _read(write_voucher_file(tmp_path / "v.csv", 1000, 3, DAY, "csv"))
    assert tuple(parquet.column_names) == COLUMNS == tuple(csv.column_names)
    assert parquet.num_rows == csv.num_rows == 1000
    assert pa.types.is_timestamp(parquet.schema.field("first_order_ts").type)
    assert parquet.schema.field("voucher_amount").type == pa.float64()
    for name in ("timestamp", "country_code", "last_order_ts", "total_orders"):
        assert parquet.schema.field(name).type == pa.string()
    # Same content in both formats, apart from the representation of first_order_ts and voucher_amount.
    assert parquet.column("timestamp").to_pylist() == csv.column("timestamp").to_pylist()
    first_dates = [ts.date().isoformat() for ts in parquet.column("first_order_ts").to_pylist()]
    assert first_dates == csv.column("first_order_ts").to_pylist()
    amounts = ["" if a is None else f"{a:.1f}" for a in parquet.column("voucher_amount").to_pylist()]
    assert amounts == csv.column("voucher_amount").to_pylist()


def test_csv_header_and_text_values(tmp_path: Path) -> None:
    text = write_voucher_file(tmp_path / "v.csv", 200, 3, DAY, "csv").read_text()
    header, first = text.splitlines()[:2]
    assert header == ",".join(COLUMNS)
    assert '"' not in text
    assert first.startswith(DAY.isoformat())


def test_parquet_first_order_is_midnight(rows: list[dict]) -> None:
    firsts = [row["first_order_ts"] for row in rows]
    assert all(isinstance(ts, datetime) and ts.time() == datetime.min.time() for ts in firsts)


def test_value_formats(rows: list[dict]) -> None:
    assert {row["country_code"] for row in rows} == set(COUNTRIES) | {""}
    orders = {row["total_orders"] for row in rows}
    assert {"0.0", "3.0", ""} <= orders
    good = [row for row in rows if _parse_ts(row["timestamp"])]
    assert all(len(row["timestamp"]) == 26 for row in good)
    assert all(date.fromisoformat(row["last_order_ts"]) for row in rows)


def test_country_weights(rows: list[dict]) -> None:
    counts = Counter(row["country_code"] for row in rows)
    for country, weight in zip(COUNTRIES, (0.40, 0.25, 0.15, 0.20), strict=True):
        assert abs(counts[country] / ROWS - weight) < 0.02


def test_empty_and_null_rates(rows: list[dict]) -> None:
    assert 0.0005 <= _share(rows, lambda r: r["country_code"] == "") <= 0.004
    assert 0.07 <= _share(rows, lambda r: r["total_orders"] == "") <= 0.09
    assert 0.003 <= _share(rows, lambda r: r["voucher_amount"] is None) <= 0.009


def test_broken_clock_rows(rows: list[dict]) -> None:
    def broken(row: dict) -> bool:
        ts = _parse_ts(row["timestamp"])
        return ts is not None and ts < row["first_order_ts"]

    assert 0.07 <= _share(rows, broken) <= 0.09
    early = [row for row in rows if broken(row)]
    gaps = [(row["first_order_ts"] - _parse_ts(row["timestamp"])).days for row in early]
    assert min(gaps) >= 364 and max(gaps) <= 4 * 366
    assert all(_parse_ts(row["timestamp"]).date() < date.fromisoformat(row["last_order_ts"]) for row in early)


def test_normal_rows_sent_within_the_day(rows: list[dict]) -> None:
    normal = [row for row in rows if (ts := _parse_ts(row["timestamp"])) and ts >= row["first_order_ts"]]
    assert all(_parse_ts(row["timestamp"]).date() == DAY for row in normal)
    since_last = [(DAY - date.fromisoformat(row["last_order_ts"])).days for row in normal]
    assert min(since_last) >= 0 and max(since_last) <= 400
    assert sorted(since_last)[len(since_last) // 2] < 120  # skewed to recent
    assert all(row["first_order_ts"].date() <= date.fromisoformat(row["last_order_ts"]) for row in normal)


def test_duplicates(rows: list[dict]) -> None:
    counts = Counter(tuple(row.values()) for row in rows)
    duplicates = sum(count - 1 for count in counts.values())
    assert 10 <= duplicates <= 40


def test_invalid_values(rows: list[dict]) -> None:
    bad_ts = [row for row in rows if _parse_ts(row["timestamp"]) is None]
    negative = [row for row in rows if (row["voucher_amount"] or 0) < 0]
    bad_orders = [
        row
        for row in rows
        if row["total_orders"] and (float(row["total_orders"]) < 0 or not row["total_orders"].endswith(".0"))
    ]
    assert bad_ts and negative and bad_orders
    assert 5 <= len(bad_ts) + len(negative) + len(bad_orders) <= 20


def test_most_used_amount_is_meaningful(rows: list[dict]) -> None:
    for country in COUNTRIES:
        amounts = Counter(row["voucher_amount"] for row in rows if row["country_code"] == country)
        (_, top), (_, second) = amounts.most_common(2)
        assert top > 1.15 * second


def test_one_million_rows_quickly(tmp_path: Path) -> None:
    import time

    started = time.perf_counter()
    path = write_voucher_file(tmp_path / "big.csv", 1_000_000, 42, DAY, "csv")
    assert time.perf_counter() - started < 15
    assert path.stat().st_size > 40_000_000
