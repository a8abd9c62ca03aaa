"""Keyed tables (theLook): snapshots and deltas upserted by key, out-of-order re-runs, bad keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from elt import warehouse
from elt.load import LoadError, load_partition

DAY1, DAY2 = date(2024, 9, 1), date(2024, 9, 2)
HEADER = "id,name,latitude,longitude\n"


def write(landing: Path, day: date, name: str, content: str) -> None:
    folder = landing / "thelook" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content, encoding="utf-8")


def centres() -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select id, name, latitude, distribution_center_geom, _source_file, _source_row, _partition_date"
            " from raw_thelook.distribution_centers order by id"
        ).fetchall()


def test_snapshot_then_delta_upserts_by_key(landing: Path) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n2,Chicago IL,41.8,-87.6\n")
    write(
        landing,
        DAY2,
        "distribution_centers.csv",
        "id,name,latitude,longitude,distribution_center_geom\n"
        "2,Chicago IL (new),41.8,-87.6,POINT(-87.6 41.8)\n3,São Paulo,-23.5,-46.6,POINT(-46.6 -23.5)\n",
    )
    load_partition("thelook", DAY1)
    load_partition("thelook", DAY2)
    d1, d2 = "thelook/2024-09-01/distribution_centers.csv", "thelook/2024-09-02/distribution_centers.csv"
    assert centres() == [
        ("1", "Memphis TN", "35.1", None, d1, 2, DAY1),
        ("2", "Chicago IL (new)", "41.8", "POINT(-87.6 41.8)", d2, 2, DAY2),
        ("3", "São Paulo", "-23.5", "POINT(-46.6 -23.5)", d2, 3, DAY2),
    ]


def test_reruns_change_nothing_even_out_of_order(landing: Path) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n2,Chicago IL,41.8,-87.6\n")
    write(landing, DAY2, "distribution_centers.csv", HEADER + "2,Chicago IL (new),41.8,-87.6\n")
    load_partition("thelook", DAY1)
    load_partition("thelook", DAY2)
    before = centres()
    load_partition("thelook", DAY1)  # an older snapshot re-run later must not bring back the old name
    load_partition("thelook", DAY2)
    assert centres() == before


def test_an_unchanged_row_sent_again_keeps_the_partition_it_was_first_seen_in(landing: Path) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n2,Chicago IL,41.8,-87.6\n")
    write(landing, DAY2, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n2,Chicago IL,41.9,-87.6\n")
    load_partition("thelook", DAY1)
    load_partition("thelook", DAY2)
    # the weekly mart reads "cancelled before T" from the partition a status was first seen in
    assert [(r[0], r[2], r[6]) for r in centres()] == [("1", "35.1", DAY1), ("2", "41.9", DAY2)]


def test_last_row_of_a_key_in_a_partition_wins(landing: Path) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,first,1,1\n1,second,2,2\n")
    load_partition("thelook", DAY1)
    assert [(r[0], r[1], r[5]) for r in centres()] == [("1", "second", 3)]


def test_an_empty_key_fails_clearly_and_commits_nothing(landing: Path) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n")
    load_partition("thelook", DAY1)
    before = centres()
    write(landing, DAY2, "distribution_centers.csv", HEADER + "2,Chicago IL,41.8,-87.6\n,nameless,0,0\n")
    with pytest.raises(LoadError, match=r"thelook/2024-09-02/distribution_centers.csv: line 3: empty key \(id\)"):
        load_partition("thelook", DAY2)
    assert centres() == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("id,name,latitude\n2,Chicago IL,41.8\n", r"missing required column.*longitude"),
        (HEADER + "2,Chicago IL,41.8,-87.6\n3,São Paulo,-23.5\n", r"line 3"),
        ("", r"empty"),
    ],
    ids=["missing column", "ragged row", "empty file"],
)
def test_a_bad_export_fails_clearly_and_commits_nothing(landing: Path, content: str, problem: str) -> None:
    write(landing, DAY1, "distribution_centers.csv", HEADER + "1,Memphis TN,35.1,-90.0\n")
    load_partition("thelook", DAY1)
    before = centres()
    write(landing, DAY2, "distribution_centers.csv", content)
    with pytest.raises(LoadError, match=rf"thelook/2024-09-02/distribution_centers.csv.*{problem}"):
        load_partition("thelook", DAY2)
    assert centres() == before
