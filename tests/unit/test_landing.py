"""Sorting out a landing folder without a database: printable names, date-like folder names, what is skipped."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from elt.landing import NO_TABLE, misplaced_entries, partition_of, printable, scan_partition
from elt.sources import Source, Table, get_source


def test_printable_escapes_undecodable_bytes_and_control_characters() -> None:
    assert printable(os.fsdecode(b"caf\xe9.csv")) == "caf\\xe9.csv"
    assert printable("a\nb\x00c.csv") == "a\\x0ab\\x00c.csv"
    assert printable("Perú.csv") == "Perú.csv"


@pytest.mark.parametrize(
    ("name", "meant"),
    [("2024-3-1", date(2024, 3, 1)), ("20240301", date(2024, 3, 1)), ("2024_03_01", date(2024, 3, 1)),
     ("2024-02-30", None), ("March", None)],
)  # fmt: skip
def test_date_like_folder_names(name: str, meant: date | None) -> None:
    assert partition_of(name) == meant


def test_a_folder_is_sorted_into_data_files_and_skipped_entries(tmp_path: Path) -> None:
    source = get_source("vouchers")
    folder = tmp_path / "vouchers" / "2024-03-01"
    folder.mkdir(parents=True)
    for name in ("a.csv", "b.parquet", "c.csv.part", "~$d.csv", ".e.csv", "notes.txt", "f.csv.crdownload"):
        (folder / name).write_text("x")
    (folder / "sub").mkdir()
    os.symlink("/etc/passwd", folder / "g.csv")
    landed = scan_partition(source, folder, tmp_path)
    assert [p.name for p in landed.files["voucher_assignments"]] == ["a.csv", "b.parquet"]
    skipped = {s.path.name: (s.table, s.reason.split(" (")[0].split(":")[0]) for s in landed.skipped}
    assert skipped == {
        ".e.csv": ("voucher_assignments", "a hidden file"),
        "c.csv.part": ("voucher_assignments", "a temporary file"),
        "f.csv.crdownload": ("voucher_assignments", "a temporary file"),
        "g.csv": ("voucher_assignments", "a symbolic link"),
        "notes.txt": (NO_TABLE, "no table of source vouchers takes this name"),
        "sub": (NO_TABLE, "a folder"),
        "~$d.csv": ("voucher_assignments", "a temporary file"),
    }


def test_partition_folders_are_not_misplaced(tmp_path: Path) -> None:
    for name in ("2024-03-01", "2024-3-2", ".hidden"):
        (tmp_path / "vouchers" / name).mkdir(parents=True)
    [entry] = misplaced_entries(get_source("vouchers"), tmp_path)
    assert (entry.path.name, entry.meant) == ("2024-3-2", date(2024, 3, 2))
    assert "rename it to 2024-03-02" in entry.message


def test_a_workbook_is_claimed_by_every_table_naming_a_sheet(tmp_path: Path) -> None:
    """One workbook feeds one table per sheet; among tables that name no sheet, the first match still wins."""
    columns = ("a",)
    source = Source(
        name="shop",
        tables=(
            Table("orders", patterns=("dataset1*.xlsx",), required=columns, sheet="DATA"),
            Table("districts", patterns=("dataset1*.xlsx",), required=columns, sheet="CITY_DISTRICT_MAP"),
            Table("everything", patterns=("*",), required=columns),
            Table("csv_too", patterns=("*.csv",), required=columns),
        ),
    )
    assert [t.name for t in source.tables_for("dataset1.xlsx")] == ["orders", "districts", "everything"]
    assert [t.name for t in source.tables_for("x.csv")] == ["everything"]
    folder = tmp_path / "shop" / "2024-03-01"
    folder.mkdir(parents=True)
    for name in ("dataset1.xlsx", "~$dataset1.xlsx"):
        (folder / name).write_text("x")
    landed = scan_partition(source, folder, tmp_path)
    assert {table: [p.name for p in paths] for table, paths in landed.files.items()} == {
        "orders": ["dataset1.xlsx"],
        "districts": ["dataset1.xlsx"],
        "everything": ["dataset1.xlsx"],
        "csv_too": [],
    }
    assert sorted(s.table for s in landed.skipped) == ["districts", "everything", "orders"], "each table says why"


def test_a_sheet_name_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="an empty sheet name"):
        Table("t", patterns=("*.xlsx",), required=("a",), sheet=" ")
