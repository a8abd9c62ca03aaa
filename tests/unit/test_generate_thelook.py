"""The theLook sample-data generator: a snapshot then deltas, deterministic, with the real exports' quirks."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from elt.generate import GENERATORS, generate
from elt.generate.thelook import COLUMNS, GEOM_COLUMNS, generate_thelook, write_thelook_snapshot

START = date(2024, 9, 1)
DAYS = 4
KEYS = {name: ("order_id" if name == "orders" else "id") for name in COLUMNS}


def _read(path: Path) -> pa.Table:
    """A generated CSV with every column as text and empty fields as empty strings, as the loader sees it."""
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    options = pcsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=False)
    return pcsv.read_csv(path, convert_options=options)


def _rows(path: Path) -> list[dict[str, str]]:
    return _read(path).to_pylist()


def _ts(value: str) -> datetime:
    """A timestamp in any of the three shapes the exports use."""
    return datetime.fromisoformat(value.removesuffix(" UTC").removesuffix("+00:00"))


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot and 3 deltas at scale 0.05 (5,000 users, 6,250 orders, 120,000 events in the snapshot)."""
    root = tmp_path_factory.mktemp("landing")
    generate_thelook(root, START, DAYS, seed=42, scale=0.05)
    return root


def _day(landing: Path, offset: int) -> Path:
    return landing / "thelook" / (START + timedelta(days=offset)).isoformat()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate_thelook(tmp_path / name, START, 3, seed=seed, scale=0.01)
    a, b, c = (_tree(tmp_path / name) for name in "abc")
    assert a == b
    snapshot = [key for key in a if key.startswith("thelook/2024-09-01/") and "distribution" not in key]
    assert len(snapshot) == 6 and all(a[key] != c[key] for key in snapshot)


def test_snapshot_then_deltas_layout(landing: Path) -> None:
    assert sorted(p.name for p in _day(landing, 0).iterdir()) == sorted(f"{name}.csv" for name in COLUMNS)
    for offset in range(1, DAYS):
        names = {p.name for p in _day(landing, offset).iterdir()}
        assert {"orders.csv", "order_items.csv", "events.csv"} <= names
        assert names <= {f"{name}.csv" for name in COLUMNS} - {"products.csv", "distribution_centers.csv"}
    assert not list(landing.rglob(".*.tmp"))


def test_headers_exactly_as_exported_geometry_only_in_newer_exports(landing: Path) -> None:
    for offset in range(DAYS):
        newer = offset >= DAYS // 2
        for path in _day(landing, offset).iterdir():
            name = path.stem
            expected = list(COLUMNS[name]) + ([GEOM_COLUMNS[name]] if newer and name in GEOM_COLUMNS else [])
            assert path.read_text(encoding="utf-8").split("\n", 1)[0].split(",") == expected, path


def test_keys_unique_within_each_file(landing: Path) -> None:
    for path in landing.rglob("*.csv"):
        keys = _read(path)[KEYS[path.stem]].to_pylist()
        assert len(keys) == len(set(keys)) and all(keys), path


def test_snapshot_volumes_follow_scale(landing: Path) -> None:
    counts = {p.stem: _read(p).num_rows for p in _day(landing, 0).iterdir()}
    assert counts["users"] == 5000 and counts["orders"] == 6250 and counts["products"] == 1450
    assert counts["distribution_centers"] == 10 and counts["inventory_items"] == 24_500
    assert 8_500 < counts["order_items"] < 9_500 and 110_000 < counts["events"] < 130_000


def test_quirk_rates_in_the_snapshot(landing: Path) -> None:
    snap = _day(landing, 0)
    users, orders, items = _rows(snap / "users.csv"), _rows(snap / "orders.csv"), _rows(snap / "order_items.csv")
    products = _rows(snap / "products.csv")
    assert 0.015 < sum(u["city"] == "null" for u in users) / len(users) < 0.025
    emails = [u["email"] for u in users]
    assert 0.003 < (len(emails) - len(set(emails))) / len(emails) < 0.008
    assert 1 <= sum(p["name"] == "" or p["brand"] == "" for p in products) <= 10
    statuses = {s: sum(o["status"] == s for o in orders) / len(orders) for s in ("Complete", "Shipped", "Processing")}
    assert 0.2 < statuses["Complete"] < 0.3 and 0.25 < statuses["Shipped"] < 0.35 and statuses["Processing"] > 0.15
    returned = [o for o in orders if o["status"] == "Returned"]
    blank = [o for o in returned if not (o["shipped_at"] or o["delivered_at"] or o["returned_at"])]
    assert 0.07 < len(returned) / len(orders) < 0.13 and 1 <= len(blank) <= 0.03 * len(returned)
    shipped = [i for i in items if i["shipped_at"]]
    early = sum(_ts(i["shipped_at"]) < _ts(i["created_at"]) for i in shipped) / len(shipped)
    assert 0.25 < early < 0.42
    stamps = [o["created_at"] for o in orders]
    utc, plus = sum(s.endswith(" UTC") for s in stamps), sum(s.endswith("+00:00") for s in stamps)
    assert 0.8 < utc / len(stamps) < 0.9 and 0.07 < plus / len(stamps) < 0.13
    assert 0.03 < (len(stamps) - utc - plus) / len(stamps) < 0.07
    assert all(s.count(":") == 2 and len(s) == 19 for s in stamps if not s.endswith(("UTC", "+00:00")))
    assert {u["gender"] for u in users} == {"F", "M"} and all(12 <= int(u["age"]) <= 70 for u in users)
    countries = [u["country"] for u in users]
    assert countries.count("China") > countries.count("United States") > countries.count("Brasil") > 0.1 * len(users)


def test_money_has_float32_noise_and_sale_price_is_the_retail_price(landing: Path) -> None:
    snap = _day(landing, 0)
    retail = {p["id"]: p["retail_price"] for p in _rows(snap / "products.csv")}
    items = _rows(snap / "order_items.csv")
    assert all(i["sale_price"] == retail[i["product_id"]] for i in items)
    noisy = [i["sale_price"] for i in items if len(i["sale_price"].split(".")[-1]) >= 10]
    assert len(noisy) > 0.9 * len(items)
    assert any("99999" in price or "00000" in price for price in noisy)


def test_text_as_the_exports_write_it(landing: Path) -> None:
    snap = _day(landing, 0)
    text = (snap / "users.csv").read_text(encoding="utf-8")
    assert "São Paulo" in text and " UTC" in text
    postal = {u["country"]: u["postal_code"] for u in _rows(snap / "users.csv")}
    assert postal["Brasil"][5] == "-" and len(postal["Brasil"]) == 9 and postal["Japan"][3] == "-"
    centres = _rows(snap / "distribution_centers.csv")
    assert [c["name"] for c in centres][:2] == ["Memphis TN", "Chicago IL"] and len(centres) == 10
    geo = _rows(_day(landing, DAYS - 1) / "users.csv") if (_day(landing, DAYS - 1) / "users.csv").exists() else []
    for user in geo:
        assert user["user_geom"] == f"POINT({user['longitude']} {user['latitude']})"
    events = _rows(snap / "events.csv")
    assert {e["event_type"] for e in events} == {"home", "department", "product", "cart", "purchase", "cancel"}
    assert {e["browser"] for e in events} == {"Chrome", "Firefox", "Safari", "IE", "Other"}
    assert all(len(e["session_id"]) == 36 and e["session_id"].count("-") == 4 for e in events[:1000])


def test_deltas_hold_new_rows_and_status_changes_of_earlier_orders(landing: Path) -> None:
    seen_orders: set[str] = set()
    seen_items: set[str] = set()
    updates = 0
    for offset in range(DAYS):
        folder = _day(landing, offset)
        orders, items = _rows(folder / "orders.csv"), _rows(folder / "order_items.csv")
        if offset:
            changed = [o for o in orders if o["order_id"] in seen_orders]
            updates += len(changed)
            assert all(o["status"] != "Processing" for o in changed)
            new = [o for o in orders if o["order_id"] not in seen_orders]
            day = START + timedelta(days=offset)
            assert new and all(_ts(o["created_at"]).date() == day for o in new)
            assert any(i["id"] in seen_items for i in items)
        seen_orders |= {o["order_id"] for o in orders}
        seen_items |= {i["id"] for i in items}
    assert updates >= DAYS - 1


def test_deltas_reference_users_and_products_that_arrive_later(tmp_path: Path) -> None:
    paths = generate_thelook(tmp_path, START, 40, seed=3, scale=0.05)
    products = {p["id"] for p in _rows(tmp_path / "thelook" / START.isoformat() / "products.csv")}
    users: set[str] = set()
    new_items = late = 0
    for folder in sorted({p.parent for p in paths}):
        if (folder / "users.csv").exists():
            users |= {u["id"] for u in _rows(folder / "users.csv")}
        if folder.name == START.isoformat():
            continue
        seen_before = users.copy()
        for item in _rows(folder / "order_items.csv"):
            if _ts(item["created_at"]).date().isoformat() == folder.name:
                new_items += 1
                late += item["user_id"] not in seen_before or item["product_id"] not in products
    assert new_items > 200 and 1 <= late <= 0.04 * new_items


def test_snapshot_writer_is_fast_and_geometry_follows_the_day(tmp_path: Path) -> None:
    clock = time.monotonic()
    paths = write_thelook_snapshot(tmp_path / "new", date(2024, 9, 1), scale=0.05)
    assert time.monotonic() - clock < 10
    assert sorted(p.name for p in paths) == sorted(f"{name}.csv" for name in COLUMNS)
    header = (tmp_path / "new" / "users.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.endswith(",user_geom")
    write_thelook_snapshot(tmp_path / "old", date(2023, 6, 1), scale=0.002)
    assert "geom" not in (tmp_path / "old" / "distribution_centers.csv").read_text(encoding="utf-8")
    assert _read(tmp_path / "old" / "products.csv").num_rows == 100


def test_registered_and_scale_passed_through(tmp_path: Path) -> None:
    assert GENERATORS["thelook"] is generate_thelook
    paths = generate("thelook", tmp_path, START, 2, seed=1, scale=0.002)
    assert {p.parent.name for p in paths} == {"2024-09-01", "2024-09-02"}
    assert _read(tmp_path / "thelook" / "2024-09-01" / "users.csv").num_rows == 200
    vouchers = generate("vouchers", tmp_path, START, 1, rows_per_day=10, scale=0.5)
    assert len(vouchers) == 1
