"""The store_orders sample-data generator: two feeds a day (workbook and JSON) with the real deliveries' quirks."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from openpyxl import load_workbook

from elt.generate.store_orders import (
    JSON_KEYS,
    MAP_COLUMNS,
    USD,
    XLSX_COLUMNS,
    XLSX_KINDS,
    day_feeds,
    generate_store_orders,
)
from elt.places import SEEDS_DIR

DAY = date(2024, 3, 15)  # a Friday; Pacific is UTC-7 (daylight saving time)
SEED, SCALE = 2, 0.0625  # ~13,000 rows a day: every quirk (some forced in: 山南 and 长春's 朝阳区), still fast
ORDER_ID = re.compile(r"G\d{10}")
PACIFIC, CHINA = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Shanghai")
TIER1 = {"上海", "北京", "深圳", "广州"}

Row = tuple


def _sheet(path: Path, name: str) -> list[Row]:
    """A sheet's rows, padded to the header's width (a row's trailing empty cells are not stored)."""
    workbook = load_workbook(path, read_only=True)
    try:
        rows = [tuple(row) for row in workbook[name].iter_rows(values_only=True)]
    finally:
        workbook.close()
    width = len(rows[0])
    return [row + (None,) * (width - len(row)) for row in rows]


def _day(paths: list[Path], day: date) -> dict:
    xlsx, js = (p for p in paths if p.parent.name == day.isoformat())
    data, mapping = _sheet(xlsx, "DATA"), _sheet(xlsx, "CITY_DISTRICT_MAP")
    return {"header": data[0], "data": data[1:], "map_header": mapping[0], "map": mapping[1:], "json": js}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One day at SCALE: the workbook's sheets and the JSON records."""
    root = tmp_path_factory.mktemp("so")
    paths = generate_store_orders(root, DAY, 1, seed=SEED, scale=SCALE)
    day = _day(paths, DAY)
    day["paths"] = [p.relative_to(root).as_posix() for p in paths]
    day["records"] = json.loads(day["json"].read_text(encoding="utf-8"))
    return day


def _hhmmss(value: int) -> time:
    return time(value // 10_000, value // 100 % 100, value % 100)


def _known_names() -> tuple[set[str], dict[str, str], set[tuple[str, str]]]:
    """Every spelling of a city (full name, alias) -> city code; and the real (city code, district) pairs."""
    with (SEEDS_DIR / "china_cities.csv").open(encoding="utf-8") as f:
        cities = {row["city_zh"]: row["city_code"] for row in csv.DictReader(f)}
    with (SEEDS_DIR / "china_city_aliases.csv").open(encoding="utf-8") as f:
        spellings = cities | {row["alias"]: row["city_code"] for row in csv.DictReader(f)}
    with (SEEDS_DIR / "china_districts.csv").open(encoding="utf-8") as f:
        pairs = {(row["city_code"], row["district_zh"]) for row in csv.DictReader(f)}
    with_districts = {code for code, _ in pairs}
    pairs |= {(code, name) for name, code in cities.items() if code not in with_districts}  # a city is its district
    return set(cities), spellings, pairs


def test_files_and_headers(big: dict) -> None:
    day = DAY.isoformat()
    assert big["paths"] == [f"store_orders/{day}/dataset1.xlsx", f"store_orders/{day}/dataset2.json"]
    assert big["header"] == XLSX_COLUMNS == (
        "ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY",
    )  # fmt: skip
    assert big["map_header"] == MAP_COLUMNS == ("CITY_DISTRICT_ID", "SHIP_TO_CITY_CD", "SHIP_TO_DISTRICT_NAME")
    assert 9_500 <= len(big["data"]) <= 12_000 and 2_200 <= len(big["records"]) <= 3_200
    assert len(big["data"]) + len(big["records"]) >= 10_000
    text = big["json"].read_text(encoding="utf-8")
    assert text.startswith("[\n{") and text.endswith("}\n]\n") and "朝阳区" in text  # UTF-8, not \\u escapes
    assert all(isinstance(r, dict) and tuple(r) == JSON_KEYS for r in big["records"])


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    def run(name: str, seed: int = 7, start: date = DAY) -> list[bytes]:
        return [p.read_bytes() for p in generate_store_orders(tmp_path / name, start, 1, seed=seed, scale=0.01)]

    first = run("a")
    assert run("b") == first
    assert all(x != y for x, y in zip(run("c", seed=8), first, strict=True))
    assert run("d", start=DAY + timedelta(days=1))[0] != first[0]
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_order_ids_unique_and_disjoint_across_feeds_and_days(big: dict, tmp_path: Path) -> None:
    workbook_ids = [row[0] for row in big["data"]]
    json_ids = [record["ORDER_ID"] for record in big["records"]]
    assert all(ORDER_ID.fullmatch(i) for i in workbook_ids + json_ids)
    assert len(set(workbook_ids)) == len(workbook_ids) and len(set(json_ids)) == len(json_ids)
    assert not set(workbook_ids) & set(json_ids)
    paths = generate_store_orders(tmp_path, DAY, 3, seed=42, scale=0.01)
    ids = [row[0] for p in paths[::2] for row in _sheet(p, "DATA")[1:]]
    ids += [r["ORDER_ID"] for p in paths[1::2] for r in json.loads(p.read_text(encoding="utf-8"))]
    assert len(ids) == len(set(ids))


def _quirks(rows: list[dict]) -> Counter:
    """Rows of each kind of quirk, in either feed (rows as dicts with the JSON's keys)."""
    counts: Counter = Counter()
    for row in rows:
        counts["time"] += row["ORDER_TIME_PST"] == "time"
        counts["unknown district"] += row.get("CITY_DISTRICT_ID") == 999_999
        counts["usd"] += row["CURRENCY_CD"] == "USD"
        counts["empty qty"] += row["ORDER_QTY"] is None
        counts["fractional qty"] += isinstance(row["ORDER_QTY"], float)
    return counts


def _as_records(data: list[Row]) -> list[dict]:
    return [
        {"ORDER_TIME_PST": r[1], "CITY_DISTRICT_ID": r[2], "RPTG_AMT": r[3], "CURRENCY_CD": r[4], "ORDER_QTY": r[5]}
        for r in data
    ]


def test_every_quirk_in_a_big_day_at_rare_rates(big: dict) -> None:
    workbook = _quirks(_as_records(big["data"]))
    assert set(workbook) == {"time", "unknown district", "usd", "empty qty", "fractional qty"}
    assert all(1 <= n <= 15 for n in workbook.values()), workbook
    records = _quirks(big["records"])
    assert {k for k, n in records.items() if n} == {"time", "usd", "empty qty", "fractional qty"}
    assert all(n <= 8 for n in records.values()), records
    for row in big["data"]:
        assert row[4] in ("RMB", "USD") and isinstance(row[3], float | int) and row[3] > 0
        assert round(row[3], 2) == row[3]
        assert row[5] is None or isinstance(row[5], float) or 1 <= row[5] <= 8
    assert all(re.fullmatch(r"\d+\.\d\d", m) for m in re.findall(r'"RPTG_AMT": ([^,]+),', big["json"].read_text()))


def test_full_scale_rates() -> None:
    """A full-scale day (arrays only: no files): a few dozen of each quirk, realistic amounts and quantities."""
    workbook, records = day_feeds(DAY, seed=42, scale=1.0)
    assert 140_000 <= len(workbook) <= 190_000 and 34_000 <= len(records) <= 48_000
    counts = {kind: int((workbook.kind == kind).sum()) for kind in XLSX_KINDS}
    assert all(3 <= n <= 80 for n in counts.values()), counts
    assert (workbook.kind != 0).sum() < 250
    rmb = workbook.cents[workbook.kind != USD] / 100
    usd = workbook.cents[workbook.kind == USD] / 100
    assert 120 <= np.median(rmb) <= 180 and np.quantile(rmb, 0.999) > 2_000 and rmb.min() > 0
    assert np.median(usd) < np.median(rmb) / 3
    assert 0.6 <= (workbook.qty == 1).mean() <= 0.8


def test_times_are_pacific_hhmmss_of_the_day_in_chinese_shopping_hours(big: dict) -> None:
    times = [row[1] for row in big["data"]] + [r["ORDER_TIME_PST"] for r in big["records"]]
    values = [t for t in times if t != "time"]
    assert all(isinstance(t, int) for t in values)
    china = Counter()
    for value in values:
        local = datetime.combine(DAY, _hhmmss(value), PACIFIC)  # raises unless a valid time of day
        shanghai = local.astimezone(CHINA)
        assert shanghai.date() in (DAY, DAY + timedelta(days=1))
        china[shanghai.hour] += 1
    share = {hour: china[hour] / len(values) for hour in range(24)}
    assert sum(share[h] for h in range(1, 7)) < 0.03  # few at night
    assert share[12] > 0.06 and share[19] > 0.06  # peaks around noon and in the evening
    assert share[12] > share[15] and share[19] > share[16]
    assert min(values) < 2_000 and max(values) > 235_000  # they spread over the whole Pacific day


@pytest.mark.parametrize(("day", "hours"), [(date(2024, 3, 10), 23), (date(2024, 11, 3), 25)])
def test_daylight_saving_days(tmp_path: Path, day: date, hours: int) -> None:
    paths = generate_store_orders(tmp_path, day, 1, seed=1, scale=0.01)
    times = [row[1] for row in _sheet(paths[0], "DATA")[1:] if row[1] != "time"]
    times += [
        r["ORDER_TIME_PST"] for r in json.loads(paths[1].read_text(encoding="utf-8")) if r["ORDER_TIME_PST"] != "time"
    ]
    if hours == 23:  # 02:00-02:59 does not exist
        assert not [t for t in times if 20_000 <= t < 30_000]
    else:  # 01:00-01:59 happens twice: the workbook, in order of ORDER_ID, goes back once
        data = [row[1] for row in _sheet(paths[0], "DATA")[1:] if row[1] != "time"]
        backwards = [(a, b) for a, b in zip(data, data[1:], strict=False) if b < a]
        assert len(backwards) == 1 and 15_500 <= backwards[0][0] < 20_000 and 10_000 <= backwards[0][1] < 10_500


def test_map_and_places(big: dict, tmp_path: Path) -> None:
    full_names, spellings, real_pairs = _known_names()
    mapping = big["map"]
    assert len(mapping) == 2_545 and len({row[1] for row in mapping}) == 362
    ids = [row[0] for row in mapping]
    assert len(set(ids)) == len(ids) and 999_999 not in ids and all(100_000 <= i < 999_999 for i in ids)
    assert {row[2] for row in big["data"]} - set(ids) == {999_999}  # the map covers the day's rows
    pair_of = {row[0]: (spellings[row[1]], row[2]) for row in mapping}
    assert set(pair_of.values()) <= real_pairs and len(set(pair_of.values())) == len(mapping)
    assert sum(row[1] not in full_names for row in mapping) > len(mapping) / 2  # mostly short names: 北京, 山南
    assert {"北京", "长沙", "山南"} <= {row[1] for row in mapping}
    assert {row[1] for row in mapping if row[2] == "朝阳区"} == {"北京", "长春"}

    json_pairs = {(spellings[r["SHIP_TO_CITY_CD"]], r["SHIP_TO_DISTRICT_NAME"]) for r in big["records"]}
    assert json_pairs <= real_pairs
    unmapped = json_pairs - set(pair_of.values())
    assert unmapped
    share = sum((spellings[r["SHIP_TO_CITY_CD"]], r["SHIP_TO_DISTRICT_NAME"]) in unmapped for r in big["records"])
    assert 0.01 <= share / len(big["records"]) <= 0.06  # a few percent
    cities = {r["SHIP_TO_CITY_CD"] for r in big["records"]}
    assert {"山南", "山南市"} <= cities
    assert {r["SHIP_TO_CITY_CD"] for r in big["records"] if r["SHIP_TO_DISTRICT_NAME"] == "朝阳区"} == {"北京", "长春"}

    # The same map every day and at every scale.
    other = generate_store_orders(tmp_path, DAY + timedelta(days=40), 1, seed=SEED, scale=0.002)
    assert _sheet(other[0], "CITY_DISTRICT_MAP")[1:] == mapping


def test_sales_by_city_are_heavy_tailed(big: dict) -> None:
    city_of = {row[0]: row[1] for row in big["map"]}
    sales: Counter = Counter()
    for row in big["data"]:
        if row[2] in city_of and row[4] == "RMB":
            sales[city_of[row[2]]] += row[3]
    ranked = [amount for _, amount in sales.most_common()]
    assert {city for city, _ in sales.most_common(4)} == TIER1
    assert sum(ranked[:19]) / sum(ranked) > 0.45  # tier 1 and new tier 1 ...
    assert sum(ranked[len(ranked) // 2 :]) / sum(ranked) < 0.2  # ... and a long tail of small cities


def test_arguments_are_checked(tmp_path: Path) -> None:
    assert generate_store_orders(tmp_path, DAY, 0) == []
    for kwargs in ({"days": -1}, {"days": 1, "seed": -1}, {"days": 1, "scale": 0.0}):
        with pytest.raises(ValueError):
            generate_store_orders(tmp_path, DAY, **kwargs)
    with pytest.raises(ValueError, match="at most 5.0"):
        day_feeds(DAY, scale=8.0)
    with pytest.raises(ValueError, match="10 digits"):
        day_feeds(date(2060, 1, 1), scale=5.0)
