"""Generated theLook exports load with the project's loader: snapshot, then a delta upserted by key."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from elt import warehouse
from elt.generate.thelook import COLUMNS, generate_thelook
from elt.load import load_partition

START = date(2024, 9, 1)


def _keys(path: Path) -> set[str]:
    """The distinct keys written in one generated file."""
    key = "order_id" if path.stem == "orders" else "id"
    options = pcsv.ConvertOptions(include_columns=[key], column_types={key: pa.string()})
    return set(pcsv.read_csv(path, convert_options=options)[key].to_pylist())


def _counts() -> dict[str, int]:
    with warehouse.connect() as conn:
        return {name: conn.execute(f"select count(*) from raw_thelook.{name}").fetchone()[0] for name in COLUMNS}


def test_snapshot_and_delta_load_with_one_row_per_key(landing: Path) -> None:
    generate_thelook(landing, START, 3, seed=5, scale=0.01)
    written: dict[str, set[str]] = {name: set() for name in COLUMNS}
    for offset in range(2):  # the snapshot, then the first delta (no geometry columns yet)
        day = START + timedelta(days=offset)
        for path in (landing / "thelook" / day.isoformat()).glob("*.csv"):
            written[path.stem] |= _keys(path)
        load_partition("thelook", day)
        assert _counts() == {name: len(keys) for name, keys in written.items()}
    day3 = START + timedelta(days=2)  # a newer export: users carry user_geom
    for path in (landing / "thelook" / day3.isoformat()).glob("*.csv"):
        written[path.stem] |= _keys(path)
    load_partition("thelook", day3)
    assert _counts() == {name: len(keys) for name, keys in written.items()}
