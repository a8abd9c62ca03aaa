"""Contracts and readers without a database: file routing, identifier safety, format sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest

from elt.readers import FileError, open_stream
from elt.sources import Table, check_identifier, get_source


def test_voucher_files_route_to_their_table() -> None:
    source = get_source("vouchers")
    for name in ("a.parquet", "export.PARQUET.gzip", "x.csv", "x.csv.gz"):
        assert source.table_for(name).name == "voucher_assignments"
    assert source.table_for("notes.txt") is None


@pytest.mark.parametrize("bad", ["Robert'); drop table x;--", "a-b", "1abc", "", "a" * 64, "Upper"])
def test_identifiers_from_outside_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_identifier(bad)
    with pytest.raises(ValueError):
        Table(name="t", patterns=("*.csv",), required=(bad,))


def test_unknown_source_is_a_clear_error() -> None:
    known = "electronics, store_orders, subscriptions, thelook, vouchers"
    with pytest.raises(KeyError, match=f"unknown source .nope.; known: {known}"):
        get_source("nope")


def test_csv_header_is_normalised_and_extras_reported(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_bytes("\ufeff Timestamp ,Country_Code,extra\n2024-01-01,Peru,x\n".encode())
    stream = open_stream(path, {"timestamp", "country_code"})
    assert stream.columns == ["timestamp", "country_code", "extra"], "every column: the loader keeps the wanted ones"
    assert stream.extra == ["extra"]
    assert b"".join(stream.chunks) == b"2024-01-01,Peru,x\n"


def test_csv_bytes_pass_through_untouched(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text('a,b,c\n"x, ""y""",drop,"multi\nline"\n', encoding="utf-8")
    stream = open_stream(path, {"a", "c"})
    assert b"".join(stream.chunks) == b'"x, ""y""",drop,"multi\nline"\n'


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("v.csv", b"", "file is empty"),
        ("v.csv", b"a,b\n", "header only"),
        ("v.parquet", b"a,b\n1,2\n", "named as parquet but its content is csv"),
        ("v.csv", b"PAR1\x00\x00", "named as csv but its content is parquet"),
        ("v.csv", b"caf\xe9,b\n1,2\n", r"line 1 \(header\) is not valid UTF-8"),
    ],
)
def test_bad_files_name_the_file_and_problem(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileError, match=message) as failure:
        open_stream(path, {"a", "b"})
    assert str(path) in str(failure.value)


def test_thelook_files_route_to_their_tables() -> None:
    source = get_source("thelook")
    routes = {
        name: source.table_for(name).name
        for name in (
            "users.csv",
            "users_000000000000.csv",
            "orders.csv",
            "order_items.csv",
            "inventory_items.csv.gz",
            "distribution_centers.csv",
            "events.csv",
            "products.csv",
        )
    }
    assert routes == {
        "users.csv": "users",
        "users_000000000000.csv": "users",
        "orders.csv": "orders",
        "order_items.csv": "order_items",
        "inventory_items.csv.gz": "inventory_items",
        "distribution_centers.csv": "distribution_centers",
        "events.csv": "events",
        "products.csv": "products",
    }
    assert all(table.key for table in source.tables), "every theLook table is upserted by its key"
