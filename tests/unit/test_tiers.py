"""Natural breaks tiers on inputs that can be checked by hand."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from elt import tiers
from elt.tiers import natural_breaks_tiers, revenue_tiers, tiers_from_breaks


def sizes(values: list[int]) -> list[int]:
    """Cities per tier, tier 1 first."""
    return [count for _tier, count in sorted(Counter(values).items())]


def test_three_obvious_groups() -> None:
    assert natural_breaks_tiers([1, 2, 3, 100, 101, 102, 1000], 3) == [3, 3, 3, 2, 2, 2, 1]


def test_tiers_follow_input_order() -> None:
    assert natural_breaks_tiers([1000, 2, 101, 1, 102, 3, 100], 3) == [1, 3, 2, 3, 2, 3, 2]


def test_fewer_distinct_values_than_tiers_give_fewer_tiers_without_gaps() -> None:
    assert natural_breaks_tiers([5, 5, 5, 1], 3) == [1, 1, 1, 2]
    assert natural_breaks_tiers([10, 20, 10, 20, 30], 5) == [3, 2, 3, 2, 1]
    assert natural_breaks_tiers([4, 4, 4], 5) == [1, 1, 1]


def test_equal_values_share_a_tier() -> None:
    assert natural_breaks_tiers([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], 3) == [3] * 8 + [2, 1]
    values = [7.5] * 20 + [1.0, 2.0, 30.0, 31.0, 200.0]
    result = natural_breaks_tiers(values, 4)
    assert len(set(result[:20])) == 1


def test_a_single_value_an_empty_input_and_one_tier() -> None:
    assert natural_breaks_tiers([42.0], 5) == [1]
    assert natural_breaks_tiers([], 5) == []
    assert natural_breaks_tiers([1, 2, 3, 1000], 1) == [1, 1, 1, 1]


@pytest.mark.parametrize("n", [0, -1])
def test_fewer_than_one_tier_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        natural_breaks_tiers([1, 2, 3], n)


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        natural_breaks_tiers([1.0, float("nan")], 2)


def test_deterministic_and_independent_of_order() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(12, 1.3, 300)
    first = natural_breaks_tiers(values.tolist(), 5)
    assert natural_breaks_tiers(values.tolist(), 5) == first
    order = rng.permutation(len(values))
    assert natural_breaks_tiers(values[order].tolist(), 5) == [first[i] for i in order]


def test_a_higher_value_never_has_a_lower_tier() -> None:
    values = np.random.default_rng(5).lognormal(12, 1.3, 300)
    result = natural_breaks_tiers(values.tolist(), 5)
    by_value = [tier for _value, tier in sorted(zip(values.tolist(), result, strict=True))]
    assert by_value == sorted(by_value, reverse=True)
    assert sorted(set(result)) == [1, 2, 3, 4, 5]


def test_empty_classes_are_not_numbered() -> None:
    """A limit repeated (a break on a run of equal values) leaves a class empty: the tiers still run 1..m."""
    assert tiers_from_breaks(np.array([1.0, 2.0, 3.0]), [2.0, 2.0]) == [2, 2, 1]


def test_heavy_tailed_revenue_raw_versus_log() -> None:
    """360 cities with revenue ~ 1/rank (Zipf): raw natural breaks leave 330 cities in the last tier; on log
    revenue each tier is a few times larger than the one above, as the module doc says."""
    revenue = (5e7 / np.arange(1, 361)).tolist()
    assert sizes(natural_breaks_tiers(revenue, 5)) == [1, 2, 5, 22, 330]
    assert sizes(revenue_tiers(revenue, 5)) == [10, 30, 61, 103, 156]


def test_revenue_of_zero_or_less_is_the_bottom_tier() -> None:
    assert revenue_tiers([-50.0, 0.0, 1_000.0, 1_100.0, 1_000_000.0], 3) == [3, 3, 2, 2, 1]


def test_the_number_of_tiers_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tiers.tiers_setting() == 5
    monkeypatch.setenv("STORE_ORDERS_CITY_TIERS", "4")
    assert tiers.tiers_setting() == 4
    for bad in ("0", "five"):
        monkeypatch.setenv("STORE_ORDERS_CITY_TIERS", bad)
        with pytest.raises(ValueError, match="STORE_ORDERS_CITY_TIERS"):
            tiers.tiers_setting()
