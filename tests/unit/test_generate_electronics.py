"""The electronics sample-data generator: deterministic purchase lines with the real export's quirks."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from elt.generate.electronics import (
    COLUMNS,
    SOURCE,
    generate_electronics,
    write_electronics_day,
    write_electronics_history,
)

DAY = date(2020, 4, 24)
FIRST, LAST = date(2020, 3, 1), date(2020, 6, 28)
ROWS = 50_000
ID_COLUMNS = ("order_id", "product_id", "category_id", "user_id")
ID = re.compile(r"\d{19}")
MANGLED = re.compile(r"\d\.\d\dE\+18")
PRICE = re.compile(r"\d+\.\d\d")
PLACEHOLDER = "1970-01-01 00:00:00 UTC"


def _read(path: Path) -> list[dict[str, str]]:
    """A generated file as rows of text, empty fields as empty strings (as the loader reads it)."""
    options = pcsv.ConvertOptions(column_types={name: pa.string() for name in COLUMNS}, strings_can_be_null=False)
    return pcsv.read_csv(path, convert_options=options).to_pylist()


def _ts(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return None


def _valid(row: dict[str, str]) -> bool:
    """No invalid value and no mangled id on the line."""
    return (
        _ts(row["event_time"]) is not None
        and (row["price"] == "" or PRICE.fullmatch(row["price"]) is not None)
        and ID.fullmatch(row["order_id"]) is not None
        and ID.fullmatch(row["product_id"]) is not None
    )


def _share(rows: list[dict[str, str]], predicate) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """50,000 lines of 120 days (2,000 products)."""
    path = write_electronics_history(tmp_path_factory.mktemp("e") / "h.csv", FIRST, LAST, seed=42, rows=ROWS, scale=0.1)
    return _read(path)


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    def day(name: str, seed: int = 7, when: date = DAY) -> bytes:
        return write_electronics_day(tmp_path / name / "p.csv", when, seed=seed, scale=0.1).read_bytes()

    assert day("a") == day("b")
    assert day("a") != day("c", seed=8)
    assert day("a") != day("d", when=DAY + timedelta(days=1))

    def history(name: str, seed: int = 7) -> bytes:
        path = tmp_path / name / "h.csv"
        return write_electronics_history(path, DAY, DAY + timedelta(days=9), seed=seed, rows=12_000).read_bytes()

    assert history("e") == history("f")
    assert history("e") != history("g", seed=8)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_generate_electronics_layout(tmp_path: Path) -> None:
    paths = generate_electronics(tmp_path, date(2020, 11, 1), 3, seed=3, scale=0.01, history_days=30)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "electronics/2020-11-01/purchases.csv",
        "electronics/2020-11-02/purchases.csv",
        "electronics/2020-11-03/purchases.csv",
    ]
    assert SOURCE == "electronics"
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    first = [_ts(row["event_time"]) for row in _read(paths[0])]
    days = {ts.date() for ts in first if ts is not None and ts.year > 1970}
    assert min(days) == date(2020, 10, 2) and max(days) == date(2020, 11, 1) and len(days) == 31
    for path in paths[1:]:
        file_day = date.fromisoformat(path.parent.name)
        times = [_ts(row["event_time"]) for row in _read(path)]
        assert max(ts.date() for ts in times if ts is not None) == file_day
    # Every order is delivered once: the history holds only what had arrived by the first day.
    files_of: defaultdict[str, set[Path]] = defaultdict(set)
    for path in paths:
        for row in _read(path):
            if ID.fullmatch(row["order_id"]):
                files_of[row["order_id"]].add(path)
    assert all(len(files) == 1 for files in files_of.values())
    again = generate_electronics(tmp_path / "again", date(2020, 11, 1), 3, seed=3, scale=0.01, history_days=30)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_first_file_holds_a_year_of_history_by_default(tmp_path: Path) -> None:
    (first,) = generate_electronics(tmp_path, date(2021, 1, 10), 1, scale=0.002)
    times = [_ts(row["event_time"]) for row in _read(first)]
    days = {ts.date() for ts in times if ts is not None and ts.year > 1970}
    assert min(days) <= date(2020, 1, 12) and max(days) == date(2021, 1, 10)


def test_header_and_columns(tmp_path: Path) -> None:
    assert COLUMNS == (
        "event_time", "order_id", "product_id", "category_id", "category_code", "brand", "price", "user_id",
    )  # fmt: skip
    text = write_electronics_day(tmp_path / "p.csv", DAY, scale=0.05).read_text()
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert '"' not in text
    assert all(line.count(",") == len(COLUMNS) - 1 for line in lines)


def test_ids_are_exact_19_digit_text(rows: list[dict[str, str]]) -> None:
    for column in ID_COLUMNS:
        values = [row[column] for row in rows if row[column] and not MANGLED.fullmatch(row[column])]
        assert values and all(ID.fullmatch(value) for value in values), column
        assert all(int(value) > 2**53 for value in values)
        # Not float-rounded: most ids are not representable as a float64.
        assert sum(int(float(value)) != int(value) for value in values) > 0.9 * len(values)
    assert all(row["user_id"].startswith("15159156") for row in rows if row["user_id"])


def test_value_formats(rows: list[dict[str, str]]) -> None:
    valid = [row for row in rows if _valid(row)]
    assert len(valid) > 0.99 * len(rows)
    assert all(row["event_time"].endswith(" UTC") for row in valid)
    codes = {row["category_code"] for row in rows}
    assert {"electronics.smartphone", "computers.notebook", "electronics.audio.headphone", ""} <= codes
    assert all(code == "" or re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", code) for code in codes)
    brands = Counter(row["brand"] for row in rows)
    assert {"samsung", "apple", "xiaomi"} <= set(brands) and len(brands) > 30
    assert all(brand == brand.lower() for brand in brands)
    prices = [float(row["price"]) for row in valid if row["price"]]
    assert min(prices) == 0.0 and max(prices) > 1000
    assert sorted(prices)[len(prices) // 2] > 20


def test_quirk_rates(rows: list[dict[str, str]]) -> None:
    assert 0.19 <= _share(rows, lambda r: r["category_code"] == "") <= 0.27
    assert 0.005 <= _share(rows, lambda r: r["category_id"] == "") <= 0.02
    assert 0.05 <= _share(rows, lambda r: r["brand"] == "") <= 0.11
    assert 0.04 <= _share(rows, lambda r: r["user_id"] == "") <= 0.06
    assert 0.13 <= _share(rows, lambda r: r["price"] == "") <= 0.19
    assert 0.002 <= _share(rows, lambda r: r["price"] == "0.00") <= 0.009
    assert 0.001 <= _share(rows, lambda r: r["event_time"] == PLACEHOLDER) <= 0.004
    # No category_id means no category_code either.
    assert all(row["category_code"] == "" for row in rows if row["category_id"] == "")


def test_rare_invalid_values_and_mangled_ids(rows: list[dict[str, str]]) -> None:
    mangled = [row for row in rows if MANGLED.fullmatch(row["order_id"]) or MANGLED.fullmatch(row["product_id"])]
    assert 1 <= len(mangled) <= 15
    kinds = {
        "time": sum(_ts(row["event_time"]) is None for row in rows),
        "negative": sum(row["price"].startswith("-") for row in rows),
        "n/a": sum(row["price"] == "N/A" for row in rows),
        "empty order": sum(row["order_id"] == "" for row in rows),
    }
    assert all(count >= 1 for count in kinds.values()), kinds
    assert 10 <= sum(kinds.values()) <= 50


def test_rare_quirks_in_every_big_file(tmp_path: Path) -> None:
    for seed in range(3):
        lines = _read(write_electronics_history(tmp_path / f"{seed}.csv", DAY, DAY, seed=seed, rows=10_000))
        assert any(MANGLED.fullmatch(row["order_id"]) or MANGLED.fullmatch(row["product_id"]) for row in lines)
        assert any(_ts(row["event_time"]) is None for row in lines)
        assert any(row["price"].startswith("-") for row in lines)
        assert any(row["price"] == "N/A" for row in lines)
        assert any(row["order_id"] == "" for row in lines)


def test_orders_and_duplicate_lines(rows: list[dict[str, str]]) -> None:
    lines = Counter(tuple(row.values()) for row in rows)
    assert 0.1 <= sum(count - 1 for count in lines.values()) / len(rows) <= 0.35
    orders: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if _valid(row):
            orders[row["order_id"]].append(row)
    units = Counter(len(order) for order in orders.values())
    assert units[1] > 0.5 * len(orders) and max(units) <= 16
    for order in orders.values():
        assert len({(row["event_time"], row["user_id"]) for row in order}) == 1
        quantities = Counter(row["product_id"] for row in order)
        assert len(quantities) <= 4 and max(quantities.values()) <= 4
    # A product has one price a day (and one brand and category, always).
    price_of: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    product: defaultdict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for row in filter(_valid, rows):
        product[row["product_id"]].add((row["category_id"], row["category_code"], row["brand"]))
        if row["event_time"] != PLACEHOLDER:
            price_of[(row["product_id"], row["event_time"][:10])].add(row["price"])
    assert all(len(prices) == 1 for prices in price_of.values())
    assert all(len(kinds) == 1 for kinds in product.values())


def test_time_of_day_and_weekday(rows: list[dict[str, str]]) -> None:
    times = [ts for row in rows if (ts := _ts(row["event_time"])) and ts.year > 1970]
    hours = Counter(ts.hour for ts in times)
    peak = max(hours, key=hours.__getitem__)
    assert 12 <= peak <= 16
    assert sum(hours[h] for h in range(13, 17)) > 5 * sum(hours[h] for h in range(20, 24))
    weekdays = Counter(ts.weekday() for ts in times)
    assert weekdays[5] > weekdays[1]


def test_brand_rankings_drift(tmp_path: Path) -> None:
    last = date(2020, 12, 31)
    path = write_electronics_history(tmp_path / "y.csv", date(2020, 1, 2), last, rows=120_000, scale=0.05)
    options = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in COLUMNS},
        include_columns=["event_time", "brand"],
        strings_can_be_null=False,
    )
    table = pcsv.read_csv(path, convert_options=options)
    rankings = []
    for weeks in (4, 12, 24, 52):
        since = (last - timedelta(weeks=weeks)).isoformat()
        counts = Counter(
            brand
            for ts, brand in zip(table["event_time"].to_pylist(), table["brand"].to_pylist(), strict=True)
            if brand and ts[:10] > since
        )
        rankings.append(tuple(brand for brand, _ in counts.most_common(10)))
    assert len(set(rankings)) >= 3


@pytest.mark.parametrize("last", [date(2018, 3, 31), date(2020, 4, 24), date(2024, 1, 28), date(2026, 11, 1)])
def test_no_brand_takes_over_the_store(tmp_path: Path, last: date) -> None:
    """At the demo's scale and at any date, four weeks' revenue is spread over brands as in a real store."""
    path = write_electronics_history(tmp_path / "w.csv", last - timedelta(days=27), last, rows=20_000, scale=0.01)
    revenue: Counter[str] = Counter()
    for row in _read(path):
        if row["brand"] and _valid(row) and row["price"]:
            revenue[row["brand"]] += float(row["price"])
    total = sum(revenue.values())
    shares = sorted((value / total for value in revenue.values()), reverse=True)
    assert shares[0] < 0.5
    assert sum(shares[:3]) < 0.8
    assert len(shares) >= 20


def test_daily_file_has_late_lines(tmp_path: Path) -> None:
    lines = _read(write_electronics_day(tmp_path / "p.csv", DAY, seed=5, scale=0.5))
    assert 2_000 < len(lines) < 6_000
    days = [ts.date() for row in lines if (ts := _ts(row["event_time"])) and ts.year > 1970]
    late = [d for d in days if d < DAY]
    assert late and all(DAY - timedelta(days=10) <= d for d in late)
    assert 0.005 <= len(late) / len(days) <= 0.05
    assert max(days) == DAY


def test_history_covers_the_days_and_rows_is_exact(tmp_path: Path) -> None:
    first, last = date(2020, 1, 5), date(2020, 2, 3)
    path = write_electronics_history(tmp_path / "h.csv", first, last, seed=1, rows=12_345, scale=0.01)
    lines = _read(path)
    assert len(lines) == 12_345
    days = {ts.date() for row in lines if (ts := _ts(row["event_time"])) and ts.year > 1970}
    assert days == {first + timedelta(days=i) for i in range(30)}


def test_history_holds_the_daily_files_lines(tmp_path: Path) -> None:
    history = _read(write_electronics_history(tmp_path / "h.csv", DAY, DAY + timedelta(days=2), seed=9, scale=0.05))
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        daily = Counter(
            tuple(row.values())
            for row in _read(write_electronics_day(tmp_path / f"{offset}.csv", day, seed=9, scale=0.05))
            if row["event_time"].startswith(day.isoformat())
        )
        of_day = Counter(tuple(row.values()) for row in history if row["event_time"].startswith(day.isoformat()))
        assert daily and not daily - of_day
        assert sum(daily.values()) > 0.9 * sum(of_day.values())


def test_history_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    path = write_electronics_history(tmp_path / "big.csv", date(2020, 1, 5), date(2020, 3, 5), rows=400_000)
    assert time.perf_counter() - started < 8  # ~0.9 s here: ~450,000 lines/s
    assert path.stat().st_size > 40_000_000


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days must be >= 1"):
        generate_electronics(tmp_path, DAY, 0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        generate_electronics(tmp_path, DAY, 1, seed=-1)
    with pytest.raises(ValueError, match="scale must be > 0"):
        generate_electronics(tmp_path, DAY, 1, scale=0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        write_electronics_day(tmp_path / "p.csv", DAY, scale=-1.0)
    with pytest.raises(ValueError, match="history_days"):
        generate_electronics(tmp_path, DAY, 1, history_days=-1)
    with pytest.raises(ValueError, match="after last_day"):
        write_electronics_history(tmp_path / "h.csv", DAY, DAY - timedelta(days=1))
    with pytest.raises(ValueError, match="rows must be >= 0"):
        write_electronics_history(tmp_path / "h.csv", DAY, DAY, rows=-1)
    assert not list(tmp_path.rglob("*.csv"))
