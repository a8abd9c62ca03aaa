"""Deterministic orders of physical stores in Chinese cities (the `store_orders` source), with the quirks of the real
deliveries.

Each day D (a US Pacific day) lands in `<landing>/store_orders/<YYYY-MM-DD>/` as two files from two systems that
sell through the same order counter, so their orders never overlap:

- `dataset1.xlsx`, sheet `DATA` with the columns `ORDER_ID, ORDER_TIME  (PST), CITY_DISTRICT_ID, RPTG_AMT,
  CURRENCY_CD, ORDER_QTY` (~160,000 rows at scale 1.0) and sheet `CITY_DISTRICT_MAP` with `CITY_DISTRICT_ID,
  SHIP_TO_CITY_CD, SHIP_TO_DISTRICT_NAME`;
- `dataset2.json`, one UTF-8 JSON array of records `ORDER_ID, ORDER_TIME_PST, SHIP_TO_DISTRICT_NAME,
  SHIP_TO_CITY_CD, RPTG_AMT, CURRENCY_CD, ORDER_QTY` (~40,000 at scale 1.0), one record a line.

The places are the real divisions of the China reference seeds (dbt_project/seeds: china_cities, china_city_aliases,
china_districts): 369 cities and their 2,813 county-level districts; a city without any (东莞, 中山, 仙桃, Hainan's
counties) is its own single district, named like the city (东莞市). The map is the same every day and at every scale
(a function of the seed only): 362 cities and 2,545 (city, district) pairs with 6-digit ids, the rest of the
divisions missing because the map is out of date. `SHIP_TO_CITY_CD` is the city's name as the source system writes
it: mostly the short name (北京, 长沙, 山南, 延边州), else the full one (吉林市, 海西蒙古族藏族自治州); always a name
that `china_cities.city_zh` or `china_city_aliases.alias` resolves. District names repeat across cities (朝阳区 is
in 北京 and 长春): only the pair names a district.

Orders: `ORDER_ID` is `G` and 10 digits, increasing with time (one counter for both files, unique across days).
`ORDER_TIME  (PST)` / `ORDER_TIME_PST` is the time of day in US Pacific time as an integer HHMMSS without zero
padding (`50127` is 05:01:27, `0` midnight); the date is the partition's. Stores keep Chinese shopping hours
(Asia/Shanghai: few orders at night, peaks around noon and 19-20h, more on weekends), which spread over the whole
Pacific day: D covers 15:00 or 16:00 China time of D to the same hour of D+1, 23 or 25 hours on the days daylight
saving starts or ends (on the latter 01:00-01:59 appears twice). Sales by city are heavy-tailed: the tier-1 cities
(上海, 北京, 深圳, 广州) lead with ~25% of the orders, the 15 new tier-1 follow, then a long tail (the smaller half of
the cities sells ~10%, the smallest ~60 orders a day at scale 1.0); urban districts (区) sell more than counties.
`RPTG_AMT` is the order value in RMB with two decimals (lognormal, median ~150, a tail to several thousand; dearer in
bigger cities), `ORDER_QTY` the units (1 for ~70%, up to 8), `CURRENCY_CD` `RMB`.

Quirks, at about these rates per 160,000 rows (binomial draws, so rare at small scales; a day of 10,000 rows or
more holds each kind at least once in each file it applies to):

- `time` as text instead of a time: 1 in 20,000 rows (~8);
- `CITY_DISTRICT_ID` `999999`, in no map: 0.02% of the workbook's rows (~32);
- `CURRENCY_CD` `USD`, the amount then in dollars (RMB / ~7.1): 0.025% (~40);
- `ORDER_QTY` empty (~19; in the sheet a trailing empty cell is not stored, so readers see a shorter row) or
  fractional (`1.5`, ~16);
- in the JSON only: 3% of the rows name a real (city, district) pair that the map lacks (7 whole cities and ~270
  districts of the others), and 山南 is written two ways, `山南` and `山南市` (40% of its rows). A day of 10,000 rows
  or more also has in its JSON at least one unmapped pair, both spellings of 山南 and 朝阳区 of both 北京 and 长春.

The same arguments always give byte-identical files (the workbook is written by elt.generate.workbook, whose zip
entries carry a fixed time, never the clock). Memory is bounded by one day's arrays and the shared strings: a
sheet holds at most 1,048,575 rows, so the scale is at most 5.0. Each day has its own block of order numbers,
centred on 2024-01-01, so the 10 digits last from ~1977 to ~2070 at scale 1.0 and from ~2015 to ~2033 at scale 5.0
(other days are refused); at the default scale 0.01, for any day.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import chain
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from elt.generate.workbook import write_workbook as write_sheets
from elt.places import SEEDS_DIR

SOURCE = "store_orders"
XLSX_NAME, JSON_NAME = "dataset1.xlsx", "dataset2.json"
DATA_SHEET, MAP_SHEET = "DATA", "CITY_DISTRICT_MAP"
XLSX_COLUMNS = ("ORDER_ID", "ORDER_TIME  (PST)", "CITY_DISTRICT_ID", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY")
MAP_COLUMNS = ("CITY_DISTRICT_ID", "SHIP_TO_CITY_CD", "SHIP_TO_DISTRICT_NAME")
JSON_KEYS = (
    "ORDER_ID", "ORDER_TIME_PST", "SHIP_TO_DISTRICT_NAME", "SHIP_TO_CITY_CD", "RPTG_AMT", "CURRENCY_CD", "ORDER_QTY",
)  # fmt: skip

XLSX_ROWS_PER_DAY = 160_000  # scale 1.0
JSON_ROWS_PER_DAY = 40_000
MAX_SHEET_ROWS = 1_048_575  # Excel's limit, less the header
MAX_SCALE = 5.0  # a busy day's workbook still fits in one sheet
MAP_CITIES, MAP_PAIRS = 362, 2_545

PACIFIC, CHINA = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Shanghai")
# Orders per China hour 0-23: stores open ~9-22h, a few 24-hour shops, peaks at noon and 19-20h.
HOUR_WEIGHTS = (
    0.60, 0.30, 0.15, 0.10, 0.10, 0.20, 0.50, 1.20, 2.20, 3.60, 5.20, 6.60,
    7.20, 6.40, 5.60, 5.20, 5.40, 6.00, 7.00, 7.80, 7.60, 6.20, 3.80, 1.80,
)  # fmt: skip
WEEKDAY_WEIGHTS = (0.94, 0.93, 0.95, 0.97, 1.03, 1.12, 1.06)  # China's Monday..Sunday

TIME_TEXT_RATE = 1 / 20_000
UNKNOWN_DISTRICT_RATE = 0.0002  # workbook only
USD_RATE = 0.00025
EMPTY_QTY_RATE = 0.00012
FRACTIONAL_QTY_RATE = 0.0001
UNMAPPED_SHARE = 0.03  # of the JSON rows
TWO_WAY_SHARE = 0.4  # of the JSON rows of TWO_WAY_CITY: its full name
FORCED_FROM_ROWS = 10_000  # a day this big has every kind of quirk in each file

NONE, TIME_TEXT, UNKNOWN_DISTRICT, USD, EMPTY_QTY, FRACTIONAL_QTY = range(6)
XLSX_KINDS = (TIME_TEXT, UNKNOWN_DISTRICT, USD, EMPTY_QTY, FRACTIONAL_QTY)
JSON_KINDS = (TIME_TEXT, USD, EMPTY_QTY, FRACTIONAL_QTY)
RATES = {
    TIME_TEXT: TIME_TEXT_RATE,
    UNKNOWN_DISTRICT: UNKNOWN_DISTRICT_RATE,
    USD: USD_RATE,
    EMPTY_QTY: EMPTY_QTY_RATE,
    FRACTIONAL_QTY: FRACTIONAL_QTY_RATE,
}
UNKNOWN_DISTRICT_ID = 999_999
FRACTIONS = (0.5, 1.5, 2.5)

QTY_WEIGHTS = (0.70, 0.17, 0.07, 0.03, 0.015, 0.008, 0.004, 0.003)  # 1..8 units
UNIT_MEDIAN_RMB = 98.0
UNIT_SIGMA = 0.85
MAX_CENTS = 4_999_999
USD_RATE_RANGE = (6.9, 7.3)  # RMB per USD, one rate a day

TIER1 = {"310000": 1.00, "110000": 0.92, "440300": 0.80, "440100": 0.76}  # 上海 北京 深圳 广州: share weights
NEW_TIER1_WEIGHT = 0.35
TAIL_TOP_WEIGHT = 0.22  # the biggest other city, against 上海's 1.0
TAIL_EXPONENT = 0.6
TYPE_FACTOR = {"prefecture_level_city": 1.0, "province_administered_county": 0.25}  # others 0.35
PRICE_FACTOR = {1.0: 1.30, 1.5: 1.12}  # by official tier; others 1.0 (prefecture-level city) or 0.9
BEIJING, CHANGCHUN, CHANGSHA, TWO_WAY_CITY = "110000", "220100", "430100", "540500"  # 山南
TWIN_DISTRICT = "朝阳区"
PROTECTED_CITIES = (*TIER1, CHANGCHUN, CHANGSHA, TWO_WAY_CITY)  # always in the map, with their short names

ORDER_ID_EPOCH = date(2024, 1, 1)  # order numbers around ORDER_ID_MIDDLE on this day
ORDER_ID_MIDDLE = 5_000_000_000
ORDER_ID_LIMIT = 10**10
ORDER_ID_SLACK = 1.25  # numbers a day per expected order: the gaps are numbers of cancelled orders
CHUNK_ROWS = 20_000

_WORLD_TAG, _DAY_TAG, _FORCE_TAG = 1, 2, 3


def _rng(seed: int, *parts: int) -> np.random.Generator:
    """A random generator that is a function of the seed and the given parts only."""
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def _weights(values: tuple[float, ...] | list[float] | np.ndarray) -> np.ndarray:
    """Probabilities from weights."""
    array = np.asarray(values, dtype=np.float64)
    return array / array.sum()


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class _Places:
    """The real divisions: cities and (city, district) pairs, in code order."""

    city_code: list[str]
    city_zh: list[str]
    city_type: list[str]
    city_tier: list[float]  # official tier (1.0, 1.5) or 0.0
    short_names: list[list[str]]  # per city, its short aliases
    pair_city: np.ndarray  # city index per pair
    pair_district: list[str]
    pair_urban: np.ndarray  # a 区 (district) rather than a county


@lru_cache(maxsize=1)
def _places() -> _Places:
    """China's cities and their districts from the reference seeds; a city without districts is its own."""
    cities = sorted(_read_seed("china_cities"), key=lambda row: row["city_code"])
    index = {row["city_code"]: i for i, row in enumerate(cities)}
    tiers = {row["city_code"]: float(row["official_tier"]) for row in _read_seed("city_tiers")}
    short: list[list[str]] = [[] for _ in cities]
    for row in _read_seed("china_city_aliases"):
        if row["alias_kind"] == "short" and row["city_code"] in index:
            short[index[row["city_code"]]].append(row["alias"])
    districts: list[list[tuple[str, bool]]] = [[] for _ in cities]
    for row in sorted(_read_seed("china_districts"), key=lambda row: row["district_code"]):
        districts[index[row["city_code"]]].append((row["district_zh"], row["district_type"] == "district"))
    pair_city, pair_district, pair_urban = [], [], []
    for i, row in enumerate(cities):
        for name, urban in districts[i] or [(row["city_zh"], True)]:
            pair_city.append(i)
            pair_district.append(name)
            pair_urban.append(urban)
    return _Places(
        city_code=[row["city_code"] for row in cities],
        city_zh=[row["city_zh"] for row in cities],
        city_type=[row["division_type"] for row in cities],
        city_tier=[tiers.get(row["city_code"], 0.0) for row in cities],
        short_names=short,
        pair_city=np.asarray(pair_city, dtype=np.int64),
        pair_district=pair_district,
        pair_urban=np.asarray(pair_urban, dtype=bool),
    )


@dataclass(frozen=True)
class _World:
    """What one seed fixes: how each city is spelled, who sells what, and the (out of date) map."""

    seed: int
    city_name: list[str]  # as the source system writes it
    pair_weight: np.ndarray  # share of the orders per pair
    mapped_weight: np.ndarray  # the same over the mapped pairs only, each city keeping its share
    pair_price: np.ndarray  # price level per pair
    map_id: np.ndarray  # CITY_DISTRICT_ID per pair; -1 where the map lacks the pair
    two_way_city: int  # index of 山南
    twin_pairs: tuple[int, int]  # 朝阳区 of 北京 and of 长春

    @property
    def mapped(self) -> np.ndarray:
        return self.map_id >= 0


def _spellings(rng: np.random.Generator, places: _Places) -> list[str]:
    """Each city's name as the source system writes it: mostly a short name, else the full one."""
    names = []
    for code, full, short in zip(places.city_code, places.city_zh, places.short_names, strict=True):
        if short and (code in PROTECTED_CITIES or rng.random() < 0.92):
            names.append(short[0] if code in PROTECTED_CITIES else short[int(rng.integers(len(short)))])
        else:
            names.append(full)
    return names


def _city_weights(rng: np.random.Generator, places: _Places) -> np.ndarray:
    """Heavy-tailed sales by city: tier 1 leads, the new tier 1 follow, then a seeded long tail."""
    n = len(places.city_code)
    weights = np.zeros(n)
    others = []
    for i, (code, tier) in enumerate(zip(places.city_code, places.city_tier, strict=True)):
        if code in TIER1:
            weights[i] = TIER1[code]
        elif tier == 1.5:
            weights[i] = NEW_TIER1_WEIGHT * math.exp(rng.normal(0.0, 0.2))
        else:
            others.append(i)
    factor = np.array([TYPE_FACTOR.get(places.city_type[i], 0.35) for i in others])
    urban = np.bincount(places.pair_city[places.pair_urban], minlength=n)[others]  # a proxy of the city's size
    score = rng.lognormal(0.0, 0.6, len(others)) * factor * np.sqrt(1.0 + urban)
    rank = np.empty(len(others), dtype=np.int64)
    rank[np.argsort(-score, kind="stable")] = np.arange(1, len(others) + 1)
    weights[others] = TAIL_TOP_WEIGHT * rank.astype(np.float64) ** -TAIL_EXPONENT * rng.lognormal(0.0, 0.1, len(others))
    return weights / weights.sum()


def _pair_weights(rng: np.random.Generator, places: _Places, city_weight: np.ndarray) -> np.ndarray:
    """Each city's share split over its districts: urban districts sell more."""
    own = rng.lognormal(0.0, 0.8, places.pair_city.size) * np.where(places.pair_urban, 2.5, 1.0)
    per_city = np.bincount(places.pair_city, weights=own, minlength=city_weight.size)
    return city_weight[places.pair_city] * own / per_city[places.pair_city]


def _pair_prices(rng: np.random.Generator, places: _Places) -> np.ndarray:
    """Price level per pair: dearer in bigger cities, a little noise per district."""
    pairs = zip(places.city_tier, places.city_type, strict=True)
    city = np.array([PRICE_FACTOR.get(tier, 1.0 if kind == "prefecture_level_city" else 0.9) for tier, kind in pairs])
    return city[places.pair_city] * rng.lognormal(0.0, 0.12, places.pair_city.size)


def _map_pairs(rng: np.random.Generator, places: _Places, weight: np.ndarray, twin: tuple[int, int]) -> np.ndarray:
    """Which pairs the map holds: all but a few small cities and some districts of the others."""
    n_cities = len(places.city_code)
    protected = np.array([code in PROTECTED_CITIES for code in places.city_code])
    city_weight = np.bincount(places.pair_city, weights=weight, minlength=n_cities)
    small = np.flatnonzero(~protected & (city_weight < np.quantile(city_weight, 0.5)))
    dropped_cities = rng.choice(small, size=n_cities - MAP_CITIES, replace=False)
    keep = ~np.isin(places.pair_city, dropped_cities)
    # Each kept city keeps its first pair (and the twins stay): the others may go.
    first = np.r_[True, places.pair_city[1:] != places.pair_city[:-1]]
    candidates = np.flatnonzero(keep & ~first)
    candidates = candidates[~np.isin(candidates, twin)]
    keep[rng.choice(candidates, size=int(keep.sum()) - MAP_PAIRS, replace=False)] = False
    return keep


def _pair_index(places: _Places, city: int, district: str) -> int:
    rows = np.flatnonzero(places.pair_city == city).tolist()
    return next(p for p in rows if places.pair_district[p] == district)


@lru_cache(maxsize=4)
def _world(seed: int) -> _World:
    """The world of a seed (cached: the same every call)."""
    places = _places()
    rng = _rng(seed, _WORLD_TAG)
    names = _spellings(rng, places)
    weight = _pair_weights(rng, places, _city_weights(rng, places))
    price = _pair_prices(rng, places)
    city_index = {code: i for i, code in enumerate(places.city_code)}
    twin = (
        _pair_index(places, city_index[BEIJING], TWIN_DISTRICT),
        _pair_index(places, city_index[CHANGCHUN], TWIN_DISTRICT),
    )
    keep = _map_pairs(rng, places, weight, twin)
    ids = np.sort(rng.choice(UNKNOWN_DISTRICT_ID - 100_000, size=int(keep.sum()), replace=False)) + 100_000
    map_id = np.full(keep.size, -1, dtype=np.int64)
    map_id[keep] = ids
    city_total = np.bincount(places.pair_city, weights=weight)
    mapped_total = np.bincount(places.pair_city, weights=weight * keep)
    share = np.divide(city_total, mapped_total, out=np.zeros_like(city_total), where=mapped_total > 0)
    return _World(
        seed=seed,
        city_name=names,
        pair_weight=weight,
        mapped_weight=np.where(keep, weight * share[places.pair_city], 0.0),
        pair_price=price,
        map_id=map_id,
        two_way_city=city_index[TWO_WAY_CITY],
        twin_pairs=twin,
    )


def map_rows(seed: int = 42) -> list[tuple[int, str, str]]:
    """The CITY_DISTRICT_MAP sheet's rows: (CITY_DISTRICT_ID, SHIP_TO_CITY_CD, SHIP_TO_DISTRICT_NAME), by id."""
    world, places = _world(seed), _places()
    return [
        (int(world.map_id[p]), world.city_name[places.pair_city[p]], places.pair_district[p])
        for p in np.flatnonzero(world.mapped)
    ]


@dataclass(frozen=True)
class Feed:
    """One file's orders of a day, as arrays (before the text of the file)."""

    order_no: np.ndarray  # the 10 digits of ORDER_ID
    hhmmss: np.ndarray  # Pacific time of day
    pair: np.ndarray  # (city, district) pair index
    cents: np.ndarray  # RPTG_AMT in cents of CURRENCY_CD
    qty: np.ndarray  # units
    kind: np.ndarray  # quirk: NONE, TIME_TEXT, UNKNOWN_DISTRICT, USD, EMPTY_QTY, FRACTIONAL_QTY
    full_name: np.ndarray  # the JSON writes the city's full name (山南市)

    def __len__(self) -> int:
        return int(self.order_no.size)


def _hours(day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The UTC hours of the Pacific day: start (epoch seconds), Pacific offset (s), China hour and weekday."""
    start = datetime.combine(day, time(), PACIFIC).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), PACIFIC).astimezone(UTC)
    starts = [start + timedelta(hours=h) for h in range(int((end - start).total_seconds()) // 3600)]
    offset = [int(t.astimezone(PACIFIC).utcoffset().total_seconds()) for t in starts]  # whole hours, hour-aligned
    china = [t.astimezone(CHINA) for t in starts]
    return (
        np.array([int(t.timestamp()) for t in starts], dtype=np.int64),
        np.array(offset, dtype=np.int64),
        np.array([t.hour for t in china], dtype=np.int64),
        np.array([t.weekday() for t in china], dtype=np.int64),
    )


def _per_day(scale: float) -> float:
    return (XLSX_ROWS_PER_DAY + JSON_ROWS_PER_DAY) * scale


def _expected(day: date, scale: float) -> np.ndarray:
    """Orders expected in each UTC hour of the Pacific day (both files)."""
    _, _, hour, weekday = _hours(day)
    shape = np.asarray(HOUR_WEIGHTS)[hour] * _weights(WEEKDAY_WEIGHTS)[weekday] * 7
    return _per_day(scale) * shape / sum(HOUR_WEIGHTS)


def _order_numbers(rng: np.random.Generator, day: date, scale: float, n: int) -> np.ndarray:
    """`n` increasing order numbers in the day's own block of the counter (gaps: numbers used elsewhere)."""
    capacity = math.ceil(ORDER_ID_SLACK * _per_day(scale) * 25 / 24 * max(_weights(WEEKDAY_WEIGHTS)) * 7) + 1_000
    base = ORDER_ID_MIDDLE + (day.toordinal() - ORDER_ID_EPOCH.toordinal()) * capacity
    if n > capacity or base < 1 or base + capacity > ORDER_ID_LIMIT:
        raise ValueError(f"order ids of {day} at scale {scale} do not fit in 10 digits; use a smaller scale")
    return base + np.sort(rng.integers(0, capacity - n + 1, n)) + np.arange(n)


def _times(rng: np.random.Generator, day: date, scale: float) -> np.ndarray:
    """The day's orders as Pacific HHMMSS, in the order they were placed (Poisson counts per UTC hour)."""
    starts, offset, _, _ = _hours(day)
    hour = np.repeat(np.arange(starts.size), rng.poisson(_expected(day, scale)))
    since_start = np.sort(hour * 3600 + rng.integers(0, 3600, hour.size))  # the hours are consecutive
    local = starts[0] + since_start + offset[since_start // 3600]
    tod = local - (day - date(1970, 1, 1)).days * 86_400
    return tod // 3600 * 10_000 + tod % 3600 // 60 * 100 + tod % 60


def _draw_pairs(world: _World, rng: np.random.Generator, n: int, unmapped_share: float) -> np.ndarray:
    """Pairs by their share of sales; `unmapped_share` of the rows from the pairs the map lacks."""
    pairs = np.zeros(n, dtype=np.int64)
    unmapped = rng.random(n) < unmapped_share
    mapped, unmapped_pairs = np.flatnonzero(world.mapped), np.flatnonzero(~world.mapped)
    for rows, pool, weight in ((~unmapped, mapped, world.mapped_weight), (unmapped, unmapped_pairs, world.pair_weight)):
        cdf = np.cumsum(weight[pool])
        draws = np.searchsorted(cdf, rng.random(int(rows.sum())) * cdf[-1], side="right")
        pairs[rows] = pool[np.minimum(draws, pool.size - 1)]
    return pairs


def _quirks(rng: np.random.Generator, n: int, kinds: tuple[int, ...], forced: bool) -> np.ndarray:
    """Each row's quirk (NONE for most): binomial counts, at least one of each kind when `forced`."""
    counts = rng.binomial(n, [RATES[kind] for kind in kinds])
    if forced:
        counts = np.maximum(counts, 1)
    kind = np.zeros(n, dtype=np.int8)
    positions = rng.choice(n, size=min(int(counts.sum()), n), replace=False)
    kind[positions] = np.repeat(np.asarray(kinds, dtype=np.int8), counts)[: positions.size]
    return kind


def _feed(world: _World, rng: np.random.Generator, orders: tuple[np.ndarray, np.ndarray], is_json: bool,
          forced: bool, usd_rate: float) -> Feed:  # fmt: skip
    """One file's orders: places, quantities, amounts and quirks."""
    order_no, hhmmss = orders
    n = order_no.size
    pair = _draw_pairs(world, rng, n, UNMAPPED_SHARE if is_json else 0.0)
    qty = rng.choice(len(QTY_WEIGHTS), size=n, p=_weights(QTY_WEIGHTS)) + 1
    unit = UNIT_MEDIAN_RMB * np.exp(rng.normal(0.0, UNIT_SIGMA, n)) * world.pair_price[pair]
    cents = np.clip(np.round(unit * qty * 100), 100, MAX_CENTS).astype(np.int64)
    kind = _quirks(rng, n, JSON_KINDS if is_json else XLSX_KINDS, forced)
    usd = kind == USD
    cents[usd] = np.maximum(np.round(cents[usd] / usd_rate), 1)
    two_way = _places().pair_city[pair] == world.two_way_city
    full_name = is_json & two_way & (rng.random(n) < TWO_WAY_SHARE)
    return Feed(order_no, hhmmss, pair, cents, qty, kind, full_name)


def _missing_places(world: _World, feed: Feed) -> list[str]:
    """What a big day's JSON must show and does not: an unmapped pair, 山南 both ways, 朝阳区 in both cities."""
    two_way = _places().pair_city[feed.pair] == world.two_way_city
    present = {
        "unmapped": bool((~world.mapped[feed.pair]).any()),
        "short": bool((two_way & ~feed.full_name).any()),
        "full": bool((two_way & feed.full_name).any()),
        "twin0": bool((feed.pair == world.twin_pairs[0]).any()),
        "twin1": bool((feed.pair == world.twin_pairs[1]).any()),
    }
    return [name for name, seen in present.items() if not seen]


def _force_places(world: _World, rng: np.random.Generator, feed: Feed) -> Feed:
    """Give plain rows of a big day's JSON the places it lacks (see _missing_places)."""
    missing = _missing_places(world, feed)
    city = _places().pair_city
    plain = (feed.kind == NONE) & world.mapped[feed.pair] & (city[feed.pair] != world.two_way_city)
    plain &= ~np.isin(feed.pair, world.twin_pairs)
    free = np.flatnonzero(plain)
    if not missing or free.size < len(missing):
        return feed
    pair, full_name = feed.pair.copy(), feed.full_name.copy()
    two_way_pairs = np.flatnonzero(world.mapped & (city == world.two_way_city))
    for position, what in zip(rng.choice(free, size=len(missing), replace=False), missing, strict=True):
        if what == "unmapped":
            pair[position] = _draw_pairs(world, rng, 1, 1.0)[0]
        elif what in ("short", "full"):
            pair[position] = rng.choice(two_way_pairs)
            full_name[position] = what == "full"
        else:
            pair[position] = world.twin_pairs[int(what[-1])]
    return Feed(feed.order_no, feed.hhmmss, pair, feed.cents, feed.qty, feed.kind, full_name)


def day_feeds(day: date, seed: int = 42, scale: float = 0.01) -> tuple[Feed, Feed]:
    """The orders of the Pacific day `day` as arrays: (workbook, JSON); what the files of the day hold."""
    _check(seed, scale)
    world = _world(seed)
    rng = _rng(seed, day.toordinal(), _DAY_TAG)
    hhmmss = _times(rng, day, scale)
    order_no = _order_numbers(rng, day, scale, hhmmss.size)
    in_json = rng.random(hhmmss.size) < JSON_ROWS_PER_DAY / (XLSX_ROWS_PER_DAY + JSON_ROWS_PER_DAY)
    usd_rate = float(rng.uniform(*USD_RATE_RANGE))
    forced = hhmmss.size >= FORCED_FROM_ROWS
    xlsx = _feed(world, rng, (order_no[~in_json], hhmmss[~in_json]), False, forced, usd_rate)
    json_feed = _feed(world, rng, (order_no[in_json], hhmmss[in_json]), True, forced, usd_rate)
    if forced:
        json_feed = _force_places(world, _rng(seed, day.toordinal(), _FORCE_TAG), json_feed)
    if len(xlsx) > MAX_SHEET_ROWS:
        raise ValueError(f"{len(xlsx)} rows on {day} do not fit in one sheet; use a smaller scale than {scale}")
    return xlsx, json_feed


def _check(seed: int, scale: float) -> None:
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not 0 < scale <= MAX_SCALE:
        raise ValueError(f"scale must be > 0 and at most {MAX_SCALE} (one sheet per day), got {scale}")


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _chunks(feed: Feed) -> Iterator[slice]:
    return (slice(start, start + CHUNK_ROWS) for start in range(0, len(feed), CHUNK_ROWS))


def _common_columns(feed: Feed, part: slice) -> tuple[list, list, list, list, np.ndarray]:
    """ORDER_ID, time, currency and quantity of some rows, quirks applied; and the rows' quirks."""
    kind = feed.kind[part]
    order_no = feed.order_no[part].tolist()
    ids = [f"G{number:010d}" for number in order_no]
    times: list[int | str] = feed.hhmmss[part].tolist()
    currency = ["RMB"] * kind.size
    qty: list[int | float | None] = feed.qty[part].tolist()
    for i in np.flatnonzero(kind).tolist():
        if kind[i] == TIME_TEXT:
            times[i] = "time"
        elif kind[i] == USD:
            currency[i] = "USD"
        elif kind[i] == EMPTY_QTY:
            qty[i] = None
        elif kind[i] == FRACTIONAL_QTY:
            qty[i] = FRACTIONS[order_no[i] % len(FRACTIONS)]
    return ids, times, currency, qty, kind


def _data_rows(world: _World, feed: Feed) -> Iterator[list]:
    """The DATA sheet's rows (without the header), built a chunk at a time."""
    for part in _chunks(feed):
        ids, times, currency, qty, kind = _common_columns(feed, part)
        district = np.where(kind == UNKNOWN_DISTRICT, UNKNOWN_DISTRICT_ID, world.map_id[feed.pair[part]]).tolist()
        amount = (feed.cents[part] / 100).tolist()
        yield from map(list, zip(ids, times, district, amount, currency, qty, strict=True))


def _json_value(value: int | float | str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_lines(world: _World, feed: Feed) -> Iterator[str]:
    """One JSON object a record, keys in JSON_KEYS order."""
    places = _places()
    district = [_json_value(name) for name in places.pair_district]
    city = [_json_value(world.city_name[c]) for c in places.pair_city.tolist()]
    full = [_json_value(places.city_zh[c]) for c in places.pair_city.tolist()]
    for part in _chunks(feed):
        ids, times, currency, qty, _ = _common_columns(feed, part)
        pairs, full_name = feed.pair[part].tolist(), feed.full_name[part].tolist()
        amounts = [_amount(cents) for cents in feed.cents[part].tolist()]
        for i, pair in enumerate(pairs):
            city_name = (full if full_name[i] else city)[pair]
            yield (
                f'{{"ORDER_ID": "{ids[i]}", "ORDER_TIME_PST": {_json_value(times[i])}, '
                f'"SHIP_TO_DISTRICT_NAME": {district[pair]}, "SHIP_TO_CITY_CD": {city_name}, '
                f'"RPTG_AMT": {amounts[i]}, "CURRENCY_CD": "{currency[i]}", '
                f'"ORDER_QTY": {_json_value(qty[i])}}}'
            )


def _atomic(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp")


def write_workbook(path: Path, day: date, seed: int = 42, scale: float = 0.01, feed: Feed | None = None) -> Path:
    """Write the day's `dataset1.xlsx` (sheets DATA and CITY_DISTRICT_MAP) to `path` atomically; return it."""
    path = Path(path)
    feed = feed if feed is not None else day_feeds(day, seed, scale)[0]
    world = _world(seed)
    sheets = {
        DATA_SHEET: chain([list(XLSX_COLUMNS)], _data_rows(world, feed)),
        MAP_SHEET: chain([list(MAP_COLUMNS)], (list(row) for row in map_rows(seed))),
    }
    tmp = _atomic(path)
    try:
        write_sheets(tmp, sheets)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: Path, day: date, seed: int = 42, scale: float = 0.01, feed: Feed | None = None) -> Path:
    """Write the day's `dataset2.json` (one array, a record a line, UTF-8) to `path` atomically; return it."""
    path = Path(path)
    feed = feed if feed is not None else day_feeds(day, seed, scale)[1]
    tmp = _atomic(path)
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            out.write("[")
            for i, line in enumerate(_json_lines(_world(seed), feed)):
                out.write(",\n" if i else "\n")
                out.write(line)
            out.write("\n]\n" if len(feed) else "]\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def day_dir(landing_dir: Path, day: date) -> Path:
    """Where the files of `day` land: `<landing>/store_orders/<YYYY-MM-DD>/`."""
    return Path(landing_dir) / SOURCE / day.isoformat()


def generate_store_orders(landing_dir: Path, start: date, days: int, seed: int = 42, scale: float = 0.01) -> list[Path]:
    """Write `dataset1.xlsx` and `dataset2.json` for each of `days` days from `start`; return the paths."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    _check(seed, scale)
    paths: list[Path] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        xlsx, json_feed = day_feeds(day, seed, scale)
        folder = day_dir(landing_dir, day)
        paths.append(write_workbook(folder / XLSX_NAME, day, seed, scale, xlsx))
        paths.append(write_json(folder / JSON_NAME, day, seed, scale, json_feed))
    return paths
