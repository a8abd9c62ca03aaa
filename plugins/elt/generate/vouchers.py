"""Deterministic sample voucher assignments, with the quirks of the real export.

One file per day: `<landing>/vouchers/<YYYY-MM-DD>/vouchers.parquet` (or `.csv`). Columns, all as the
real export has them:

- `timestamp` text `2018-07-21 18:59:21.102761`, when the voucher was sent (within the day);
- `country_code` text country names (China, Australia, Latvia, Peru), ~0.2% empty strings;
- `last_order_ts` text date, 0–400 days before the timestamp, skewed to recent;
- `first_order_ts` a timestamp column holding midnights in Parquet (text date in CSV);
- `total_orders` text decimals like `'3.0'`, ~8% empty strings;
- `voucher_amount` float64 from a few amounts per country, ~0.6% null (text like `2640.0` in CSV).

Quirks: ~8% of rows are sent 1–4 years before the customer's first order (a broken clock upstream),
~0.1% are exact duplicates of another row of the file, and ~0.05% hold a clearly invalid value
(a timestamp that is no timestamp, a negative voucher amount, or a negative/fractional order count).
The same seed and day always give byte-identical files.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

SOURCE = "vouchers"
FILE_FORMATS = ("parquet", "csv")
COLUMNS = ("timestamp", "country_code", "last_order_ts", "first_order_ts", "total_orders", "voucher_amount")

COUNTRIES = ("China", "Australia", "Latvia", "Peru")
COUNTRY_WEIGHTS = (0.40, 0.25, 0.15, 0.20)
AMOUNTS = (2640.0, 3520.0, 4400.0, 5280.0, 6160.0, 7040.0, 8800.0)
# Share of each amount in AMOUNTS per country, for recent customers and for long-churned ones (>180 days).
AMOUNT_WEIGHTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "China": ((0.10, 0.18, 0.38, 0.16, 0.08, 0.05, 0.02), (0.05, 0.10, 0.20, 0.33, 0.17, 0.09, 0.04)),
    "Australia": ((0.34, 0.22, 0.15, 0.12, 0.07, 0.03, 0.02), (0.15, 0.36, 0.20, 0.13, 0.08, 0.03, 0.02)),
    "Latvia": ((0.12, 0.15, 0.18, 0.31, 0.12, 0.05, 0.03), (0.06, 0.10, 0.14, 0.22, 0.34, 0.08, 0.04)),
    "Peru": ((0.16, 0.40, 0.18, 0.10, 0.05, 0.03, 0.02), (0.08, 0.20, 0.37, 0.17, 0.08, 0.05, 0.02)),
}
CHURNED_AFTER_DAYS = 180

EMPTY_COUNTRY_RATE = 0.002
EMPTY_TOTAL_ORDERS_RATE = 0.08
NULL_AMOUNT_RATE = 0.006
BROKEN_CLOCK_RATE = 0.08
DUPLICATE_RATE = 0.001
INVALID_RATE = 0.0005

MAX_DAYS_SINCE_LAST_ORDER = 400
MAX_TOTAL_ORDERS = 60
BAD_TIMESTAMPS = ("not-a-date", "2018-13-45 25:61:00", "N/A")
BAD_TOTAL_ORDERS = ("-2.0", "3.5", "-1.0", "12.5")

US_PER_DAY = 86_400 * 1_000_000


def _rng(seed: int, day: date) -> np.random.Generator:
    """The random generator of one file: a function of the seed and the day only."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, day.toordinal()]))


def _count(rows: int, rate: float) -> int:
    """How many rows get a rare quirk: the rate's share, at least one in a file of 1,000 rows or more."""
    count = round(rows * rate)
    return max(count, 1) if rows >= 1000 else count


def _lookup(values: list[str], index: np.ndarray) -> pa.Array:
    """Strings picked from a small vocabulary by index (vectorised)."""
    return pc.take(pa.array(values, pa.string()), pa.array(index))


def _days(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Days since the last order (skewed to recent) and total orders (skewed low)."""
    since_last = rng.exponential(110.0, rows).astype(np.int64) % (MAX_DAYS_SINCE_LAST_ORDER + 1)
    total_orders = (rng.geometric(0.12, rows) - 1) % (MAX_TOTAL_ORDERS + 1)
    return since_last, total_orders


def _amounts(rng: np.random.Generator, country: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Voucher amounts: per country, with a different favourite for long-churned customers."""
    amounts = np.empty(country.shape[0], dtype=np.float64)
    for code, name in enumerate(COUNTRIES):
        for is_churned in (False, True):
            mask = (country == code) & (churned == is_churned)
            weights = AMOUNT_WEIGHTS[name][int(is_churned)]
            amounts[mask] = rng.choice(AMOUNTS, size=int(mask.sum()), p=np.array(weights) / sum(weights))
    return amounts


def _table(rows: int, seed: int, day: date, file_format: str) -> pa.Table:
    """One day of voucher assignments as an Arrow table, quirks included."""
    rng = _rng(seed, day)
    day64 = np.datetime64(day.isoformat(), "D")

    country = rng.choice(len(COUNTRIES), size=rows, p=COUNTRY_WEIGHTS)
    since_last, total_orders = _days(rng, rows)
    amounts = _amounts(rng, country, since_last > CHURNED_AFTER_DAYS)
    last_order = day64 - since_last
    history = np.minimum(rng.integers(1, 30 * (total_orders + 1) + 1), 1500)
    first_order = np.where(total_orders <= 1, last_order, last_order - history)

    sent_us = np.sort(rng.integers(0, US_PER_DAY, rows))
    broken = rng.random(rows) < BROKEN_CLOCK_RATE
    years_early = rng.integers(365, 4 * 365 + 1, rows)
    sent_day = np.where(broken, first_order - years_early, day64)
    sent = sent_day.astype("datetime64[us]") + sent_us.astype("timedelta64[us]")

    timestamp = pa.array(sent).cast(pa.string())
    country_code = pc.if_else(pa.array(rng.random(rows) < EMPTY_COUNTRY_RATE), "", _lookup(list(COUNTRIES), country))
    orders_text = _lookup([f"{i}.0" for i in range(MAX_TOTAL_ORDERS + 1)], total_orders)
    orders_text = pc.if_else(pa.array(rng.random(rows) < EMPTY_TOTAL_ORDERS_RATE), "", orders_text)
    amount_null = rng.random(rows) < NULL_AMOUNT_RATE

    n_invalid, n_dup = _count(rows, INVALID_RATE), _count(rows, DUPLICATE_RATE)
    special = rng.choice(rows, size=n_invalid + 2 * n_dup, replace=False)
    invalid, dup_dst, dup_src = (
        special[:n_invalid],
        special[n_invalid : n_invalid + n_dup],
        special[n_invalid + n_dup :],
    )
    kind = (np.arange(n_invalid) + day.toordinal()) % 3  # every kind of bad value, in turn
    timestamp = _replace(timestamp, invalid[kind == 0], rng.choice(BAD_TIMESTAMPS, int((kind == 0).sum())))
    bad_amounts = invalid[kind == 1]
    amounts[bad_amounts] = -np.where(amounts[bad_amounts] > 0, amounts[bad_amounts], AMOUNTS[1])
    amount_null[bad_amounts] = False
    orders_text = _replace(orders_text, invalid[kind == 2], rng.choice(BAD_TOTAL_ORDERS, int((kind == 2).sum())))

    table = pa.table(
        {
            "timestamp": timestamp,
            "country_code": country_code,
            "last_order_ts": pa.array(last_order).cast(pa.string()),
            "first_order_ts": _first_order_column(first_order, file_format),
            "total_orders": orders_text,
            "voucher_amount": _amount_column(amounts, amount_null, file_format),
        }
    )
    order = np.arange(rows)
    order[dup_dst] = dup_src
    return table.take(pa.array(order)) if n_dup else table


def _replace(values: pa.Array, positions: np.ndarray, replacements: np.ndarray) -> pa.Array:
    """`values` with the strings at `positions` replaced (positions in any order)."""
    if positions.size == 0:
        return values
    mask = np.zeros(len(values), dtype=bool)
    mask[positions] = True
    ordered = replacements[np.argsort(positions)]
    return pc.replace_with_mask(values, pa.array(mask), pa.array(ordered.tolist(), pa.string()))


def _first_order_column(first_order: np.ndarray, file_format: str) -> pa.Array:
    """Parquet: a real timestamp column (midnights); CSV: text dates."""
    dates = pa.array(first_order)
    return dates.cast(pa.string()) if file_format == "csv" else dates.cast(pa.timestamp("ns"))


def _amount_column(amounts: np.ndarray, null: np.ndarray, file_format: str) -> pa.Array:
    """Parquet: float64 with nulls; CSV: the text a dataframe export writes (`2640.0`), empty for null."""
    values = pa.array(amounts, pa.float64(), mask=null)
    if file_format != "csv":
        return values
    unique, inverse = np.unique(amounts, return_inverse=True)
    text = _lookup([f"{value:.1f}" for value in unique], inverse)
    return pc.if_else(pa.array(null), pa.scalar(None, pa.string()), text)


def _check_format(file_format: str) -> str:
    if file_format not in FILE_FORMATS:
        raise ValueError(f"unknown file format {file_format!r}; use one of {', '.join(FILE_FORMATS)}")
    return file_format


def write_voucher_file(path: Path, rows: int, seed: int, day: date, file_format: str) -> Path:
    """Write `rows` voucher assignments of `day` to `path` (atomically) and return the path."""
    _check_format(file_format)
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    table = _table(rows, seed, day, file_format)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if file_format == "csv":
        options = pcsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
        pcsv.write_csv(table, tmp, write_options=options)
    else:
        pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)
    return path


def file_path(landing_dir: Path, day: date, file_format: str = "parquet") -> Path:
    """Where the file of `day` lands: `<landing>/vouchers/<YYYY-MM-DD>/vouchers.<ext>`."""
    return Path(landing_dir) / SOURCE / day.isoformat() / f"vouchers.{_check_format(file_format)}"


def generate_vouchers(
    landing_dir: Path,
    start: date,
    days: int,
    seed: int = 42,
    rows_per_day: int = 2000,
    file_format: str = "parquet",
) -> list[Path]:
    """Write one voucher file per day for `days` days from `start`; return the paths."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    paths = []
    for offset in range(days):
        day = date.fromordinal(start.toordinal() + offset)
        paths.append(write_voucher_file(file_path(landing_dir, day, file_format), rows_per_day, seed, day, file_format))
    return paths
