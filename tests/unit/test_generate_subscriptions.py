"""The subscriptions sample-data generator: consistent daily full snapshots with the real exports' shapes and quirks."""

from __future__ import annotations

import ast
import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from elt.generate import generate
from elt.generate import subscriptions as subs
from elt.generate.subscriptions import FILES, generate_subscriptions, write_stores_snapshot

DAY = date(2024, 1, 1)
LATER = date(2024, 3, 1)
HEADERS = {
    "dataset_sample.csv": "store_id,installHistory,subscriptionHistory",
    "transaction.csv": "transaction_id,orderDate,branchId,branchName,customer_id,totalAmount,status,statusValue,"
    "product_id,price",
    "customerdb.csv": "customer_id,customer_name,gender,birthDate,Region,email",
    "product.csv": "product_id,name,categoryId,categoryName,basePrice,unit,weight,createdDate",
    "conversation.csv": "message_id,conversation_id,store_id,sender,created_at,message,has_phone,phone_info",
}
INSTALL_KEYS = ["toNow", "startType", "fromDate", "endType", "toDate"]
SUBSCRIPTION_KEYS = ["price", "planName", "fromDate", "toDate", "billingOnDate"]
START = re.compile(r"\d{4}-\d\d-\d\d 00:00:00\.000000")
END = re.compile(r"\d{4}-\d\d-\d\d 23:59:59\.999000")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
PRICES = {"regular_1": 9.9, "regular_3": 29.9, "plus_5": 49.9, "plus_10": 89.9, "premium_25": 199.9}

csv.field_size_limit(1 << 30)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _stores(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[list, list]], set[str]]:
    """Parsed histories by store_id, and the stores with a malformed cell."""
    parsed, malformed = {}, set()
    for row in rows:
        try:
            parsed[row["store_id"]] = (json.loads(row["installHistory"]), json.loads(row["subscriptionHistory"]))
        except json.JSONDecodeError:
            malformed.add(row["store_id"])
    return parsed, malformed


def _snapshot(root: Path, day: date) -> dict[str, list[dict[str, str]]]:
    folder = subs.day_dir(root, day)
    return {name: _read(folder / name) for name in FILES}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default scale: 2024-01-01 and -02, 2024-03-01 and two 2018 days."""
    root = tmp_path_factory.mktemp("subs")
    generate_subscriptions(root, DAY, 2)
    for day in (LATER, date(2018, 1, 1), date(2018, 6, 1)):
        generate_subscriptions(root, day, 1)
    return root


@pytest.fixture(scope="module")
def day(landing: Path) -> dict[str, list[dict[str, str]]]:
    return _snapshot(landing, DAY)


def test_files_and_headers(landing: Path) -> None:
    folder = subs.day_dir(landing, DAY)
    assert sorted(p.name for p in folder.iterdir()) == sorted(HEADERS)
    for name, header in HEADERS.items():
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            assert handle.readline() == header + "\n"
    assert not [p for p in landing.rglob("*") if p.name.endswith(".tmp")]


def test_default_volumes(day: dict) -> None:
    assert 3_000 <= len(day["dataset_sample.csv"]) <= 5_000
    assert 8_000 <= len(day["transaction.csv"]) <= 16_000
    assert 2_000 <= len(day["customerdb.csv"]) <= 5_000
    assert 150 <= len(day["product.csv"]) <= 400
    assert 5_000 <= len(day["conversation.csv"]) <= 10_000


def test_same_arguments_give_identical_bytes_whatever_the_start(tmp_path: Path) -> None:
    def run(name: str, start: date, days: int, seed: int = 7) -> dict[str, bytes]:
        subs._universe.cache_clear()  # rebuild the universe: the bytes do not come from a cache
        generate_subscriptions(tmp_path / name, start, days, seed=seed, scale=0.3)
        return {p.relative_to(tmp_path / name).as_posix(): p.read_bytes() for p in (tmp_path / name).rglob("*.csv")}

    three = run("a", DAY, 3)
    assert len(three) == 15 and run("b", DAY, 3) == three
    alone = run("c", DAY + timedelta(days=2), 1)
    assert alone and all(three[name] == data for name, data in alone.items())
    other = run("d", DAY, 1, seed=8)
    assert all(other[name] != three[name] for name in other)


def _consistent(before: dict, after: dict, day: date, later: date) -> None:
    """Snapshot `after` (of `later`) extends snapshot `before` (of `day`)."""
    old, old_bad = _stores(before["dataset_sample.csv"])
    new, new_bad = _stores(after["dataset_sample.csv"])
    assert set(old) | old_bad <= set(new) | new_bad
    cut, end = day.isoformat(), later.isoformat()
    for store_id, (old_install, old_subscription) in old.items():
        if store_id in new_bad:
            continue
        for old_periods, new_periods in zip((old_install, old_subscription), new[store_id], strict=True):
            assert len(old_periods) <= len(new_periods)
            for was, now in zip(old_periods, new_periods, strict=False):
                if was["toDate"] is not None:
                    assert now == was  # closed: written identically
                else:
                    assert {k: v for k, v in now.items() if k not in ("toNow", "endType", "toDate")} == {
                        k: v for k, v in was.items() if k not in ("toNow", "endType", "toDate")
                    }
                    assert now["toDate"] is None or cut < now["toDate"][:10] <= end
            assert all(cut < p["fromDate"][:10] <= end for p in new_periods[len(old_periods) :])
    for store_id in set(new) - set(old) - old_bad:
        assert cut < new[store_id][0][0]["fromDate"][:10] <= end

    old_tx = {row["transaction_id"]: row for row in before["transaction.csv"]}
    new_tx = {row["transaction_id"]: row for row in after["transaction.csv"]}
    assert set(old_tx) <= set(new_tx)
    settled = 0
    for key, row in old_tx.items():
        if row != new_tx[key]:
            assert row["statusValue"] == "Pending" and new_tx[key]["statusValue"] != "Pending"
            assert {k: v for k, v in row.items() if not k.startswith("status")} == {
                k: v for k, v in new_tx[key].items() if not k.startswith("status")
            }
            settled += 1
    assert settled  # some Pending transactions of `day` settle later
    assert all(cut < new_tx[key]["orderDate"][:10] <= end for key in set(new_tx) - set(old_tx))
    for name in ("customerdb.csv", "product.csv", "conversation.csv"):
        assert after[name][: len(before[name])] == before[name]  # rows only added, at the end
    assert len(after["conversation.csv"]) > len(before["conversation.csv"])


def test_each_snapshot_extends_the_previous_one(landing: Path, day: dict) -> None:
    following = _snapshot(landing, DAY + timedelta(days=1))
    _consistent(day, following, DAY, DAY + timedelta(days=1))
    _consistent(following, _snapshot(landing, LATER), DAY + timedelta(days=1), LATER)


def test_nothing_after_the_day(day: dict) -> None:
    cut = DAY.isoformat()
    stores, _ = _stores(day["dataset_sample.csv"])
    for install, subscription in stores.values():
        for period in install + subscription:
            assert period["fromDate"][:10] <= cut
            assert period["toDate"] is None or period["toDate"][:10] <= cut
    assert max(row["orderDate"] for row in day["transaction.csv"])[:10] == cut
    assert max(row["created_at"] for row in day["conversation.csv"])[:10] <= cut
    assert max(row["createdDate"] for row in day["product.csv"])[:10] <= cut


def test_period_shapes(day: dict) -> None:
    rows = day["dataset_sample.csv"]
    stores, malformed = _stores(rows)
    assert all(int(a["store_id"]) < int(b["store_id"]) for a, b in zip(rows, rows[1:], strict=False))
    steps: Counter = Counter()
    for row in rows:
        if row["store_id"] in malformed:
            continue
        assert not re.search(r'", |": ', row["installHistory"] + row["subscriptionHistory"])  # compact
        install, subscription = stores[row["store_id"]]
        assert install and all(list(p) == INSTALL_KEYS for p in install)
        assert all(list(p) == SUBSCRIPTION_KEYS for p in subscription)
        for i, period in enumerate(install):
            assert START.fullmatch(period["fromDate"])
            assert period["startType"] in (("CUSTOMER_REACTIVATED", "CUSTOMER_REOPENED") if i else (None,))
            if period["toNow"] is True:
                assert period["toDate"] is None and period["endType"] is None and i == len(install) - 1
            else:
                assert period["toNow"] is False and END.fullmatch(period["toDate"])
                assert period["endType"] in (None, "CUSTOMER_CANCELLED", "CUSTOMER_CLOSED")
                assert period["toDate"][:10] >= period["fromDate"][:10]
        for periods in (install, subscription):
            for was, now in zip(periods, periods[1:], strict=False):
                gap = (date.fromisoformat(now["fromDate"][:10]) - date.fromisoformat(was["toDate"][:10])).days
                assert gap >= 0  # the next starts on the previous one's last day at the earliest
                steps["overlap" if gap == 0 else "touch" if gap == 1 else "gap"] += 1
        for period in subscription:
            assert period["price"] == PRICES[period["planName"]] and period["billingOnDate"] is None
            assert START.fullmatch(period["fromDate"])
            assert period["toDate"] is None or END.fullmatch(period["toDate"])
        assert all(p["toDate"] is not None for p in subscription[:-1])
    assert steps["overlap"] > 50 and steps["touch"] > 50 and steps["gap"] > 50, steps
    ends = Counter(p["endType"] for install, _ in stores.values() for p in install if not p["toNow"])
    assert set(ends) == {None, "CUSTOMER_CANCELLED", "CUSTOMER_CLOSED"}
    assert ends["CUSTOMER_CANCELLED"] > ends["CUSTOMER_CLOSED"] > ends[None]


def test_install_counts_and_the_37_period_store(day: dict, landing: Path) -> None:
    stores, malformed = _stores(day["dataset_sample.csv"])
    counts = Counter(len(install) for install, _ in stores.values())
    assert counts[37] == 1 or (counts[37] == 0 and len(malformed) >= 1)
    assert max(n for n in counts if n != 37) <= subs.MAX_INSTALLS
    assert counts[1] / sum(counts.values()) > 0.75  # most stores have one install period
    later, _ = _stores(_snapshot(landing, LATER)["dataset_sample.csv"])
    long = [store for store, (install, _) in later.items() if len(install) == 37]
    assert len(long) == 1 and later[long[0]][0][-1]["toNow"] is True
    if counts[37] == 0:  # its cell was the malformed one that day
        assert long[0] in malformed


def test_two_thirds_without_subscriptions(day: dict) -> None:
    stores, _ = _stores(day["dataset_sample.csv"])
    empty = sum(subscription == [] for _, subscription in stores.values()) / len(stores)
    assert 0.60 <= empty <= 0.72, empty
    plans = Counter(p["planName"] for _, subscription in stores.values() for p in subscription)
    assert set(plans) == set(PRICES) and plans.most_common(1)[0][0] == "regular_1"


def test_malformed_json_now_and_then(day: dict, landing: Path) -> None:
    rows = day["dataset_sample.csv"]
    _, malformed = _stores(rows)
    assert 1 <= len(malformed) <= 8
    following, following_bad = _stores(_snapshot(landing, DAY + timedelta(days=1))["dataset_sample.csv"])
    assert malformed - following_bad <= set(following)  # a glitch of the day: the store's next day parses


def test_transaction_quirks(day: dict) -> None:
    rows = day["transaction.csv"]
    n = len(rows)
    assert len({row["transaction_id"] for row in rows}) == n
    assert all(TIMESTAMP.fullmatch(row["orderDate"]) for row in rows)
    assert {row["statusValue"] for row in rows} == {"Completed", "Cancelled", "Pending"}
    assert {row["status"] for row in rows} == {"0", "1"}
    disagree = sum((row["status"] == "1") != (row["statusValue"] == "Completed") for row in rows)
    assert 0.005 <= disagree / n <= 0.016, disagree
    names: defaultdict[str, Counter] = defaultdict(Counter)
    for row in rows:
        names[row["branchId"]][row["branchName"]] += 1
    conflicts = {branch: counts for branch, counts in names.items() if len(counts) > 1}
    assert len(conflicts) == 1 and len(next(iter(conflicts.values()))) in (2, 3)
    odd = sum(Decimal(row["totalAmount"]) % Decimal(row["price"]) != 0 for row in rows)
    assert 0.013 <= odd / n <= 0.028, odd
    assert all(Decimal(row["price"]) > 0 and re.fullmatch(r"\d+\.\d\d", row["totalAmount"]) for row in rows)
    completed = sum(row["statusValue"] == "Completed" for row in rows) / n
    assert 0.8 <= completed <= 0.95


def test_customers_and_products(day: dict) -> None:
    customers, products = day["customerdb.csv"], day["product.csv"]
    assert len({row["customer_id"] for row in customers}) == len(customers)
    assert {row["gender"] for row in customers} == {"M", "F"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row["birthDate"]) for row in customers)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.(com|net|org)", row["email"]) for row in customers)
    assert {row["Region"] for row in customers} == {"Sudeste", "Nordeste", "Sul", "Centro-Oeste", "Norte"}
    assert {row["customer_id"] for row in day["transaction.csv"]} == {row["customer_id"] for row in customers}
    assert len({row["product_id"] for row in products}) == len(products)
    assert {row["product_id"] for row in day["transaction.csv"]} <= {row["product_id"] for row in products}
    assert all(
        re.fullmatch(r"\d+\.\d\d", row["basePrice"]) and TIMESTAMP.fullmatch(row["createdDate"]) for row in products
    )


def test_conversation_quirks(day: dict) -> None:
    rows = day["conversation.csv"]
    n = len(rows)
    disagree = 0
    for row in rows:
        phones = ast.literal_eval(row["phone_info"])
        assert isinstance(phones, list) and phones
        assert phones == [None] or all(re.fullmatch(r"\+55\d{8,11}", p) for p in phones)
        assert row["has_phone"] in ("True", "False") and row["sender"] in ("store", "support")
        disagree += (row["has_phone"] == "True") != (phones != [None])
        assert TIMESTAMP.fullmatch(row["created_at"])
    assert 0.013 <= disagree / n <= 0.028, disagree
    assert any(row["phone_info"].count("+55") == 2 for row in rows)
    assert 0.1 <= sum(row["phone_info"] != "[None]" for row in rows) / n <= 0.35
    repeated = n - len({row["message_id"] for row in rows})
    assert 0.005 <= repeated / n <= 0.016, repeated
    stores = {row["store_id"] for row in day["dataset_sample.csv"]}
    assert {row["store_id"] for row in rows} <= stores


def test_2018_days_are_small_but_not_empty(landing: Path) -> None:
    for day in (date(2018, 1, 1), date(2018, 6, 1)):
        snapshot = _snapshot(landing, day)
        assert all(snapshot[name] for name in FILES), day
        stores, malformed = _stores(snapshot["dataset_sample.csv"])
        assert stores and not malformed and len(stores) < 400
    empty = generate_subscriptions(landing / "before", date(2017, 12, 31), 1)
    assert [len(_read(path)) for path in empty] == [0] * 5


def test_bench_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "bench" / "dataset_sample.csv"
    assert write_stores_snapshot(path, DAY, 3_000, 60_000) == 60_000
    rows = _read(path)
    stores, malformed = _stores(rows)
    assert len(rows) == len(stores) == 3_000 and not malformed
    assert sum(len(install) + len(subscription) for install, subscription in stores.values()) == 60_000
    installs = Counter(len(install) for install, _ in stores.values())
    assert installs[37] == 1 and installs[1] / 3_000 > 0.75
    assert 0.6 <= sum(subscription == [] for _, subscription in stores.values()) / 3_000 <= 0.72
    cut = DAY.isoformat()
    for install, subscription in stores.values():
        assert all(list(p) == INSTALL_KEYS for p in install) and all(list(p) == SUBSCRIPTION_KEYS for p in subscription)
        for period in install + subscription:
            assert "2018-01-01" <= period["fromDate"][:10] <= cut and START.fullmatch(period["fromDate"])
            assert period["toDate"] is None or period["fromDate"][:10] <= period["toDate"][:10] <= cut
    assert write_stores_snapshot(path, DAY, 100, 100) == 100
    assert all(len(i) == 1 and s == [] for i, s in _stores(_read(path))[0].values())
    with pytest.raises(ValueError):
        write_stores_snapshot(path, DAY, 100, 99)


def test_dispatch_and_arguments(tmp_path: Path) -> None:
    paths = generate("subscriptions", tmp_path, DAY, 1, seed=3, scale=0.05)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [f"subscriptions/{DAY}/{name}" for name in FILES]
    assert generate_subscriptions(tmp_path, DAY, 0) == []
    for kwargs in ({"days": -1}, {"days": 1, "seed": -1}, {"days": 1, "scale": 0.0}, {"days": 1, "scale": 50.0}):
        with pytest.raises(ValueError):
            generate_subscriptions(tmp_path, DAY, **kwargs)
