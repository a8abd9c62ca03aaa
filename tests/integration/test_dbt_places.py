"""The China reference seeds load into Postgres and pass their YAML tests; an alias or a city-qualified district
resolves to one division."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from elt.warehouse import ServerParams

DBT = Path(sys.executable).parent / "dbt"
SEEDS = ["china_cities", "china_city_aliases", "china_districts", "city_tiers"]

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in the project's venv")


def test_seeds_build_and_resolve_names(
    warehouse_params: ServerParams, run_dbt: Callable[..., subprocess.CompletedProcess]
) -> None:
    dates = json.dumps({"run_date": "2024-01-01", "data_interval_end": "2024-01-02"})
    result = run_dbt("build", "--select", *SEEDS, vars=dates)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        resolve = """
            select c.city_code, c.city_en from staging.china_cities c
            where c.city_zh = %(name)s
               or c.city_code in (select city_code from staging.china_city_aliases where alias = %(name)s)
        """
        assert conn.execute(resolve, {"name": "山南"}).fetchall() == [("540500", "Shannan")]
        assert conn.execute(resolve, {"name": "山南市"}).fetchall() == [("540500", "Shannan")]
        assert conn.execute(resolve, {"name": "延边州"}).fetchall() == [
            ("222400", "Yanbian Korean Autonomous Prefecture")
        ]
        chaoyang = conn.execute(
            "select c.city_en, d.district_en from staging.china_districts d"
            " join staging.china_cities c using (city_code) where d.district_zh = '朝阳区' order by 1"
        ).fetchall()
        assert chaoyang == [("Beijing", "Chaoyang District"), ("Changchun", "Chaoyang District")]
        prefecture_level = conn.execute(
            "select count(*) from staging.china_cities"
            " where division_type not in ('municipality', 'province_administered_county')"
        ).fetchone()[0]
        assert 333 <= prefecture_level <= 340
        tiers = conn.execute(
            "select c.city_en, t.official_tier::text from staging.city_tiers t join staging.china_cities c"
            " using (city_code) where t.official_tier = 1 order by 1"
        ).fetchall()
        assert tiers == [("Beijing", "1.0"), ("Guangzhou", "1.0"), ("Shanghai", "1.0"), ("Shenzhen", "1.0")]
