"""Deterministic purchases of the electronics store (the Kaggle "kz.csv" export), with the quirks of the real files.

Files land in `<landing>/electronics/<YYYY-MM-DD>/purchases.csv` with the columns of the export, in this order:
`event_time, order_id, product_id, category_id, category_code, brand, price, user_id`. One line is ONE UNIT sold:
an order of four identical phones is four identical lines (exact duplicate lines are real sales).

The generator simulates one "world" per seed and scale: a product catalogue (~20,000 products at scale 1.0, at
least 300), a few hundred thousand customers, and for every day (UTC) a number of orders that is a function of the
seed, the scale and the day only. An order has 1-4 distinct products (72/17/7/4%), each 1-4 units (82/11/4/3%),
~1.8 lines; all its lines share `event_time`, `order_id` and `user_id`. Sales follow the store's day (Kazakhstan,
UTC+6: few at night, a peak at 13-16 UTC), the weekday (more on weekends), the season (peak at the end of the
year), a gentle trend (+10% a year) and a slow drift of each brand's popularity over weeks (sine waves of 16-104
weeks and a yearly slope, so that brand rankings over 4/12/24/52 weeks differ; bounded to half and twice the base,
and moving sales between the brands of a category only, so no brand takes over the store at any date).
Scale 1.0 is the real store: ~2.6M lines a year, ~7,200 on an average day.

Quirks, at about these rates:

- `event_time` text with a ` UTC` suffix (`2020-04-24 11:50:39 UTC`); 0.2% of the orders carry the placeholder
  `1970-01-01 00:00:00 UTC` (unknown time);
- ids are 19-digit integers above 2^53 written as exact text (`2294359932054536986`, users `1515915625441993984`);
  0.01% of the lines have `order_id` or `product_id` mangled by a spreadsheet as `2.29E+18` (at least one in a
  file of 10,000 lines or more);
- per product, weighted by sales: no `category_id` (and so no `category_code`) for 1%, a `category_id` without a
  `category_code` for 22% (23% of lines without a code), no `brand` for 8% (a product without brand never has
  one); per order: no `user_id` for 5% (guests);
- `price` in US dollars with two decimals (`162.01`), lognormal per product around its category's price, changing
  every 2-6 weeks by up to +-8%; every line of a product has the product's price of that day; empty for 16% and
  `0.00` for 0.5% of the product-days (so of the lines);
- 0.05% of the lines hold an invalid value, the four kinds in equal shares (and at least one of each in a file of
  10,000 lines or more): an `event_time` that is no timestamp, a negative price, the price `N/A`, an empty
  `order_id`;
- late lines: 2% of the orders reach the export 1-10 days late (skewed to 1), as whole orders with their original
  `event_time`; a daily file holds the orders of its day that were on time and the late orders of the 10 days
  before that arrived that day.

`write_electronics_history` writes every order of a range of days (whatever its delay) into one file, in chunks
(bounded memory); its days hold the same orders as the daily files of the same world (the rare lines that are
forced to hold a quirk so that a big file has each kind may differ). `generate_electronics` writes a first file
with a year of history (the orders of those days that had arrived by the first day) and then one file per day;
every order is in at most one file. The same arguments always give byte-identical files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

SOURCE = "electronics"
FILE_NAME = "purchases.csv"
COLUMNS: tuple[str, ...] = (
    "event_time", "order_id", "product_id", "category_id", "category_code", "brand", "price", "user_id",
)  # fmt: skip

LINES_PER_DAY = 7_200  # scale 1.0: the real store, ~2.6M lines a year
FULL_PRODUCTS = 20_000
MIN_PRODUCTS = 300
FULL_USERS = 300_000
MIN_USERS = 1_000

PRODUCTS_PER_ORDER_WEIGHTS = (0.72, 0.17, 0.07, 0.04)  # 1-4 distinct products
QUANTITY_WEIGHTS = (0.82, 0.11, 0.04, 0.03)  # 1-4 units of each
PLACEHOLDER_TIME_RATE = 0.002  # of orders
GUEST_RATE = 0.05  # of orders: empty user_id
LATE_RATE = 0.02  # of orders
LATE_DAYS = 10
NO_CATEGORY_RATE = 0.01  # of sales, by product: empty category_id and category_code
NO_CODE_RATE = 0.22  # of sales, by product: a category_id without a category_code
NO_BRAND_RATE = 0.08  # of sales, by product
EMPTY_PRICE_RATE = 0.16  # of product-days
ZERO_PRICE_RATE = 0.005  # of product-days
MANGLED_ID_RATE = 0.0001  # of lines
INVALID_RATE = 0.0005  # of lines
FORCED_FROM_ROWS = 10_000  # a file this big has every kind of invalid value and a mangled id
CHUNK_ROWS = 500_000
MAX_DRIFT = 2.0  # a brand's popularity stays within half and twice its base

# UTC hours 0-23 (local time is UTC+6): the store sleeps 0-6 local (18-24 UTC), peaks at 19-22 local.
HOUR_WEIGHTS = (
    0.40, 0.60, 1.20, 2.50, 4.00, 5.00, 5.60, 6.00, 6.20, 6.40, 6.60, 7.00,
    7.60, 8.40, 8.80, 8.50, 6.80, 4.50, 2.60, 1.40, 0.80, 0.50, 0.35, 0.30,
)  # fmt: skip
WEEKDAY_WEIGHTS = (0.97, 0.95, 0.95, 0.97, 1.02, 1.08, 1.06)  # Monday..Sunday
TREND_PER_YEAR = 0.10
SEASON_AMPLITUDE = 0.12  # peak at the end of December
SEASON_PEAK = date(2000, 12, 21)
REFERENCE_DAY = date(2020, 4, 24)  # trend 1.0; order ids near 2294359932054536986
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(2099, 12, 31)  # the days whose order ids stay 19-digit

ORDER_ID_AT_REFERENCE = 2_294_359_932_054_536_986
ORDER_ID_DAY_STRIDE = 2**44
ORDER_ID_STRIDE = 2**20  # at most 2**24 orders a day
PRODUCT_ID_BASE = 1_515_966_223_000_000_000
USER_ID_BASE = 1_515_915_625_000_000_000
CATEGORY_ID_BASE = 2_268_105_400_000_000_000
ID_SPAN = 10**9
CATEGORY_ID_SPAN = 10**17

BAD_TIMES = ("not-a-date", "2020-13-45 25:61:00 UTC", "#VALUE!")
INVALID_TIME, NEGATIVE_PRICE, NA_PRICE, EMPTY_ORDER_ID = 1, 2, 3, 4
MANGLED_ORDER, MANGLED_PRODUCT = 1, 2

# Brands by kind of product, most popular first.
BRAND_GROUPS: dict[str, tuple[str, ...]] = {
    "phone": ("samsung", "apple", "xiaomi", "huawei", "oppo", "honor", "vivo", "nokia", "realme", "alcatel", "meizu"),
    "audio": ("apple", "samsung", "jbl", "xiaomi", "sony", "huawei", "sennheiser", "marshall", "philips", "sven"),
    "tv": ("samsung", "lg", "sony", "xiaomi", "philips", "tcl", "hisense", "artel", "epson"),
    "camera": ("canon", "nikon", "sony", "fujifilm", "gopro", "xiaomi"),
    "computer": ("lenovo", "asus", "hp", "acer", "apple", "dell", "msi", "huawei", "samsung", "lg", "aoc"),
    "peripheral": ("logitech", "a4tech", "defender", "xiaomi", "razer", "hyperx", "genius", "sven"),
    "printer": ("hp", "canon", "epson", "brother", "xerox", "pantum"),
    "component": ("kingston", "samsung", "seagate", "wd", "asus", "msi", "gigabyte", "intel", "amd", "palit"),
    "network": ("tp-link", "d-link", "xiaomi", "keenetic", "zyxel", "huawei"),
    "appliance": (
        "samsung", "lg", "bosch", "indesit", "beko", "midea", "haier", "atlant", "electrolux", "gorenje", "candy",
        "ariston", "zanussi",
    ),
    "small": (
        "philips", "tefal", "bosch", "polaris", "redmond", "xiaomi", "braun", "dyson", "moulinex", "vitek",
        "scarlett", "rowenta", "kenwood", "delonghi", "panasonic",
    ),
    "furniture": ("halmar", "signal", "bradex"),
    "sport": ("stels", "forward", "merida", "nordway"),
    "kids": ("lego", "hasbro", "mattel", "bradex"),
    "auto": ("xiaomi", "neoline", "playme", "sho-me"),
    "tools": ("bosch", "makita", "dewalt", "interskol", "huter", "daewoo"),
    "accessory": ("samsonite", "xiaomi", "rivacase", "wenger"),
}  # fmt: skip
# category_code, typical price (USD), share of sales, brand group
CATEGORIES: tuple[tuple[str, float, float, str], ...] = (
    ("electronics.smartphone", 230.0, 26.0, "phone"), ("electronics.audio.headphone", 35.0, 7.0, "audio"),
    ("electronics.audio.acoustic", 60.0, 1.5, "audio"), ("electronics.audio.subwoofer", 120.0, 0.3, "audio"),
    ("electronics.audio.microphone", 40.0, 0.3, "audio"), ("electronics.video.tv", 420.0, 5.0, "tv"),
    ("electronics.video.projector", 380.0, 0.3, "tv"), ("electronics.tablet", 260.0, 2.0, "phone"),
    ("electronics.clocks", 160.0, 2.5, "phone"), ("electronics.telephone", 30.0, 0.5, "phone"),
    ("electronics.camera.photo", 520.0, 0.5, "camera"), ("electronics.camera.video", 300.0, 0.2, "camera"),
    ("computers.notebook", 640.0, 7.0, "computer"), ("computers.desktop", 720.0, 1.0, "computer"),
    ("computers.peripherals.mouse", 14.0, 4.0, "peripheral"),
    ("computers.peripherals.keyboard", 22.0, 1.5, "peripheral"),
    ("computers.peripherals.monitor", 210.0, 1.5, "computer"),
    ("computers.peripherals.printer", 170.0, 1.0, "printer"),
    ("computers.peripherals.camera", 45.0, 0.5, "peripheral"),
    ("computers.components.videocards", 420.0, 0.8, "component"),
    ("computers.components.memory", 45.0, 1.0, "component"), ("computers.components.hdd", 70.0, 1.2, "component"),
    ("computers.components.cpu", 230.0, 0.5, "component"),
    ("computers.components.motherboard", 150.0, 0.4, "component"),
    ("computers.network.router", 40.0, 1.0, "network"), ("stationery.cartrige", 35.0, 2.0, "printer"),
    ("appliances.kitchen.refrigerator", 560.0, 3.5, "appliance"),
    ("appliances.kitchen.washer", 380.0, 3.0, "appliance"), ("appliances.kitchen.microwave", 95.0, 1.5, "appliance"),
    ("appliances.kitchen.kettle", 25.0, 2.5, "small"), ("appliances.kitchen.blender", 45.0, 1.2, "small"),
    ("appliances.kitchen.hood", 160.0, 0.8, "appliance"), ("appliances.kitchen.oven", 310.0, 0.6, "appliance"),
    ("appliances.kitchen.dishwasher", 420.0, 0.6, "appliance"),
    ("appliances.kitchen.coffee_machine", 210.0, 0.6, "small"),
    ("appliances.environment.air_conditioner", 390.0, 1.5, "appliance"),
    ("appliances.environment.vacuum", 140.0, 2.5, "small"),
    ("appliances.environment.water_heater", 170.0, 0.8, "appliance"),
    ("appliances.environment.fan", 35.0, 0.6, "small"), ("appliances.iron", 30.0, 1.2, "small"),
    ("appliances.personal.hair_cutter", 25.0, 1.0, "small"), ("appliances.personal.scales", 18.0, 0.6, "small"),
    ("furniture.living_room.sofa", 450.0, 0.3, "furniture"), ("furniture.kitchen.table", 150.0, 0.3, "furniture"),
    ("furniture.office.chair", 110.0, 0.4, "furniture"), ("sport.bicycle", 330.0, 0.4, "sport"),
    ("kids.toys", 25.0, 0.6, "kids"), ("auto.accessories.videoregister", 70.0, 0.4, "auto"),
    ("construction.tools.drill", 80.0, 0.5, "tools"), ("country_yard.lawn_mower", 210.0, 0.2, "tools"),
    ("accessories.bag", 30.0, 0.6, "accessory"),
)  # fmt: skip
BRANDS: tuple[str, ...] = tuple(dict.fromkeys(brand for group in BRAND_GROUPS.values() for brand in group))
MAX_PRICE_CENTS = 4_999_99

Cols = dict[str, np.ndarray]

_DAY_TAG, _COUNT_TAG, _WORLD_TAG, _FORCE_TAG = 1, 2, 3, 4
_PRICE_TAG, _EMPTY_PRICE_TAG = 11, 12
_U64 = np.uint64
_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)], pa.string())
_LINE_KEYS = ("secs", "order", "product", "user", "cents", "invalid", "mangled")
_MEAN_LINES_PER_ORDER = float(
    np.arange(1, 5) @ np.asarray(PRODUCTS_PER_ORDER_WEIGHTS) * (np.arange(1, 5) @ np.asarray(QUANTITY_WEIGHTS))
)  # ~1.83
_LATE_DAY_WEIGHTS = (1 / np.arange(1, LATE_DAYS + 1)) / (1 / np.arange(1, LATE_DAYS + 1)).sum()  # skewed to 1 day


def _rng(seed: int, *parts: int) -> np.random.Generator:
    """A random generator that is a function of the seed and the given parts only."""
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def _weights(values: Iterable[float]) -> np.ndarray:
    """Probabilities from weights."""
    array = np.asarray(list(values), dtype=np.float64)
    return array / array.sum()


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (uint64 arrays wrap silently)."""
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _uniform(seed: int, tag: int, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """Uniform numbers in [0, 1) that are a function of (seed, tag, a, b) only: a stateless hash, vectorised."""
    a = np.asarray(a, dtype=np.int64)
    start = (seed * 0x9E3779B97F4A7C15 + tag * 0xD1B54A32D192ED03) % 2**64
    x = _mix(np.full(a.shape, start, dtype=np.uint64) ^ a.astype(np.uint64))
    x = _mix(x + np.asarray(b, dtype=np.int64).astype(np.uint64) * _U64(0x9E3779B97F4A7C15))
    return (x >> _U64(11)).astype(np.float64) * 2.0**-53


def _null_where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """`values` with nulls (empty fields in the CSV) where `mask` is set."""
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _unique_ids(rng: np.random.Generator, base: int, span: int, n: int) -> np.ndarray:
    """`n` distinct ids in [base, base + span), in random order."""
    offsets = np.sort(rng.integers(0, span - n, n)) + np.arange(n)
    return base + rng.permutation(offsets).astype(np.int64)


def _share_prefix(rng: np.random.Generator, weights: np.ndarray, low: float, high: float) -> np.ndarray:
    """Products in a random order; those whose share of sales starts in [low, high) of the cumulative total."""
    order = rng.permutation(weights.shape[0])
    share = weights[order] / weights.sum()
    before = np.cumsum(share) - share
    mask = np.zeros(weights.shape[0], dtype=bool)
    mask[order[(before >= low) & (before < high)]] = True
    return mask


@dataclass(frozen=True)
class _World:
    """The catalogue, the customers and the brands' drift of one seed and scale."""

    seed: int
    scale: float
    popularity: np.ndarray  # base share of sales per product
    category: np.ndarray  # index in CATEGORIES per product
    brand: np.ndarray  # index in BRANDS per product
    base_cents: np.ndarray  # list price per product
    price_period: np.ndarray  # days between price changes per product
    price_offset: np.ndarray
    product_id: np.ndarray  # int64
    drift: np.ndarray  # per brand: amplitude, period (weeks), phase, slope per year
    user_id: np.ndarray  # int64
    text: dict[str, pa.Array]  # per product: product_id, category_id, category_code, brand

    @property
    def n_products(self) -> int:
        return int(self.popularity.shape[0])


@lru_cache(maxsize=4)
def _world(seed: int, scale: float) -> _World:
    """The world of a seed and scale: products, customers, brand drift (cached: it is the same every call)."""
    rng = _rng(seed, _WORLD_TAG)
    n = max(MIN_PRODUCTS, round(FULL_PRODUCTS * scale))
    n_users = max(MIN_USERS, round(FULL_USERS * scale))
    cat_share = _weights(c[2] for c in CATEGORIES)
    category = rng.choice(len(CATEGORIES), size=n, p=_weights(cat_share**0.7))
    brand = np.empty(n, dtype=np.int64)
    brand_weight = np.empty(n, dtype=np.float64)
    brand_index = {name: i for i, name in enumerate(BRANDS)}
    for c, (_, _, _, group) in enumerate(CATEGORIES):
        rows = np.flatnonzero(category == c)
        names = BRAND_GROUPS[group]
        zipf = 1.0 / np.arange(1, len(names) + 1) ** 1.2
        pick = rng.choice(len(names), size=rows.size, p=zipf / zipf.sum())
        brand[rows] = np.array([brand_index[name] for name in names])[pick]
        brand_weight[rows] = zipf[pick]
    own = rng.lognormal(0.0, 1.0, n) * np.sqrt(brand_weight)
    per_category = np.bincount(category, weights=own, minlength=len(CATEGORIES))
    popularity = cat_share[category] * own / per_category[category]
    popularity /= popularity.sum()

    typical = np.array([c[1] for c in CATEGORIES])[category]
    base_cents = np.clip(np.round(typical * rng.lognormal(0.0, 0.5, n) * 100), 100, MAX_PRICE_CENTS).astype(np.int64)
    price_period = rng.integers(14, 43, n)
    price_offset = rng.integers(0, 43, n)

    no_category = _share_prefix(rng, popularity, 0.0, NO_CATEGORY_RATE)
    no_code = _share_prefix(rng, popularity, NO_CATEGORY_RATE, NO_CATEGORY_RATE + NO_CODE_RATE) & ~no_category
    no_brand = _share_prefix(rng, popularity, 0.0, NO_BRAND_RATE)
    # Each category has an id with its code and a second id whose code is empty in the export.
    category_ids = _unique_ids(rng, CATEGORY_ID_BASE, CATEGORY_ID_SPAN, 2 * len(CATEGORIES))
    product_category_id = category_ids[category + len(CATEGORIES) * no_code]
    product_id = _unique_ids(rng, PRODUCT_ID_BASE, ID_SPAN, n)
    codes = pa.array([c[0] for c in CATEGORIES], pa.string())
    text = {
        "product_id": pa.array(product_id).cast(pa.string()),
        "category_id": pa.array(product_category_id, mask=no_category).cast(pa.string()),
        "category_code": _null_where(no_code | no_category, pc.take(codes, category)),
        "brand": _null_where(no_brand, pc.take(pa.array(BRANDS), brand)),
    }
    drift = np.column_stack(
        [
            rng.uniform(0.15, 0.5, len(BRANDS)),
            rng.uniform(16.0, 104.0, len(BRANDS)),
            rng.uniform(0.0, 2 * math.pi, len(BRANDS)),
            rng.normal(0.0, 0.25, len(BRANDS)),
        ]
    )
    return _World(
        seed=seed,
        scale=scale,
        popularity=popularity,
        category=category,
        brand=brand,
        base_cents=base_cents,
        price_period=price_period,
        price_offset=price_offset,
        product_id=product_id,
        drift=drift,
        user_id=_unique_ids(rng, USER_ID_BASE, ID_SPAN, n_users),
        text=text,
    )


def _years(ordinal: int) -> float:
    return (ordinal - REFERENCE_DAY.toordinal()) / 365.25


def _expected_lines(ordinal: int, scale: float) -> float:
    """Lines expected on a day: weekday, season and trend around LINES_PER_DAY * scale."""
    weekday = _weights(WEEKDAY_WEIGHTS)[(ordinal + 6) % 7] * 7
    season = 1 + SEASON_AMPLITUDE * math.cos(2 * math.pi * (ordinal - SEASON_PEAK.toordinal()) / 365.2425)
    trend = math.exp(TREND_PER_YEAR * min(max(_years(ordinal), -10.0), 10.0))
    return LINES_PER_DAY * scale * weekday * season * trend


def _day_count(seed: int, day: date, scale: float) -> int:
    """How many lines the day's orders have (Poisson around the expected volume)."""
    return int(_rng(seed, day.toordinal(), _COUNT_TAG).poisson(_expected_lines(day.toordinal(), scale)))


def _allocate(rows: int, days: list[date], scale: float) -> list[int]:
    """`rows` lines spread over the days like the expected volume (largest remainders): the total is exact."""
    expected = np.array([_expected_lines(day.toordinal(), scale) for day in days])
    exact = rows * expected / expected.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = rows - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:remainder]] += 1
    return counts.tolist()


def _product_cdf(world: _World, ordinal: int) -> np.ndarray:
    """Cumulative popularity of the products on a day: base popularity times the brand's drift.

    The drift is bounded (a brand sells at most MAX_DRIFT times more or less than its base) and moves sales
    between the brands of a category, never between categories, so no brand takes over the store at any date.
    """
    weeks = (ordinal - REFERENCE_DAY.toordinal()) / 7.0
    amplitude, period, phase, slope = world.drift.T
    years = min(max(_years(ordinal), -3.0), 3.0)
    log_factor = amplitude * np.sin(2 * math.pi * weeks / period + phase) + slope * years
    factor = np.exp(np.clip(log_factor, -math.log(MAX_DRIFT), math.log(MAX_DRIFT)))
    weight = world.popularity * factor[world.brand]
    base = np.bincount(world.category, weights=world.popularity, minlength=len(CATEGORIES))
    drifted = np.bincount(world.category, weights=weight, minlength=len(CATEGORIES))
    return np.cumsum(weight * (base / np.where(drifted > 0, drifted, 1.0))[world.category])


def _day_prices(world: _World, ordinal: int) -> np.ndarray:
    """Each product's price of the day in cents; -1 for empty."""
    products = np.arange(world.n_products)
    period = (ordinal + world.price_offset) // world.price_period
    change = np.exp(0.08 * (2 * _uniform(world.seed, _PRICE_TAG, products, period) - 1))
    cents = np.clip(np.round(world.base_cents * change), 1, MAX_PRICE_CENTS).astype(np.int64)
    draw = _uniform(world.seed, _EMPTY_PRICE_TAG, products, ordinal)
    cents[draw < EMPTY_PRICE_RATE + ZERO_PRICE_RATE] = 0
    cents[draw < EMPTY_PRICE_RATE] = -1
    return cents


def _distinct(products: np.ndarray, used: np.ndarray, size: int) -> np.ndarray:
    """The products of each order (row) made distinct: a repeated one becomes the next product of the catalogue."""
    for slot in range(1, products.shape[1]):
        while True:
            clash = used[:, slot] & (products[:, :slot] == products[:, slot : slot + 1]).any(axis=1)
            if not clash.any():
                break
            products[clash, slot] = (products[clash, slot] + 1) % size
    return products


def _empty_lines() -> Cols:
    return {key: np.zeros(0, dtype=np.int64) for key in (*_LINE_KEYS, "delay")}


def _day_lines(world: _World, day: date, n: int) -> Cols:
    """The `n` lines of the orders placed on `day` (UTC), ordered by time, with each line's delay in days."""
    if n == 0:
        return _empty_lines()
    ordinal = day.toordinal()
    rng = _rng(world.seed, ordinal, _DAY_TAG)
    m = int(n / _MEAN_LINES_PER_ORDER * 1.15) + 16  # enough orders, most of the time
    while True:
        k = rng.choice(4, size=m, p=_weights(PRODUCTS_PER_ORDER_WEIGHTS)) + 1
        quantity = rng.choice(4, size=(m, 4), p=_weights(QUANTITY_WEIGHTS)) + 1
        quantity[np.arange(4)[None, :] >= k[:, None]] = 0
        cumulative = np.cumsum(quantity.sum(axis=1))
        if cumulative[-1] >= n:
            break
        m *= 2
    m = int(np.searchsorted(cumulative, n)) + 1
    if m > ORDER_ID_DAY_STRIDE // ORDER_ID_STRIDE:
        raise ValueError(f"too many orders on {day}: {m}")
    quantity = quantity[:m]

    cdf = _product_cdf(world, ordinal)
    draws = np.searchsorted(cdf, rng.random((m, 4)) * cdf[-1], side="right")
    products = _distinct(np.minimum(draws, world.n_products - 1), quantity > 0, world.n_products)
    hour = rng.choice(24, size=m, p=_weights(HOUR_WEIGHTS))
    secs = (ordinal - date(1970, 1, 1).toordinal()) * 86_400 + np.sort(hour * 3600 + rng.integers(0, 3600, m))
    secs[rng.random(m) < PLACEHOLDER_TIME_RATE] = 0
    n_users = world.user_id.shape[0]
    user = np.minimum((n_users * rng.random(m) ** 1.6).astype(np.int64), n_users - 1)
    user[rng.random(m) < GUEST_RATE] = -1
    day_base = ORDER_ID_AT_REFERENCE + (ordinal - REFERENCE_DAY.toordinal()) * ORDER_ID_DAY_STRIDE
    order_id = day_base + np.arange(m, dtype=np.int64) * ORDER_ID_STRIDE + rng.integers(0, ORDER_ID_STRIDE, m)
    late = rng.random(m) < LATE_RATE
    delay = np.where(late, rng.choice(LATE_DAYS, size=m, p=_LATE_DAY_WEIGHTS) + 1, 0)

    slot = np.repeat(np.arange(4 * m), quantity.ravel())[:n]
    order_of = slot // 4
    product = products.ravel()[slot]
    cents = _day_prices(world, ordinal)[product]
    invalid = np.zeros(n, dtype=np.int64)
    bad = np.flatnonzero(rng.random(n) < INVALID_RATE)
    invalid[bad] = rng.integers(1, 5, bad.size)
    mangled = np.zeros(n, dtype=np.int64)
    odd = np.flatnonzero(rng.random(n) < MANGLED_ID_RATE)
    mangled[odd] = rng.integers(1, 3, odd.size)
    return {
        "secs": secs[order_of],
        "order": order_id[order_of],
        "product": product,
        "user": user[order_of],
        "cents": cents,
        "invalid": invalid,
        "mangled": mangled,
        "delay": delay[order_of],
    }


def _select(lines: Cols, keep: np.ndarray) -> Cols:
    return {key: value[keep] for key, value in lines.items()}


def _replace(values: pa.Array, positions: np.ndarray, replacements: list[str]) -> pa.Array:
    """`values` with the strings at `positions` (ascending) replaced."""
    if positions.size == 0:
        return values
    mask = np.zeros(len(values), dtype=bool)
    mask[positions] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(replacements, pa.string()))


def _render(world: _World, lines: Cols) -> pa.Table:
    """Lines as the export's text columns, quirks included."""
    secs, cents, invalid, mangled = lines["secs"], lines["cents"], lines["invalid"], lines["mangled"]
    product = pa.array(lines["product"])
    event_time = pc.binary_join_element_wise(pa.array(secs.astype("datetime64[s]")).cast(pa.string()), " UTC", "")
    order_id = pa.array(lines["order"]).cast(pa.string())
    product_id = pc.take(world.text["product_id"], product)
    shown = np.maximum(cents, 0)
    price = pc.binary_join_element_wise(
        pa.array(shown // 100).cast(pa.string()), ".", pc.take(_TWO_DIGITS, pa.array(shown % 100)), ""
    )
    price = _null_where(cents < 0, price)
    user = lines["user"]
    user_id = pa.array(world.user_id[np.maximum(user, 0)], mask=user < 0).cast(pa.string())

    where = np.flatnonzero(mangled == MANGLED_ORDER)
    order_fix = {int(i): f"{int(lines['order'][i]):.2E}" for i in where}
    where = np.flatnonzero(mangled == MANGLED_PRODUCT)
    product_id = _replace(product_id, where, [f"{int(world.product_id[lines['product'][i]]):.2E}" for i in where])
    where = np.flatnonzero(invalid == INVALID_TIME)
    event_time = _replace(event_time, where, [BAD_TIMES[int(secs[i]) % len(BAD_TIMES)] for i in where])
    order_fix.update({int(i): "" for i in np.flatnonzero(invalid == EMPTY_ORDER_ID)})
    where = np.array(sorted(order_fix), dtype=np.int64)
    order_id = _replace(order_id, where, [order_fix[int(i)] for i in where])
    where = np.flatnonzero((invalid == NEGATIVE_PRICE) | (invalid == NA_PRICE))
    negative = np.where(cents > 0, cents, world.base_cents[lines["product"]])
    price = _replace(
        price,
        where,
        ["N/A" if invalid[i] == NA_PRICE else f"-{negative[i] // 100}.{negative[i] % 100:02d}" for i in where],
    )
    columns = {
        "event_time": event_time,
        "order_id": order_id,
        "product_id": product_id,
        "category_id": pc.take(world.text["category_id"], product),
        "category_code": pc.take(world.text["category_code"], product),
        "brand": pc.take(world.text["brand"], product),
        "price": price,
        "user_id": user_id,
    }
    return pa.table(columns)


def _force_quirks(lines: Cols, rng: np.random.Generator, seen_invalid: set[int], seen_mangled: bool) -> Cols:
    """Give rows of the last chunk of a big file the kinds of invalid value (and a mangled id) it lacks."""
    missing = [kind for kind in (INVALID_TIME, NEGATIVE_PRICE, NA_PRICE, EMPTY_ORDER_ID) if kind not in seen_invalid]
    free = np.flatnonzero((lines["invalid"] == 0) & (lines["mangled"] == 0))
    picked = rng.choice(free, size=min(free.size, len(missing) + (not seen_mangled)), replace=False)
    lines = {key: value.copy() for key, value in lines.items()}
    for position, kind in zip(picked, missing, strict=False):
        lines["invalid"][position] = kind
    if not seen_mangled and picked.size > len(missing):
        lines["mangled"][picked[-1]] = MANGLED_ORDER if rng.random() < 0.5 else MANGLED_PRODUCT
    return lines


def _concat(parts: list[Cols]) -> Cols:
    return {key: np.concatenate([part[key] for part in parts]) for key in _LINE_KEYS}


def _chunks(parts: Iterator[Cols]) -> Iterator[tuple[Cols, bool]]:
    """The lines in chunks of about CHUNK_ROWS, each with whether it is the last (non-empty) chunk."""
    ready: Cols | None = None
    buffer: list[Cols] = []
    buffered = 0
    for part in parts:
        buffer.append(part)
        buffered += part["secs"].shape[0]
        if buffered >= CHUNK_ROWS:
            if ready is not None:
                yield ready, False
            ready, buffer, buffered = _concat(buffer), [], 0
    if buffered:
        if ready is not None:
            yield ready, False
        yield _concat(buffer), True
    elif ready is not None:
        yield ready, True


def _write_lines(path: Path, world: _World, parts: Iterator[Cols], force_key: tuple[int, ...]) -> Path:
    """Write the lines to `path` atomically, chunk by chunk; a big file gets every kind of rare quirk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    options = pcsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
    written, seen_invalid, seen_mangled = 0, set(), False
    try:
        with pcsv.CSVWriter(tmp, schema, write_options=options) as writer:
            for lines, last in _chunks(parts):
                written += lines["secs"].shape[0]
                seen_invalid.update(np.unique(lines["invalid"]).tolist())
                seen_mangled = seen_mangled or bool((lines["mangled"] > 0).any())
                if last and written >= FORCED_FROM_ROWS:
                    lines = _force_quirks(lines, _rng(world.seed, _FORCE_TAG, *force_key), seen_invalid, seen_mangled)
                writer.write_table(_render(world, lines))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _check(seed: int, scale: float, *days: date) -> None:
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    for day in days:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"day must be between {FIRST_DAY} and {LAST_DAY}, got {day}")


def _day_range(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]


def _daily_parts(world: _World, day: date) -> Iterator[Cols]:
    """The lines that arrive on `day`: the late orders of the 10 days before, then the day's orders on time."""
    for back in range(LATE_DAYS, -1, -1):
        placed = day - timedelta(days=back)
        if placed < FIRST_DAY:
            continue
        lines = _day_lines(world, placed, _day_count(world.seed, placed, world.scale))
        yield _select(lines, lines["delay"] == back)


def write_electronics_day(path: Path, day: date, seed: int = 42, scale: float = 0.01) -> Path:
    """Write the purchases that arrive on `day` (its orders and ~2% late ones) to `path` atomically; return it."""
    _check(seed, scale, day)
    world = _world(seed, scale)
    return _write_lines(path, world, _daily_parts(world, day), (day.toordinal(), 0))


def _history_parts(world: _World, days: list[date], counts: list[int], arrived_by: date | None) -> Iterator[Cols]:
    """Every line of the days (or only those that had arrived by `arrived_by`)."""
    for day, count in zip(days, counts, strict=True):
        lines = _day_lines(world, day, count)
        if arrived_by is not None:
            lines = _select(lines, lines["delay"] <= (arrived_by - day).days)
        yield lines


def _write_history(
    path: Path, first_day: date, last_day: date, seed: int, rows: int | None, scale: float, arrived_by: date | None
) -> Path:
    _check(seed, scale, first_day, last_day)
    if first_day > last_day:
        raise ValueError(f"first_day {first_day} is after last_day {last_day}")
    if rows is not None and rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    world = _world(seed, scale)
    days = _day_range(first_day, last_day)
    counts = [_day_count(seed, d, scale) for d in days] if rows is None else _allocate(rows, days, scale)
    key = (first_day.toordinal(), last_day.toordinal(), 0 if rows is None else rows + 1, 0 if arrived_by is None else 1)
    return _write_lines(path, world, _history_parts(world, days, counts, arrived_by), key)


def write_electronics_history(
    path: Path, first_day: date, last_day: date, seed: int = 42, rows: int | None = None, scale: float = 1.0
) -> Path:
    """Write every purchase of the days first_day..last_day (inclusive) into one file; return the path.

    `rows` sets the number of lines exactly (spread over the days like the expected volume); otherwise each day has
    the lines of the daily files of the same seed and scale. Written in chunks of days (bounded memory).
    """
    return _write_history(path, first_day, last_day, seed, rows, scale, arrived_by=None)


def file_path(landing_dir: Path, day: date) -> Path:
    """Where the file of `day` lands: `<landing>/electronics/<YYYY-MM-DD>/purchases.csv`."""
    return Path(landing_dir) / SOURCE / day.isoformat() / FILE_NAME


def generate_electronics(
    landing_dir: Path,
    start: date,
    days: int,
    seed: int = 42,
    scale: float = 0.01,
    history_days: int = 365,
) -> list[Path]:
    """Write a first file for `start` holding `history_days` days of history, then one file per day; return paths.

    The first file holds the orders of the days start - history_days .. start that had arrived by `start`; the
    orders of those days that arrive later are in the file of the day they arrive.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if history_days < 0:
        raise ValueError(f"history_days must be >= 0, got {history_days}")
    _check(seed, scale, start, start + timedelta(days=days - 1))
    first_day = start - timedelta(days=history_days)
    paths = [_write_history(file_path(landing_dir, start), first_day, start, seed, None, scale, arrived_by=start)]
    for offset in range(1, days):
        day = start + timedelta(days=offset)
        paths.append(write_electronics_day(file_path(landing_dir, day), day, seed, scale))
    return paths
