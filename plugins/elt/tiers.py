"""City sales tiers for store_orders: each day's cities in `n` tiers by revenue, Jenks natural breaks on log revenue.

`tier_cities(day)` reads `intermediate.int_store_orders__city_revenue` (the `unknown` row, orders whose city is
not known, is never tiered) and replaces that day's rows of `intermediate.store_city_sales_tiers` in one
transaction: tier 1 holds the highest revenues, tiers are numbered 1..m with no gap (m < n when the day has
fewer distinct revenues than n), equal revenues share a tier, and a re-run gives the same rows.

Why natural breaks on *log* revenue. City revenue in China is heavy-tailed: a few giants (Shanghai, Beijing,
Shenzhen...) and a long tail of prefecture cities. Jenks minimises the squared distance of each city to its
tier's mean, so on raw RMB it spends its tiers on splitting the giants and leaves almost every city in the last
tier. Analysts recognise tiers shaped like the Yicai list (4 tier 1, 15 new tier 1, 30 tier 2, 70 tier 3, 90 tier
4, 128 tier 5): each tier a few times larger than the one above, which is what equal steps of *ratio* give.
Measured on 360 simulated cities, 5 tiers (tier 1 first; share of revenue in brackets):

    lognormal(13, 1.2)           Jenks on revenue   1 / 4 / 17 / 78 / 260     (6 / 9 / 20 / 36 / 29 %)
                                 Jenks on log       23 / 80 / 121 / 97 / 39   (37 / 36 / 21 / 6 / 1 %)
                                 k-means on log     23 / 80 / 121 / 97 / 39
    Zipf, revenue ~ 1/rank       Jenks on revenue   1 / 1 / 6 / 24 / 328      (15 / 7 / 19 / 21 / 38 %)
                                 Jenks on log       9 / 28 / 64 / 111 / 148   (43 / 21 / 16 / 12 / 8 %)
                                 k-means on log     9 / 28 / 64 / 111 / 148

On raw revenue, 72-91% of the cities share the bottom tier and tier 1 is one city: useless for comparing
cities. On log revenue the tiers grow like the Yicai list's. In one dimension Jenks (Fisher's exact dynamic
programme) is the optimum that k-means only approaches from random starts (the same sizes here, off by one
city on other samples), with no seed and no restarts: so Jenks on log revenue. Revenue of 0 or less (refunds)
counts as 0 (log1p keeps it finite, below every paying city).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import psycopg
from psycopg import sql

from elt import config, warehouse
from elt.load import partition_lock

log = logging.getLogger(__name__)

TIERS_SETTING = "STORE_ORDERS_CITY_TIERS"
DEFAULT_TIERS = 5
UNKNOWN_CITY = "unknown"
REVENUE_TABLE = sql.Identifier("intermediate", "int_store_orders__city_revenue")
TIERS_TABLE = sql.Identifier("intermediate", "store_city_sales_tiers")  # created by the source's ddl (CITY_TIERS_DDL)


@dataclass(frozen=True)
class TierResult:
    """What one run wrote: cities per tier and each tier's revenue range (lowest, highest RMB), tier 1 first."""

    order_date: date
    tiers_asked: int
    cities: int
    excluded: int  # rows not tiered: the unknown city, null revenue
    sizes: dict[int, int] = field(default_factory=dict)
    ranges: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def breaks(self) -> tuple[Decimal, ...]:
        """The lowest revenue of each tier, tier 1 first: what a city needed that day to reach the tier."""
        return tuple(low for _, (low, _high) in sorted(self.ranges.items()))


def tiers_setting() -> int:
    """The number of tiers, STORE_ORDERS_CITY_TIERS (default 5)."""
    return config.int_setting(TIERS_SETTING, DEFAULT_TIERS, minimum=1)


def natural_breaks_tiers(values: Sequence[float], n: int) -> list[int]:
    """The tier of each value, in input order, by Jenks natural breaks into at most `n` classes; 1 = the highest.

    Fewer distinct values than `n` give one tier per distinct value; equal values always share a tier; tiers are
    numbered 1..m without gaps. Deterministic (Fisher-Jenks is exact).
    """
    if n < 1:
        raise ValueError(f"the number of tiers must be at least 1, got {n}")
    data = np.asarray(values, dtype=np.float64)
    if not np.isfinite(data).all():
        raise ValueError("values must be finite numbers (no NaN or infinity)")
    classes = min(n, len(np.unique(data)))
    if classes <= 1:
        return [1] * len(data)
    import jenkspy

    return tiers_from_breaks(data, jenkspy.jenks_breaks(data, n_classes=classes)[1:-1])


def tiers_from_breaks(data: np.ndarray, inner_breaks: Sequence[float]) -> list[int]:
    """Tiers by class limits (ascending, without min and max: a class is (limit[i-1], limit[i]]), 1 = the top class.

    Classes holding no value (a repeated limit) get no number, so tiers run 1..m without gaps.
    """
    lowest_first = np.searchsorted(np.asarray(inner_breaks, dtype=np.float64), data, side="left")
    present = np.unique(lowest_first)
    return (len(present) - np.searchsorted(present, lowest_first)).tolist()


def revenue_tiers(revenues: Sequence[float], n: int) -> list[int]:
    """Tiers of revenues by natural breaks of log(1 + revenue), revenue below 0 taken as 0 (see the module doc)."""
    return natural_breaks_tiers([math.log1p(max(float(r), 0.0)) for r in revenues], n)


def _read_revenue(conn: psycopg.Connection, day: date) -> tuple[list[tuple[str, Decimal]], int]:
    """The day's (city_code, revenue_rmb) of known cities, by city_code, and how many rows were left out."""
    rows = conn.execute(
        sql.SQL("select city_code, revenue_rmb from {} where order_date = %s order by city_code").format(REVENUE_TABLE),
        (day,),
    ).fetchall()
    kept = [(city, revenue) for city, revenue in rows if city != UNKNOWN_CITY and revenue is not None]
    if nulls := sum(1 for city, revenue in rows if city != UNKNOWN_CITY and revenue is None):
        log.warning("city tiers %s: %d city row(s) with no revenue are not tiered", day, nulls)
    return kept, len(rows) - len(kept)


def _write(conn: psycopg.Connection, day: date, cities: list[str], tiers: list[int]) -> None:
    conn.execute(sql.SQL("delete from {} where order_date = %s").format(TIERS_TABLE), (day,))
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("copy {} (order_date, city_code, sales_tier) from stdin").format(TIERS_TABLE)) as copy:
            for city, tier in zip(cities, tiers, strict=True):
                copy.write_row((day, city, tier))


def _summary(day: date, n: int, rows: list[tuple[str, Decimal]], tiers: list[int], excluded: int) -> TierResult:
    sizes: dict[int, int] = {}
    ranges: dict[int, tuple[Decimal, Decimal]] = {}
    for (_city, revenue), tier in zip(rows, tiers, strict=True):
        sizes[tier] = sizes.get(tier, 0) + 1
        low, high = ranges.get(tier, (revenue, revenue))
        ranges[tier] = (min(low, revenue), max(high, revenue))
    return TierResult(day, n, len(rows), excluded, dict(sorted(sizes.items())), dict(sorted(ranges.items())))


def tier_cities(day: date, n: int | None = None, params: warehouse.ServerParams | None = None) -> TierResult:
    """Tier the day's cities by revenue into `n` tiers (None: STORE_ORDERS_CITY_TIERS) and replace the day's rows of
    intermediate.store_city_sales_tiers, in one transaction."""
    n = tiers_setting() if n is None else n
    if n < 1:
        raise ValueError(f"the number of tiers must be at least 1, got {n}")
    with warehouse.connect(params) as conn:
        with conn.transaction():
            partition_lock(conn, "intermediate", "store_city_sales_tiers", day)
            rows, excluded = _read_revenue(conn, day)
            tiers = revenue_tiers([float(revenue) for _city, revenue in rows], n)
            _write(conn, day, [city for city, _revenue in rows], tiers)
    result = _summary(day, n, rows, tiers, excluded)
    log.info(
        "city tiers %s: %d cities in %d tier(s) (asked %d), sizes %s, lowest revenue per tier %s; %d row(s) left out",
        day,
        result.cities,
        len(result.sizes),
        n,
        result.sizes,
        [str(b) for b in result.breaks],
        excluded,
    )
    return result
