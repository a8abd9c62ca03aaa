"""subscriptions' files against the real contract and suites: a hand-made snapshot where every rule fails on known
lines (and only there), malformed JSON in a cell is an exception of that store's line, not a failed load, and a file
without a required column fails clearly and leaves the loaded day as it was."""

from __future__ import annotations

import ast
import csv
import json
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from elt import warehouse
from elt.generate.subscriptions import generate_subscriptions
from elt.load import LoadError, load_partition
from elt.quality import validate_table
from elt.sources import get_source

DAY = date(2019, 3, 14)
FOLDER = f"subscriptions/{DAY}"


def install(start: str, end: str | None = None, **fields: object) -> dict[str, object]:
    period = {"toNow": end is None, "startType": None, "fromDate": start, "endType": None, "toDate": end}
    return period | fields


def subscription(start: str, end: str | None = None, price: object = 9.9) -> dict[str, object]:
    return {"price": price, "planName": "regular_1", "fromDate": start, "toDate": end, "billingOnDate": None}


GOOD = json.dumps([install("2019-01-02 00:00:00.000000")])
NONE = "[]"
# file line -> (store_id, installHistory, subscriptionHistory); the header is line 1
STORES = {
    2: ("1", GOOD, json.dumps([subscription("2019-01-02 00:00:00.000000")])),
    3: ("", GOOD, NONE),  # store_id_present
    4: ("4", GOOD, NONE),  # store_id_unique (both copies)
    5: ("4", GOOD, NONE),
    6: ("6", '[{"toNow": true, "fromDate": "2019-01-02 00:00:00.000000"', NONE),  # cut short: installhistory
    7: ("7", '{"toNow": true}', NONE),  # not an array
    8: ("8", "", NONE),  # empty cell
    9: ("9", GOOD, "[{'price': 9.9}]"),  # Python, not JSON: subscriptionhistory_is_json_array
    10: ("10", json.dumps([install("2019-01-02 00:00:00.000000", "2019-01-01 23:59:59.999000")]), NONE),  # ends first
    11: ("11", json.dumps([install("yesterday")]), NONE),  # fromDate not a timestamp
    12: ("12", json.dumps([install("2019-01-02 00:00:00.000000", toNow="true")]), NONE),  # toNow a string
    13: ("13", json.dumps(["2019-01-02"]), NONE),  # an element that is not an object
    14: ("14", GOOD, json.dumps([subscription("2019-01-02 00:00:00.000000", price=None)])),  # no price
    15: ("15", GOOD, json.dumps([subscription("2019-01-02 00:00:00.000000", price=-5)])),  # negative
    16: ("16", GOOD, json.dumps([subscription("2019-01-02 00:00:00.000000", price="NaN")])),  # not a number
    17: ("17", json.dumps([install("2019-01-02 00:00:00.000000") | {"toNow": False}]), NONE),  # no end: warn
    18: (
        "18",
        json.dumps(
            [
                install(
                    "2019-01-02 00:00:00.000000",
                    endType="CUSTOMER_MOVED",
                    toNow=False,
                    toDate="2019-02-01 23:59:59.999000",
                )
            ]
        ),
        NONE,
    ),  # fmt: skip
    19: ("19", GOOD, json.dumps([subscription("2019-01-02 00:00:00.000000", price="29.9")])),  # text, not a number
    20: ("20", json.dumps([install(" 2019-01-02 00:00:00")]), NONE),  # a space first: not read as a time
    21: ("21", json.dumps([install("now")]), NONE),  # Postgres reads 'now' as a time: the clock's
    22: ("22", json.dumps([install("2019-01-02 00:00:00") | {"note": "\u0000"}]), NONE),  # JSON that jsonb refuses
}
TRANSACTIONS = {  # line -> the columns of transaction.csv, in order
    2: ("t1", "2019-01-05 10:00:00", "b1", "Centro", "c1", "20", "1", "Completed", "p1", "10"),
    3: ("t2", "2019-01-06 10:00:00", "b1", "Centro", "c1", "10", "0", "Completed", "p1", "10"),  # status
    4: ("t3", "2019-01-07 10:00:00", "b1", "Centro Sul", "c2", "15", "1", "Completed", "p1", "10"),  # name, amount
    5: ("t3", "not a date", "", "", "c2", "ten", "2", "Pending", "p1", "x"),  # 7 rules
    6: ("", "2019-01-07 10:00:00", "b2", "Norte", "c2", "10", "0", "Cancelled", "p1", "10"),  # no id
}
CUSTOMERS = {
    2: ("c1", "Ana Souza", "F", "1990-02-03", "Bahia", "ana@example.com"),
    3: ("c1", "Ana Souza", "F", "31/02/1990", "Bahia", "ana@example.com"),  # repeated, and no date
    4: ("", "Bruno Lima", "M", "", "Ceará", "bruno@example.com"),
}
PRODUCTS = {
    2: ("p1", "Café", "k1", "Bebidas", "10.5", "kg", "1", "2018-01-01 00:00:00"),
    3: ("p1", "Café", "k1", "Bebidas", "dez", "kg", "1", "2018-01-01 00:00:00"),  # repeated, price not a number
    4: ("p2", "Pão", "k2", "Padaria", "", "un", "0.1", "2018-01-01 00:00:00"),  # no price: fine
}
CONVERSATIONS = {  # line -> (message_id, conversation_id, store_id, sender, created_at, message, has_phone, phone_info)
    2: ("m1", "k1", "1", "store", "2019-01-05 09:00:00", "Olá", "True", "['+5577127600']"),
    3: ("m2", "k1", "1", "agent", "2019-01-05 09:01:00", "Oi", "False", "[None]"),
    4: ("m2", "k1", "1", "agent", "2019-01-05 09:02:00", "Oi", "True", "[None]"),  # repeated id; disagrees
    5: ("m4", "k2", "4", "store", "2019-01-05 09:03:00", "Tel", "yes", '["+5511999990000"]'),  # 2 rules
    6: ("", "k2", "4", "store", "yesterday", "?", "False", "['+5511999990000', None]"),  # 3 rules
}

HEADERS = {
    "dataset_sample.csv": ("store_id", "installHistory", "subscriptionHistory"),
    "transaction.csv": (
        "transaction_id",
        "orderDate",
        "branchId",
        "branchName",
        "customer_id",
        "totalAmount",
        "status",
        "statusValue",
        "product_id",
        "price",
    ),  # fmt: skip
    "customerdb.csv": ("customer_id", "customer_name", "gender", "birthDate", "Region", "email"),
    "product.csv": ("product_id", "name", "categoryId", "categoryName", "basePrice", "unit", "weight", "createdDate"),
    "conversation.csv": (
        "message_id",
        "conversation_id",
        "store_id",
        "sender",
        "created_at",
        "message",
        "has_phone",
        "phone_info",
    ),  # fmt: skip
}
ROWS = {
    "dataset_sample.csv": STORES,
    "transaction.csv": TRANSACTIONS,
    "customerdb.csv": CUSTOMERS,
    "product.csv": PRODUCTS,
    "conversation.csv": CONVERSATIONS,
}

# (table, rule, severity) -> the failing lines
EXPECTED = {
    ("stores", "store_id_present", "error"): [3],
    ("stores", "store_id_unique", "error"): [4, 5],
    ("stores", "installhistory_is_json_array", "error"): [6, 7, 8, 22],
    ("stores", "subscriptionhistory_is_json_array", "error"): [9],
    ("stores", "install_periods_readable", "error"): [10, 11, 12, 13, 20, 21],
    ("stores", "subscription_periods_readable", "error"): [14, 15, 16, 19],
    ("stores", "install_period_end_inconsistent", "warn"): [17],
    ("stores", "install_period_type_unknown", "warn"): [18],
    ("transactions", "transaction_id_present", "error"): [6],
    ("transactions", "transaction_id_unique", "error"): [4, 5],
    ("transactions", "order_date_is_timestamp", "error"): [5],
    ("transactions", "branchid_present", "error"): [5],
    ("transactions", "total_amount_is_number", "error"): [5],
    ("transactions", "status_matches_status_value", "warn"): [3, 5],
    ("transactions", "branch_name_is_the_branchs", "warn"): [4],
    ("transactions", "price_is_number", "warn"): [5],
    ("transactions", "total_amount_multiple_of_price", "warn"): [4],
    ("customers", "customer_id_present", "error"): [4],
    ("customers", "customer_id_unique", "error"): [2, 3],
    ("customers", "birth_date_is_date", "warn"): [3],
    ("products", "product_id_unique", "error"): [2, 3],
    ("products", "base_price_is_number", "warn"): [3],
    ("conversations", "message_id_present", "error"): [6],
    ("conversations", "created_at_is_timestamp", "error"): [6],
    ("conversations", "message_id_unique", "warn"): [3, 4],
    ("conversations", "has_phone_is_boolean", "warn"): [5],
    ("conversations", "phone_info_is_list", "warn"): [5],
    ("conversations", "has_phone_matches_phone_info", "warn"): [4, 6],
}


def write_snapshot(landing: Path) -> Path:
    folder = landing / FOLDER
    folder.mkdir(parents=True)
    for name, header in HEADERS.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(row for _, row in sorted(ROWS[name].items()))
    return folder


def test_every_rule_flags_its_lines_and_nothing_else(landing: Path) -> None:
    write_snapshot(landing)
    source = get_source("subscriptions")
    loaded = {load.table: load.rows for load in load_partition("subscriptions", DAY, landing)}
    assert loaded == {"stores": 21, "transactions": 5, "customers": 3, "products": 3, "conversations": 5}
    results = {table.name: validate_table(source, table, DAY) for table in source.tables}
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select table_name, rule, severity, source_file, source_row, bad_value from audit.dq_exceptions"
            " order by 1, 2, 5"
        ).fetchall()
        statuses = conn.execute("select table_name, status from audit.load_log order by 1").fetchall()
    found: dict[tuple[str, str, str], list[int]] = {}
    files = {source.table_for(name).name: name for name in HEADERS}
    for table, rule, severity, source_file, line, _ in rows:
        assert source_file.endswith(f"{FOLDER}/{files[table]}")
        found.setdefault((table, rule, severity), []).append(line)
    assert found == EXPECTED
    assert statuses == [(t.name, "loaded") for t in sorted(source.tables, key=lambda t: t.name)]
    # malformed JSON is evidence of that store's line, as written
    bad = {(table, rule, line): value for table, rule, _, _, line, value in rows}
    assert bad[("stores", "installhistory_is_json_array", 6)] == STORES[6][1]
    # personal values keep their shape only
    phone = next(v for t, r, _, _, line, v in rows if t == "conversations" and r == "phone_info_is_list")
    assert phone == '["+*************"]'  # +5511999990000
    errors = {table: {line for (t, _, s), lines in EXPECTED.items() if t == table and s == "error" for line in lines}
              for table in results}  # fmt: skip
    for table, result in results.items():
        assert result.error_rows == len(errors[table]), table


def test_a_file_without_a_required_column_fails_clearly_and_keeps_the_loaded_day(landing: Path) -> None:
    folder = write_snapshot(landing)
    load_partition("subscriptions", DAY, landing)
    with warehouse.connect() as conn:
        before = conn.execute("select count(*), max(_batch_id) from raw_subscriptions.stores").fetchone()
    (folder / "dataset_sample.csv").write_text('store_id,installHistory\n1,"[]"\n', encoding="utf-8")
    with pytest.raises(LoadError, match=re.escape("dataset_sample.csv") + ".*subscriptionhistory"):
        load_partition("subscriptions", DAY, landing)
    with warehouse.connect() as conn:
        after = conn.execute("select count(*), max(_batch_id) from raw_subscriptions.stores").fetchone()
        error = conn.execute(
            "select error from audit.load_log where table_name = 'stores' and status = 'failed'"
        ).fetchone()[0]
    assert after == before
    assert "subscriptionhistory" in error


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _json_array(cell: str) -> bool:
    try:
        return isinstance(json.loads(cell), list)
    except ValueError:
        return False


def test_generated_quirks_are_exactly_the_exceptions(landing: Path) -> None:
    """A generated day: the suites flag what the files hold (counted here from the files with Python's parsers)."""
    day = date(2024, 1, 1)
    generate_subscriptions(landing, day, 1, seed=4)
    folder = landing / "subscriptions" / day.isoformat()
    stores = _read(folder / "dataset_sample.csv")
    transactions = _read(folder / "transaction.csv")
    messages = _read(folder / "conversation.csv")
    names: dict[str, Counter[str]] = {}
    for row in transactions:
        names.setdefault(row["branchId"], Counter())[row["branchName"]] += 1
    usual = {branch: min(counts, key=lambda name: (-counts[name], name)) for branch, counts in names.items()}
    ids = Counter(row["message_id"] for row in messages)

    def phones(cell: str) -> bool:
        return any(ast.literal_eval(cell))

    expected = Counter(
        {
            ("stores", "installhistory_is_json_array", "error"): sum(
                not _json_array(row["installHistory"]) for row in stores
            ),
            ("stores", "subscriptionhistory_is_json_array", "error"): sum(
                not _json_array(row["subscriptionHistory"]) for row in stores
            ),
            ("transactions", "status_matches_status_value", "warn"): sum(
                (row["status"] == "1") != (row["statusValue"] == "Completed") for row in transactions
            ),
            ("transactions", "branch_name_is_the_branchs", "warn"): sum(
                row["branchName"] != usual[row["branchId"]] for row in transactions
            ),
            ("transactions", "total_amount_multiple_of_price", "warn"): sum(
                Decimal(row["totalAmount"]) % Decimal(row["price"]) != 0 for row in transactions
            ),
            ("conversations", "message_id_unique", "warn"): sum(ids[row["message_id"]] > 1 for row in messages),
            ("conversations", "has_phone_matches_phone_info", "warn"): sum(
                (row["has_phone"] == "True") != phones(row["phone_info"]) for row in messages
            ),
        }
    )
    malformed = [kind for kind in expected if kind[1].endswith("_is_json_array")]
    assert sum(expected[kind] for kind in malformed) > 0, expected  # in either column
    assert all(count for kind, count in expected.items() if kind not in malformed), expected
    load_partition("subscriptions", day, landing)
    source = get_source("subscriptions")
    for table in source.tables:
        validate_table(source, table, day)
    with warehouse.connect() as conn:
        found = Counter(
            {
                (table, rule, severity): count
                for table, rule, severity, count in conn.execute(
                    "select table_name, rule, severity, count(*) from audit.dq_exceptions group by 1, 2, 3"
                )
            }
        )
    assert found == +expected  # (+ drops the kinds counted 0)
