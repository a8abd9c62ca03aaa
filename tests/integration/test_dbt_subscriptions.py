"""The subscriptions source below Airflow, in subscriptions_daily's order: two hand-made snapshots through the real
loader, the real GX suites (expectations/raw_subscriptions.*.json) and dbt (tag subscriptions), against hand-computed
rows of every mart and of the *_current views.

Two days: NEW = 2022-06-12 runs first, then OLD = 2022-06-05 (an older date after a newer one must give its own
numbers, and the *_current views still show NEW, the latest as_of_date). Each day's folder holds the five files, each
a full snapshot as known that day. The stores' (and every other file's) local times are in America/Sao_Paulo (UTC-3
all year since 2019: local 00:00 is 03:00 UTC the same day, local 21:00 and later is the next UTC day, and a closed
period's 23:59:59.999 end falls on the next UTC day); the transactions' in Asia/Tokyo (UTC+9), through the per-file
setting SUBSCRIPTIONS_TIMEZONE_TRANSACTIONS. Days in the marts are UTC days.

The stores (NEW; OLD below each), local times:
- 101 touching periods: 06-01 00:00 .. 06-03 23:59:59.999, then 06-04 00:00 with toNow false and no toDate (a warning:
  open). UTC days 06-01..06-04 and 06-04..: one spell from 06-01, open. Subscriptions: a plan change, regular_1 49.9
  from 06-01 to 06-05 23:59:59.999, then plus_5 99.9 from 06-06 (OLD: regular_1 from 06-01, open).
- 102 overlapping periods: 06-02 00:00 .. 06-05 23:59:59.999 (CUSTOMER_CLOSED), then 06-05 00:00 (the same day) ..
  06-08 23:59:59.999 (endType null). UTC 06-02..06-06 and 06-05..06-09: one spell 06-02..06-09; the period ending
  last has no endType: lost on 06-09, unknown (OLD: 06-02 00:00, toNow). Subscriptions: regular_1 29.9 from 06-02
  00:00 to 10:00, replaced at 10:00 the same day by plus_5 59.9 until 06-08 23:59:59.999 (OLD: open): the first is
  booked, never in force.
- 103 a reactivation after a gap: 05-30 22:30 (UTC 05-31 01:30, the time-zone case) .. 06-01 23:59:59.999 CANCELLED,
  then 06-06 00:00 toNow: UTC 05-31..06-02, a gap 06-03..06-05, 06-06..: two spells (OLD: the first only).
  Subscriptions: regular_1 49.9 over each install period (OLD: the first).
- 104 and 105 a cancel and a close on the same day: 06-03 00:00 .. 06-07 23:59:59.999 CANCELLED and 06-04 00:00 ..
  06-07 23:59:59.999 CLOSED: both lost on UTC 06-08 (OLD: both open). 104 subscribes regular_1 19.9 with its install.
- 106 37 install periods, written newest first: 36 four-hour blocks from 06-01 00:00 to 06-06 23:59:59.999 (the
  last CUSTOMER_CLOSED: UTC 06-07 02:59:59.999), then 06-10 00:00 toNow: spells UTC 06-01..06-07 (closed) and
  06-10.. (OLD: the first 30 blocks, the 30th ending 06-05 23:59:59.999 local, at or after the end of OLD in UTC: so
  open). A subscription from 06-15 (after the run: unknown, left out).
- 107 malformed JSON in NEW (installHistory cut short): an error exception for its file and line, the load not
  failed, the store absent from NEW's staging and marts (OLD: a valid open period from 06-01).
- 108 (NEW only) 06-08 00:00 .. 07-01 23:59:59.999 CANCELLED (ends after the run: open), and a period from 06-20
  (starts after the run: unknown, left out). A subscription 15.5 over the same dates (open at the run).
- 109 (NEW only) periods that touch in UTC days (local 21:00 is 00:00 UTC): 06-05 21:00 .. 06-06 20:59:59.999 and
  06-06 21:00 .. 06-07 20:59:59.999 CANCELLED (UTC 06-06 and 06-07: one spell), then, after one day without (UTC
  06-08), 06-08 21:00 .. 06-09 20:59:59.999 CLOSED (UTC 06-09: a second spell).

Branches (transactions, Asia/Tokyo; NEW's run knows what was ordered before 06-13 00:00 UTC = 06-13 09:00 Tokyo):
B1 under two names (Centro twice, Centro SP once), B2 under two names once each (a tie: the smallest wins) with a
'completed' in lower case and a Pending whose status says 1, B3 with an order at 06-13 08:00 Tokyo (06-12 23:00 UTC:
in), one at 09:30 (out), a shipping fee (7.60 for 3 x 2.50) and an unreadable orderDate (quarantined), B4 only after
the run (no row).

The module loads and builds both days once; its last test runs NEW again and finds nothing changed.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from elt import warehouse
from elt.load import load_partition
from elt.quality import validate_table
from elt.sources import get_source

if TYPE_CHECKING:
    from conftest import ModuleWarehouse

OLD, NEW = date(2022, 6, 5), date(2022, 6, 12)
D = Decimal

# Every zone setting given explicitly (an empty one counts as unset), so that the shell's settings change nothing
ZONES = {
    "SUBSCRIPTIONS_TIMEZONE": "America/Sao_Paulo",
    "SUBSCRIPTIONS_TIMEZONE_STORES": "",
    "SUBSCRIPTIONS_TIMEZONE_TRANSACTIONS": "Asia/Tokyo",
    "SUBSCRIPTIONS_TIMEZONE_CUSTOMERS": "",
    "SUBSCRIPTIONS_TIMEZONE_PRODUCTS": "",
    "SUBSCRIPTIONS_TIMEZONE_CONVERSATIONS": "",
}


def stores_file(day: date) -> str:
    return f"subscriptions/{day}/dataset_sample.csv"


def d(text: str) -> date:
    return date.fromisoformat(f"2022-{text}")


# -- the files --------------------------------------------------------------------------------------------------------


def at(text: str) -> str:
    """A local time as the files write it: '06-01' is 2022-06-01 00:00:00.000000, '05-30 22:30' 22:30."""
    day, _, clock = text.partition(" ")
    return f"2022-{day} {clock or '00:00'}:00.000000"


def end(day: str) -> str:
    """The end of a local day as closed periods write it."""
    return f"2022-{day} 23:59:59.999000"


def install(start: str, to: str | None = None, to_now: bool = False, start_type=None, end_type=None) -> dict:
    return {"toNow": to_now, "startType": start_type, "fromDate": start, "endType": end_type, "toDate": to}


def subscription(price, plan: str, start: str, to: str | None = None) -> dict:
    return {"price": price, "planName": plan, "fromDate": start, "toDate": to, "billingOnDate": None}


def blocks(count: int) -> list[dict]:
    """Store 106's four-hour install periods from 2022-06-01 00:00 local, touching each other."""
    first = datetime(2022, 6, 1)
    periods = []
    for k in range(count):
        start, stop = first + timedelta(hours=4 * k), first + timedelta(hours=4 * k + 4, milliseconds=-1)
        periods.append(
            install(
                start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                stop.strftime("%Y-%m-%d %H:%M:%S.%f"),
                start_type=None if k == 0 else "CUSTOMER_REACTIVATED",
            )
        )
    return periods


REACTIVATED, REOPENED = "CUSTOMER_REACTIVATED", "CUSTOMER_REOPENED"
CANCELLED, CLOSED = "CUSTOMER_CANCELLED", "CUSTOMER_CLOSED"

NEW_106 = [*blocks(36), install(at("06-10"), to_now=True, start_type=REACTIVATED)]
NEW_106[35]["endType"] = CLOSED  # the 36th block, 06-06 20:00 .. 23:59:59.999 local, ends the first spell
OLD_106 = blocks(30)  # the 30th ends 06-05 23:59:59.999 local = 06-06 02:59:59.999 UTC: after OLD, so open

STORES = {  # store_id: (installHistory, subscriptionHistory) per day; a str is written as is (malformed JSON)
    NEW: [
        (
            "101",
            [install(at("06-01"), end("06-03")), install(at("06-04"), start_type=REACTIVATED)],
            [
                subscription(49.9, "regular_1", at("06-01"), end("06-05")),
                subscription(99.9, "plus_5", at("06-06")),
            ],
        ),
        (
            "102",
            [
                install(at("06-02"), end("06-05"), end_type=CLOSED),
                install(at("06-05"), end("06-08"), start_type=REOPENED),
            ],
            [
                subscription(29.9, "regular_1", at("06-02"), at("06-02 10:00")),
                subscription(59.9, "plus_5", at("06-02 10:00"), end("06-08")),
            ],
        ),
        (
            "103",
            [
                install(at("05-30 22:30"), end("06-01"), end_type=CANCELLED),
                install(at("06-06"), to_now=True, start_type=REACTIVATED),
            ],
            [
                subscription(49.9, "regular_1", at("05-30 22:30"), end("06-01")),
                subscription(49.9, "regular_1", at("06-06")),
            ],
        ),
        (
            "104",
            [install(at("06-03"), end("06-07"), end_type=CANCELLED)],
            [subscription(19.9, "regular_1", at("06-03"), end("06-07"))],
        ),
        ("105", [install(at("06-04"), end("06-07"), end_type=CLOSED)], []),
        ("106", list(reversed(NEW_106)), [subscription(10, "regular_1", at("06-15"))]),
        ("107", '[{"toNow": true, "startType": null, "fromDate": "2022-06-01 00:00:00.000000"', []),
        (
            "108",
            [
                install(at("06-08"), "2022-07-01 23:59:59.999000", end_type=CANCELLED),
                install(at("06-20"), to_now=True, start_type=REACTIVATED),
            ],
            [subscription(15.5, "regular_1", at("06-08"), "2022-07-01 23:59:59.999000")],
        ),
        (
            "109",
            [
                install(at("06-05 21:00"), "2022-06-06 20:59:59.999000"),
                install(at("06-06 21:00"), "2022-06-07 20:59:59.999000", start_type=REACTIVATED, end_type=CANCELLED),
                install(at("06-08 21:00"), "2022-06-09 20:59:59.999000", start_type=REOPENED, end_type=CLOSED),
            ],
            [],
        ),
    ],
    OLD: [
        (
            "101",
            [install(at("06-01"), end("06-03")), install(at("06-04"), start_type=REACTIVATED)],
            [subscription(49.9, "regular_1", at("06-01"))],
        ),
        (
            "102",
            [install(at("06-02"), to_now=True)],
            [
                subscription(29.9, "regular_1", at("06-02"), at("06-02 10:00")),
                subscription(59.9, "plus_5", at("06-02 10:00")),
            ],
        ),
        (
            "103",
            [install(at("05-30 22:30"), end("06-01"), end_type=CANCELLED)],
            [subscription(49.9, "regular_1", at("05-30 22:30"), end("06-01"))],
        ),
        ("104", [install(at("06-03"), to_now=True)], [subscription(19.9, "regular_1", at("06-03"))]),
        ("105", [install(at("06-04"), to_now=True)], []),
        ("106", OLD_106, []),
        ("107", [install(at("06-01"), to_now=True)], []),
    ],
}

TRANSACTION_HEADER = (
    "transaction_id, orderDate, branchId, branchName, customer_id, totalAmount, status, statusValue, product_id, price"
)
TRANSACTIONS = {  # lines 2.. of transaction.csv; orderDate in Asia/Tokyo
    NEW: [
        ("T1", "2022-06-10 10:00:00", "B1", "Centro", "C1", "20.00", "1", "Completed", "P1", "10.00"),
        ("T2", "2022-06-11 11:00:00", "B1", "Centro", "C2", "15.00", "0", "Cancelled", "P2", "15.00"),
        ("T3", "2022-06-12 09:00:00", "B1", "Centro SP", "C1", "30.00", "1", "Completed", "P2", "15.00"),  # warn
        ("T4", "2022-06-09 12:00:00", "B2", "Norte", "C3", "10.00", "1", "completed", "P1", "10.00"),  # warn: name
        ("T5", "2022-06-10 12:00:00", "B2", "Alpha Norte", "C3", "12.00", "1", "Pending", "P3", "4.00"),  # warn
        ("T6", "2022-06-13 08:00:00", "B3", "Sul", "C4", "45.00", "1", "Completed", "P3", "15.00"),  # 06-12 23:00 UTC
        ("T7", "2022-06-13 09:30:00", "B3", "Sul", "C5", "99.00", "1", "Completed", "P1", "33.00"),  # 06-13 00:30 UTC
        ("T8", "2022-06-12 20:00:00", "B3", "Sul", "C4", "7.60", "1", "Completed", "P4", "2.50"),  # warn: a fee
        ("T9", "not a date", "B3", "Sul", "C5", "10.00", "1", "Completed", "P1", "10.00"),  # error: quarantined
        ("T10", "2022-06-14 10:00:00", "B4", "Leste", "C2", "5.00", "1", "Completed", "P4", "2.50"),  # after the run
    ],
    OLD: [
        ("O1", "2022-06-04 10:00:00", "B1", "Centro", "C1", "20.00", "1", "Completed", "P1", "10.00"),
        ("O2", "2022-06-05 10:00:00", "B2", "Norte", "C3", "10.00", "0", "Cancelled", "P1", "10.00"),
        ("O3", "2022-06-06 10:00:00", "B2", "Norte", "C2", "10.00", "1", "Completed", "P1", "10.00"),  # 06-06 01:00 UTC
    ],
}

CUSTOMERS = [  # NEW's customerdb.csv; OLD's has the first three (a file identical to another day's is not loaded)
    ("customer_id", "customer_name", "gender", "birthDate", "Region", "email"),
    ("C1", "Ana Souza", "F", "1990-01-02", "Sudeste", "ana.souza@example.com"),
    ("C2", "Bruno Lima", "M", "1985-05-06", "Sul", "bruno.lima@example.net"),
    ("C3", "Carla Dias", "F", "1979-11-30", "Nordeste", "carla.dias@example.org"),
    ("C4", "Davi Rocha", "M", "2000-02-29", "Norte", "davi.rocha@example.com"),
    ("C5", "Elis Melo", "F", "1995-07-15", "Centro-Oeste", "elis.melo@example.com"),
]
PRODUCTS = [  # NEW's product.csv; OLD's has the first three
    ("product_id", "name", "categoryId", "categoryName", "basePrice", "unit", "weight", "createdDate"),
    ("P1", "Café 500g", "10", "Bebidas", "12.50", "un", "0.500", "2021-01-01 00:00:00"),
    ("P2", "Arroz 5kg", "20", "Mercearia", "18.75", "un", "5.000", "2021-02-01 00:00:00"),
    ("P3", "Feijão 1kg", "20", "Mercearia", "5.00", "un", "1.000", "2021-03-01 00:00:00"),
    ("P4", "Sal 1kg", "20", "Mercearia", "3.125", "un", "1.000", "2021-04-01 00:00:00"),
]
PHONES = ("+5577127600", "+5511999990000")
CONVERSATIONS = {
    NEW: [
        ("message_id", "conversation_id", "store_id", "sender", "created_at", "message", "has_phone", "phone_info"),
        ("M1", "CV1", "101", "store", "2022-06-11 22:30:00", f"Meu telefone: {PHONES[0]}", "True", f"['{PHONES[0]}']"),
        ("M2", "CV1", "101", "support", "2022-06-12 08:00:00", f"Ligue {PHONES[1]}", "True", str(list(PHONES))),
        ("M3", "CV2", "103", "store", "2022-06-12 09:00:00", "Obrigado", "False", "[None]"),
        ("M4", "CV2", "103", "store", "2022-06-12 09:05:00", "Sem telefone", "True", "[None]"),  # warn: disagrees
    ],
    OLD: [
        ("message_id", "conversation_id", "store_id", "sender", "created_at", "message", "has_phone", "phone_info"),
        ("M0", "CV0", "102", "store", "2022-06-05 10:00:00", "Bom dia", "False", "[None]"),
    ],
}
ROWS_LOADED = {  # table: rows of OLD's and NEW's files
    "conversations": {OLD: 1, NEW: 4},
    "customers": {OLD: 3, NEW: 5},
    "products": {OLD: 3, NEW: 4},
    "stores": {OLD: 7, NEW: 9},
    "transactions": {OLD: 3, NEW: 10},
}
PERSONAL_VALUES = (
    *(row[1] for row in CUSTOMERS[1:]),
    *(row[5] for row in CUSTOMERS[1:]),
    *PHONES,
    "Meu telefone",
)


def write_csv(path: Path, rows: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def land(landing: Path) -> None:
    for day in (OLD, NEW):
        folder = landing / "subscriptions" / day.isoformat()
        folder.mkdir(parents=True)
        write_csv(
            folder / "dataset_sample.csv",
            [
                ("store_id", "installHistory", "subscriptionHistory"),
                *(
                    (store, cell if isinstance(cell, str) else json.dumps(cell), json.dumps(subscriptions))
                    for store, cell, subscriptions in STORES[day]
                ),
            ],
        )
        with (folder / "transaction.csv").open("w", newline="", encoding="utf-8") as handle:
            handle.write(TRANSACTION_HEADER + "\n")
            csv.writer(handle, lineterminator="\n").writerows(TRANSACTIONS[day])
        write_csv(folder / "customerdb.csv", CUSTOMERS if day == NEW else CUSTOMERS[:4])
        write_csv(folder / "product.csv", PRODUCTS if day == NEW else PRODUCTS[:4])
        write_csv(folder / "conversation.csv", CONVERSATIONS[day])


# -- the expected rows, computed by hand (UTC days; D is the run's date) -----------------------------------------------

# store_id, first_install_date, last_installed_date, lifespan_days, installed_days, install_periods, spells,
# is_installed, last_end_type
LIFESPAN = {
    NEW: [
        ("101", d("06-01"), None, 11, 12, 2, 1, True, None),  # 06-01..06-12 open: 12 - 1 = 11 days, 12 installed
        ("102", d("06-02"), d("06-09"), 7, 8, 2, 1, False, "unknown"),  # the period ending last has no endType
        ("103", d("05-31"), None, 12, 10, 2, 2, True, None),  # 05-31..06-02 (3) + 06-06..06-12 (7)
        ("104", d("06-03"), d("06-08"), 5, 6, 1, 1, False, "cancelled"),
        ("105", d("06-04"), d("06-08"), 4, 5, 1, 1, False, "closed"),
        ("106", d("06-01"), None, 11, 10, 37, 2, True, None),  # 06-01..06-07 (7) + 06-10..06-12 (3)
        ("108", d("06-08"), None, 4, 5, 1, 1, True, None),  # open to the end of D; the period from 06-20 unknown
        ("109", d("06-06"), d("06-09"), 3, 3, 3, 2, False, "closed"),  # 06-06..06-07 (touching) + 06-09
    ],  # 107: quarantined
    OLD: [
        ("101", d("06-01"), None, 4, 5, 2, 1, True, None),  # 06-01..06-05 open
        ("102", d("06-02"), None, 3, 4, 1, 1, True, None),
        ("103", d("05-31"), d("06-02"), 2, 3, 1, 1, False, "cancelled"),  # not yet reactivated
        ("104", d("06-03"), None, 2, 3, 1, 1, True, None),
        ("105", d("06-04"), None, 1, 2, 1, 1, True, None),
        ("106", d("06-01"), None, 4, 5, 30, 1, True, None),  # the 30th block ends after OLD: open
        ("107", d("06-01"), None, 4, 5, 1, 1, True, None),  # valid in OLD's file
    ],
}

ACTIVITY = {  # activity_date, active, new, reactivated, lost, cancelled, closed, unknown
    NEW: [
        (d("05-31"), 1, 1, 0, 0, 0, 0, 0),  # 103 (05-30 22:30 local is 05-31 01:30 UTC)
        (d("06-01"), 3, 2, 0, 0, 0, 0, 0),  # 101 and 106 start
        (d("06-02"), 4, 1, 0, 1, 1, 0, 0),  # 102 starts; 103's first spell ends, cancelled (installed on 06-02)
        (d("06-03"), 4, 1, 0, 0, 0, 0, 0),  # 104 starts; 103 gone
        (d("06-04"), 5, 1, 0, 0, 0, 0, 0),  # 105 starts
        (d("06-05"), 5, 0, 0, 0, 0, 0, 0),
        (d("06-06"), 7, 1, 1, 0, 0, 0, 0),  # 109 starts; 103 reactivated after 3 days without
        (d("06-07"), 7, 0, 0, 2, 1, 1, 0),  # 106's first spell ends (its 36th period, CLOSED), 109's (CANCELLED)
        (d("06-08"), 6, 1, 0, 2, 1, 1, 0),  # 108 starts; 104 cancelled and 105 closed the same day; 109 gone
        (d("06-09"), 5, 0, 1, 2, 0, 1, 1),  # 109 back for a day, then closed; 102 lost, unknown; 104, 105 gone
        (d("06-10"), 4, 0, 1, 0, 0, 0, 0),  # 106 reactivated; 102 gone
        (d("06-11"), 4, 0, 0, 0, 0, 0, 0),
        (d("06-12"), 4, 0, 0, 0, 0, 0, 0),  # 101, 103, 106, 108 installed at the end of D
    ],
    OLD: [
        (d("05-31"), 1, 1, 0, 0, 0, 0, 0),  # 103
        (d("06-01"), 4, 3, 0, 0, 0, 0, 0),  # 101, 106, 107
        (d("06-02"), 5, 1, 0, 1, 1, 0, 0),  # 102; 103 cancelled
        (d("06-03"), 5, 1, 0, 0, 0, 0, 0),  # 104; 103 gone
        (d("06-04"), 6, 1, 0, 0, 0, 0, 0),  # 105
        (d("06-05"), 6, 0, 0, 0, 0, 0, 0),
    ],
}

REVENUE = {  # revenue_date, new_subscriptions, booked_revenue, active_subscriptions, monthly_recurring_revenue
    NEW: [
        # in force: 103's first 05-31..06-02; 101's regular_1 06-01..06-05 (its own last day is 06-06 in UTC, but
        # plus_5 starts 06-06); 102's 29.9 never (59.9 starts the same day), 59.9 06-02..06-09; 104's 06-03..06-08;
        # 101's plus_5 and 103's second 06-06..; 108's 06-08.. (ends after the run: open); 106's from 06-15 unknown
        (d("05-31"), 1, D("49.9"), 1, D("49.9")),  # 103
        (d("06-01"), 1, D("49.9"), 2, D("99.8")),  # + 101 regular_1
        (d("06-02"), 2, D("89.8"), 3, D("159.7")),  # 102 books 29.9 + 59.9; 59.9 in force
        (d("06-03"), 1, D("19.9"), 3, D("129.7")),  # + 104, - 103's first: 49.9 + 59.9 + 19.9
        (d("06-04"), 0, D("0"), 3, D("129.7")),
        (d("06-05"), 0, D("0"), 3, D("129.7")),
        (d("06-06"), 2, D("149.8"), 4, D("229.6")),  # 101 plus_5 99.9 replaces 49.9; 103 again 49.9
        (d("06-07"), 0, D("0"), 4, D("229.6")),
        (d("06-08"), 1, D("15.5"), 5, D("245.1")),  # + 108
        (d("06-09"), 0, D("0"), 4, D("225.2")),  # - 104 (last day 06-08)
        (d("06-10"), 0, D("0"), 3, D("165.3")),  # - 102 (last day 06-09): 99.9 + 49.9 + 15.5
        (d("06-11"), 0, D("0"), 3, D("165.3")),
        (d("06-12"), 0, D("0"), 3, D("165.3")),
    ],
    OLD: [
        (d("05-31"), 1, D("49.9"), 1, D("49.9")),
        (d("06-01"), 1, D("49.9"), 2, D("99.8")),  # 101's regular_1, open in OLD's file
        (d("06-02"), 2, D("89.8"), 3, D("159.7")),
        (d("06-03"), 1, D("19.9"), 3, D("129.7")),  # 101, 102's 59.9, 104 (all open)
        (d("06-04"), 0, D("0"), 3, D("129.7")),
        (d("06-05"), 0, D("0"), 3, D("129.7")),
    ],
}

BRANCHES = {  # branch_id, branch_name, branch_names, revenue, transactions, customers, products, completed_share
    NEW: [
        ("B1", "Centro", 2, D("50.00"), 3, 2, 2, D("0.6667")),  # Centro 2x, Centro SP 1x; 20 + 30 completed of 3
        ("B2", "Alpha Norte", 2, D("10.00"), 2, 1, 2, D("0.5000")),  # a tie: the smallest; 'completed' counts
        ("B3", "Sul", 1, D("52.60"), 2, 1, 2, D("1.0000")),  # T6 (06-12 23:00 UTC) + T8 (7.60); not T7 nor T9
    ],  # B4: nothing before the end of the run
    OLD: [
        ("B1", "Centro", 1, D("20.00"), 1, 1, 1, D("1.0000")),
        ("B2", "Norte", 1, D("0"), 1, 1, 1, D("0.0000")),  # O3 (06-06 01:00 UTC) is after OLD
    ],
}

STORE_EXCEPTIONS = {  # NEW's stores file: line, rule, severity
    (2, "install_period_end_inconsistent", "warn"),  # 101's second period: toNow false, no toDate (open)
    (8, "installhistory_is_json_array", "error"),  # 107: cut short
}
TRANSACTION_EXCEPTIONS = {  # NEW's transaction.csv: line, rule, severity
    (4, "branch_name_is_the_branchs", "warn"),  # T3 Centro SP
    (5, "branch_name_is_the_branchs", "warn"),  # T4 Norte (Alpha Norte wins the tie)
    (6, "status_matches_status_value", "warn"),  # T5: status 1, Pending
    (9, "total_amount_multiple_of_price", "warn"),  # T8: 7.60 for 2.50 a unit
    (10, "order_date_is_timestamp", "error"),  # T9
}

MARTS = {  # mart: its columns after as_of_date, in order
    "store_lifespan": "store_id, first_install_date, last_installed_date, lifespan_days, installed_days,"
    " install_periods, spells, is_installed, last_end_type",
    "store_activity_daily": "activity_date, active_stores, new_stores, reactivated_stores, lost_stores, cancelled,"
    " closed, unknown",
    "subscription_revenue_daily": "revenue_date, new_subscriptions, booked_revenue, active_subscriptions,"
    " monthly_recurring_revenue",
    "branch_performance": "branch_id, branch_name, branch_names, revenue, transactions, customers, products,"
    " completed_share",
}
EXPECTED = {
    "store_lifespan": LIFESPAN,
    "store_activity_daily": ACTIVITY,
    "subscription_revenue_daily": REVENUE,
    "branch_performance": BRANCHES,
}


# -- the runs ---------------------------------------------------------------------------------------------------------


def run_day(built: ModuleWarehouse, day: date) -> None:
    """subscriptions_daily's steps for `day`: load, validate every table (without the error-share verdict: the
    hand-made files are mostly special cases), dbt build of the tag."""
    load_partition("subscriptions", day, built.landing)
    source = get_source("subscriptions")
    for table in source.tables:
        validate_table(source, table, day)
    dates = json.dumps({"run_date": day.isoformat(), "data_interval_end": (day + timedelta(days=1)).isoformat()})
    result = built.run_dbt("build", "--select", "tag:subscriptions", vars=dates, extra_env=ZONES)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def query(sql: str, params: dict | None = None) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(sql, params).fetchall()


def mart_rows(relation: str, day: date) -> list[tuple]:
    mart = relation.removesuffix("_current")
    return query(f"select {MARTS[mart]} from marts.{relation} where as_of_date = %(day)s order by 1", {"day": day})


@pytest.fixture(scope="module")
def built(module_warehouse: ModuleWarehouse) -> ModuleWarehouse:
    land(module_warehouse.landing)
    run_day(module_warehouse, NEW)
    run_day(module_warehouse, OLD)  # an older date after the newer one
    return module_warehouse


# -- the tests --------------------------------------------------------------------------------------------------------


def test_every_file_loads(built: ModuleWarehouse) -> None:
    rows = query(
        "select partition_date, table_name, status, rows_loaded from audit.load_log"
        " where source = 'subscriptions' order by 1, 2"
    )
    assert rows == [
        (day, table, "loaded", loaded[day]) for day in (OLD, NEW) for table, loaded in sorted(ROWS_LOADED.items())
    ]


def test_malformed_json_is_an_error_of_its_store_only(built: ModuleWarehouse) -> None:
    exceptions = query(
        "select table_name, source_file, source_row, rule, severity from audit.dq_exceptions"
        " where source = 'subscriptions' and partition_date = %(day)s and table_name in ('stores', 'transactions')",
        {"day": NEW},
    )
    transactions_file = f"subscriptions/{NEW}/transaction.csv"
    assert sorted(exceptions) == sorted(
        [("stores", stores_file(NEW), *exception) for exception in STORE_EXCEPTIONS]
        + [("transactions", transactions_file, *exception) for exception in TRANSACTION_EXCEPTIONS]
    )
    assert query(
        "select count(*) from audit.dq_exceptions where partition_date = %(day)s and table_name = 'stores'",
        {"day": OLD},
    ) == [(1,)]  # 101's open period without toDate: a warning
    # 107 is in NEW's raw table, and nowhere after it; OLD's (valid) 107 is
    assert query(
        "select _source_row from raw_subscriptions.stores where _partition_date = %(day)s and store_id = '107'",
        {"day": NEW},
    ) == [(8,)]
    for relation, column in (
        ("staging.stg_subscriptions__install_periods", "partition_date"),
        ("staging.stg_subscriptions__subscription_periods", "partition_date"),
        ("intermediate.int_subscriptions__install_spells", "as_of_date"),
        ("marts.store_lifespan", "as_of_date"),
    ):
        found = query(f"select {column}, count(*) from {relation} where store_id = '107' group by 1")
        assert found == ([(OLD, 1)] if "subscription_periods" not in relation else []), relation


def test_periods_are_parsed_into_utc(built: ModuleWarehouse) -> None:
    rows = query(
        "select store_id, period_index, from_at, to_at, to_now, start_type, end_type, source_file, source_row"
        " from staging.stg_subscriptions__install_periods where partition_date = %(day)s and store_id in ('103', '108')"
        " order by 1, 2",
        {"day": NEW},
    )
    assert rows == [
        # 2022-05-30 22:30 in São Paulo (UTC-3) is 2022-05-31 01:30 UTC; 23:59:59.999 is 02:59:59.999 the next day
        ("103", 1, datetime(2022, 5, 31, 1, 30, tzinfo=UTC), datetime(2022, 6, 2, 2, 59, 59, 999000, tzinfo=UTC),
         False, None, "CUSTOMER_CANCELLED", stores_file(NEW), 4),
        ("103", 2, datetime(2022, 6, 6, 3, tzinfo=UTC), None, True, "CUSTOMER_REACTIVATED", None, stores_file(NEW), 4),
        ("108", 1, datetime(2022, 6, 8, 3, tzinfo=UTC), datetime(2022, 7, 2, 2, 59, 59, 999000, tzinfo=UTC),
         False, None, "CUSTOMER_CANCELLED", stores_file(NEW), 9),
        ("108", 2, datetime(2022, 6, 20, 3, tzinfo=UTC), None, True, "CUSTOMER_REACTIVATED", None, stores_file(NEW), 9),
    ]  # fmt: skip
    counts = query(
        "select partition_date, count(*), count(distinct store_id) from staging.stg_subscriptions__install_periods"
        " group by 1 order by 1"
    )
    assert counts == [(OLD, 2 + 1 + 1 + 1 + 1 + 30 + 1, 7), (NEW, 2 + 2 + 2 + 1 + 1 + 37 + 2 + 3, 8)]
    # 106's periods were written newest first: the array's order is kept, the spells do not depend on it
    assert query(
        "select period_index, from_at from staging.stg_subscriptions__install_periods"
        " where partition_date = %(day)s and store_id = '106' and period_index in (1, 37) order by 1",
        {"day": NEW},
    ) == [(1, datetime(2022, 6, 10, 3, tzinfo=UTC)), (37, datetime(2022, 6, 1, 3, tzinfo=UTC))]
    subscriptions = query(
        "select store_id, period_index, from_at, to_at, price, plan_name, billing_on_at"
        " from staging.stg_subscriptions__subscription_periods where partition_date = %(day)s and store_id = '102'"
        " order by 2",
        {"day": NEW},
    )
    assert subscriptions == [
        ("102", 1, datetime(2022, 6, 2, 3, tzinfo=UTC), datetime(2022, 6, 2, 13, tzinfo=UTC), D("29.9"), "regular_1",
         None),
        ("102", 2, datetime(2022, 6, 2, 13, tzinfo=UTC), datetime(2022, 6, 9, 2, 59, 59, 999000, tzinfo=UTC), D("59.9"),
         "plus_5", None),
    ]  # fmt: skip


def test_install_spells(built: ModuleWarehouse) -> None:
    rows = query(
        "select store_id, spell_number, first_day, last_day, spell_days, install_periods, is_open, is_first_spell,"
        " is_last_spell, end_type from intermediate.int_subscriptions__install_spells where as_of_date = %(day)s"
        " order by 1, 2",
        {"day": NEW},
    )
    assert rows == [
        ("101", 1, d("06-01"), d("06-12"), 12, 2, True, True, True, None),  # touching periods: one spell
        ("102", 1, d("06-02"), d("06-09"), 8, 2, False, True, True, "unknown"),  # overlapping periods: one spell
        ("103", 1, d("05-31"), d("06-02"), 3, 1, False, True, False, "cancelled"),
        ("103", 2, d("06-06"), d("06-12"), 7, 1, True, False, True, None),  # after a gap of 3 days
        ("104", 1, d("06-03"), d("06-08"), 6, 1, False, True, True, "cancelled"),
        ("105", 1, d("06-04"), d("06-08"), 5, 1, False, True, True, "closed"),
        ("106", 1, d("06-01"), d("06-07"), 7, 36, False, True, False, "closed"),  # 36 touching blocks
        ("106", 2, d("06-10"), d("06-12"), 3, 1, True, False, True, None),
        ("108", 1, d("06-08"), d("06-12"), 5, 1, True, True, True, None),  # ends after the run: open
        ("109", 1, d("06-06"), d("06-07"), 2, 2, False, True, False, "cancelled"),  # touching at UTC-day grain
        ("109", 2, d("06-09"), d("06-09"), 1, 1, False, False, True, "closed"),  # after one day without
    ]


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_hold_each_dates_own_rows(built: ModuleWarehouse, mart: str) -> None:
    for day in (NEW, OLD):
        assert mart_rows(mart, day) == EXPECTED[mart][day], (mart, day)
    assert query(f"select distinct as_of_date from marts.{mart} order by 1") == [(OLD,), (NEW,)]


@pytest.mark.parametrize("mart", list(MARTS))
def test_current_views_show_the_latest_date(built: ModuleWarehouse, mart: str) -> None:
    # OLD ran last, NEW is the latest as_of_date
    assert query(f"select distinct as_of_date from marts.{mart}_current") == [(NEW,)]
    assert mart_rows(f"{mart}_current", NEW) == EXPECTED[mart][NEW]


def test_other_staging_models(built: ModuleWarehouse) -> None:
    messages = query(
        "select message_id, created_at, has_phone, phone_count from staging.stg_subscriptions__conversations"
        " where partition_date = %(day)s order by 1",
        {"day": NEW},
    )
    assert messages == [
        ("M1", datetime(2022, 6, 12, 1, 30, tzinfo=UTC), True, 1),  # 22:30 in São Paulo on 06-11
        ("M2", datetime(2022, 6, 12, 11, tzinfo=UTC), True, 2),
        ("M3", datetime(2022, 6, 12, 12, tzinfo=UTC), False, 0),  # [None]
        ("M4", datetime(2022, 6, 12, 12, 5, tzinfo=UTC), True, 0),  # has_phone disagrees: a warning, kept
    ]
    orders = query(
        "select transaction_id, order_at, is_completed from staging.stg_subscriptions__transactions"
        " where partition_date = %(day)s and transaction_id in ('T4', 'T5', 'T6', 'T9') order by 1",
        {"day": NEW},
    )
    assert orders == [
        ("T4", datetime(2022, 6, 9, 3, tzinfo=UTC), True),  # 'completed': the text is the truth
        ("T5", datetime(2022, 6, 10, 3, tzinfo=UTC), False),  # status 1 but Pending
        ("T6", datetime(2022, 6, 12, 23, tzinfo=UTC), True),  # 2022-06-13 08:00 in Tokyo
    ]  # T9: quarantined
    products = query(
        "select product_id, base_price, created_at from staging.stg_subscriptions__products"
        " where partition_date = %(day)s order by 1 limit 1",
        {"day": NEW},
    )
    assert products == [("P1", D("12.50"), datetime(2021, 1, 1, 3, tzinfo=UTC))]
    assert query(
        "select customer_id, gender, region from staging.stg_subscriptions__customers where partition_date = %(day)s"
        " order by 1 limit 2",
        {"day": NEW},
    ) == [("C1", "F", "Sudeste"), ("C2", "M", "Sul")]


def test_no_personal_data_after_raw(built: ModuleWarehouse) -> None:
    relations = [
        *(f"staging.stg_subscriptions__{name}" for name in ("install_periods", "subscription_periods", "transactions")),
        *(f"staging.stg_subscriptions__{name}" for name in ("customers", "products", "conversations")),
        "intermediate.int_subscriptions__install_spells",
        *(f"marts.{mart}{suffix}" for mart in MARTS for suffix in ("", "_current")),
    ]
    personal = {"customer_name", "birthdate", "email", "phone_info", "message"}
    with warehouse.connect() as conn:
        for relation in relations:
            schema, name = relation.split(".")
            columns = conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                (schema, name),
            ).fetchall()
            assert columns and not personal & {column for (column,) in columns}, relation
            text = conn.execute(f"select string_agg(t::text, '|') from {relation} as t").fetchone()[0]
            assert text and not [value for value in PERSONAL_VALUES if value in text], relation


def snapshot() -> dict[str, list[dict]]:
    """What the runs made: every mart, intermediate and staging row, and the exceptions (but for the run ids)."""
    relations = [
        *(f"marts.{mart}" for mart in MARTS),
        *(f"marts.{mart}_current" for mart in MARTS),
        "intermediate.int_subscriptions__install_spells",
        "staging.stg_subscriptions__install_periods",
        "staging.stg_subscriptions__subscription_periods",
    ]
    with warehouse.connect() as conn:
        conn.row_factory = psycopg.rows.dict_row
        found = {
            relation: conn.execute(f"select * from {relation} order by 1, 2, 3").fetchall() for relation in relations
        }
        found["exceptions"] = conn.execute(
            "select table_name, partition_date, source_file, source_row, column_name, rule, severity, bad_value"
            " from audit.dq_exceptions order by 1, 2, 3, 4, 6"
        ).fetchall()
    return found


def test_a_rerun_changes_nothing(built: ModuleWarehouse) -> None:
    before = snapshot()
    assert all(before.values())
    run_day(built, NEW)
    assert snapshot() == before
