"""The vouchers dbt models against a real Postgres, on a small hand-made input with hand-computed marts.

The raw rows (table RAW below) cover the segment boundaries (total_orders 4/5, 13/14, 37/38; recency
30/31 and 180/181 days), a tie between two amounts, an empty and a junk total_orders, an unparseable
date, a null amount, a row with an `error` exception (quarantined), a row with a `warn` exception (kept),
an `error` exception of another source on the same file and row (ignored) and a row assigned after
the as-of date. The scenario follows Airflow: run 2018-07-20 (first run: staging reads every
partition), load partition 2018-07-22, run 2018-07-22 twice, then backfill 2018-07-21.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from elt.config import DBT_PROJECT_DIR
from elt.generate import generate
from elt.warehouse import ServerParams

DBT = Path(sys.executable).parent / "dbt"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in the project's venv")

F20 = "vouchers/2018-07-20/vouchers.csv"
F21 = "vouchers/2018-07-21/vouchers.parquet"
F22 = "vouchers/2018-07-22/vouchers.csv"

# (partition file, source_row, timestamp, country_code, last_order_ts, total_orders, voucher_amount)
# Days since the last order are given for as_of 2018-07-21 / 2018-07-22.
RAW = [
    # partition 2018-07-20
    (F20, 1, "2018-07-20 10:00:00.5", "Peru", "2018-06-21", "4.0", "2640"),  # 30/31 days, 0-4
    (F20, 2, "2018-07-20 11:00:00", "Peru", "2018-06-20", "5", "2640.0"),  # 31/32 days, 5-13
    (F20, 3, "2018-07-20 12:00:00", "Peru", "2018-06-20 00:00:00", "13.0", "1000"),  # 31/32 days, 5-13
    (F20, 4, "2018-07-20 13:00:00", "Peru", "2018-06-21", "14.0", "1000"),  # 30/31 days, 13-37
    (F20, 5, "2018-07-20 14:00:00", "Peru", "2018-01-21", "37.0", "2640"),  # 181/182 days, 13-37
    (F20, 6, "2018-07-20 15:00:00", "Peru", "2018-01-22", "38.0", "3000"),  # 180/181 days, 37+
    (F20, 7, "2018-07-20 16:00:00", "Peru", "2018-06-21", "", "3000"),  # 30/31 days, empty total_orders
    # partition 2018-07-21
    (F21, 1, "2018-07-21 23:59:59.999999", "Peru", "2018-07-01", "20", "2640"),  # 20/21 days, 13-37
    (F21, 2, "2018-07-22 00:00:00", "Peru", "2018-07-21", "1", "5000"),  # after as_of 2018-07-21; 1 day, 0-4
    (F21, 3, "2018-07-21 08:00:00", "China", "2018-07-20", "3.0", "100"),  # `error` exception: quarantined
    (F21, 4, "2018-07-21 09:00:00", " China ", "2018-07-10", "2", "500"),  # `warn` exception: kept; 11/12 days
    (F21, 5, "2018-07-21 10:00:00", "Latvia", "not-a-date", "0.0", "750"),  # no recency; 0-4
    (F21, 6, "2018-07-21 11:00:00", "Latvia", "2018-07-20", "3.5", "750"),  # 1/2 days; junk total_orders
    (F21, 7, "2018-07-21 12:00:00", "Latvia", "2018-07-21", "-5", "200"),  # 0/1 days; -5 is in no frequent segment
    (F21, 8, "2018-07-21 13:00:00", "Latvia", "2018-07-20", "1", None),  # null amount: left out of the mart
    (F21, 9, "2018-02-30 10:00:00", "Latvia", "2018-07-20", "1", "750"),  # no such date: assigned_at null, left out
    # partition 2018-07-22 (loaded after the first run)
    (F22, 1, "2018-07-22 09:00:00", "Peru", "2018-07-15", "6", "2640"),  # 7 days on 2018-07-22, 5-13
]

PARTITION = {F20: "2018-07-20", F21: "2018-07-21", F22: "2018-07-22"}
BATCH = {F20: 1, F21: 2, F22: 3}

# (source, source_file, source_row, severity)
EXCEPTIONS = [
    ("vouchers", F21, 3, "error"),  # China 100: quarantined
    ("vouchers", F21, 3, "warn"),
    ("vouchers", F21, 4, "warn"),  # China 500: passes
    ("thelook", F20, 1, "error"),  # another source's exception on the same file/row: Peru row 1 stays
]


def d(value: str) -> Decimal:
    return Decimal(value)


# as_of 2018-07-21: every row assigned before 2018-07-22 (not F21 row 2, not F22), without F21 rows 3 (quarantined),
# 8 (null amount) and 9 (unparseable timestamp).
EXPECTED_0721 = [
    # China: only row 4 (500); the quarantined row 3 (100, 3 orders, 1 day) would make both 100 (tie) of 2.
    ("China", "frequent_segment", "0-4", d("500"), 1, 1),
    ("China", "recency_segment", "0-30", d("500"), 1, 1),  # 11 days
    # Latvia: row 5 (0 orders -> 0-4); row 6 (3.5) and row 7 (-5) are in no frequent segment.
    ("Latvia", "frequent_segment", "0-4", d("750"), 1, 1),
    # recency: row 6 (750, 1 day) and row 7 (200, 0 days) tie: the smaller amount; row 5 has no last order date.
    ("Latvia", "recency_segment", "0-30", d("200"), 1, 2),
    # Peru frequent: 0-4 = row 1 (4 orders).
    ("Peru", "frequent_segment", "0-4", d("2640"), 1, 1),
    # 5-13 = rows 2 (5 orders, 2640.0) and 3 (13 orders, 1000): tie -> 1000.
    ("Peru", "frequent_segment", "5-13", d("1000"), 1, 2),
    # 13-37 = rows 4 (14, 1000), 5 (37, 2640), F21 row 1 (20, 2640, 23:59:59.999999 still counts).
    ("Peru", "frequent_segment", "13-37", d("2640"), 2, 3),
    ("Peru", "frequent_segment", "37+", d("3000"), 1, 1),  # row 6 (38 orders)
    # recency 0-30 = rows 1 (30 d, 2640), 4 (30 d, 1000), 7 (30 d, 3000, empty total_orders), F21 row 1 (20 d, 2640).
    ("Peru", "recency_segment", "0-30", d("2640"), 2, 4),
    ("Peru", "recency_segment", "30-60", d("1000"), 1, 2),  # rows 2 (31 d, 2640), 3 (31 d, 1000): tie
    ("Peru", "recency_segment", "120-180", d("3000"), 1, 1),  # row 6 (180 d)
    ("Peru", "recency_segment", "180+", d("2640"), 1, 1),  # row 5 (181 d)
]

# as_of 2018-07-22: also F21 row 2 (Peru, 1 order, 5000, 1 day) and F22 row 1 (Peru, 6 orders, 2640, 7 days);
# every recency is one day longer.
EXPECTED_0722 = [
    ("China", "frequent_segment", "0-4", d("500"), 1, 1),
    ("China", "recency_segment", "0-30", d("500"), 1, 1),  # 12 days
    ("Latvia", "frequent_segment", "0-4", d("750"), 1, 1),
    ("Latvia", "recency_segment", "0-30", d("200"), 1, 2),  # 2 days (750) and 1 day (200): tie
    ("Peru", "frequent_segment", "0-4", d("2640"), 1, 2),  # row 1 (2640) and F21 row 2 (5000): tie
    ("Peru", "frequent_segment", "5-13", d("2640"), 2, 3),  # rows 2 (2640), 3 (1000), F22 row 1 (2640)
    ("Peru", "frequent_segment", "13-37", d("2640"), 2, 3),  # unchanged
    ("Peru", "frequent_segment", "37+", d("3000"), 1, 1),
    # 0-30 = F21 row 1 (21 d, 2640), F21 row 2 (1 d, 5000), F22 row 1 (7 d, 2640)
    ("Peru", "recency_segment", "0-30", d("2640"), 2, 3),
    # 30-60 = rows 1 (31 d, 2640), 2 (32 d, 2640), 3 (32 d, 1000), 4 (31 d, 1000), 7 (31 d, 3000): 2 vs 2 -> 1000
    ("Peru", "recency_segment", "30-60", d("1000"), 2, 5),
    # 180+ = rows 5 (182 d, 2640) and 6 (181 d, 3000): tie -> 2640; 120-180 is empty now
    ("Peru", "recency_segment", "180+", d("2640"), 1, 2),
]

# as_of 2018-07-20: rows of F20 only (all Peru); every recency is one day shorter than on 2018-07-21.
EXPECTED_0720 = [
    ("Peru", "frequent_segment", "0-4", d("2640"), 1, 1),  # row 1
    ("Peru", "frequent_segment", "5-13", d("1000"), 1, 2),  # rows 2 (2640), 3 (1000): tie
    ("Peru", "frequent_segment", "13-37", d("1000"), 1, 2),  # rows 4 (1000), 5 (2640): tie
    ("Peru", "frequent_segment", "37+", d("3000"), 1, 1),  # row 6
    # 0-30 = rows 1, 4, 7 (29 d: 2640, 1000, 3000) and 2, 3 (30 d: 2640, 1000): 2640 and 1000 twice -> 1000
    ("Peru", "recency_segment", "0-30", d("1000"), 2, 5),
    # 120-180 = rows 5 (180 d, 2640) and 6 (179 d, 3000): tie -> 2640
    ("Peru", "recency_segment", "120-180", d("2640"), 1, 2),
]


def insert_partition(conn: psycopg.Connection, source_file: str) -> None:
    day = PARTITION[source_file]
    stamp = day.replace("-", "")
    conn.execute(
        f"create table if not exists raw_vouchers.voucher_assignments_p{stamp} "
        f"partition of raw_vouchers.voucher_assignments for values in ('{day}')"
    )
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into raw_vouchers.voucher_assignments
                ("timestamp", country_code, last_order_ts, total_orders, voucher_amount, first_order_ts,
                 _batch_id, _source_file, _source_row, _partition_date, _loaded_at)
            values (%s, %s, %s, %s, %s, '2017-05-01', %s, %s, %s, %s, %s::date + interval '1 day 1 hour')
            """,
            [
                (ts, country, last, total, amount, BATCH[file], file, row, day, day)
                for file, row, ts, country, last, total, amount in RAW
                if file == source_file
            ],
        )
        # the batch was validated (staging reads only validated batches) and these are its exceptions
        cur.execute(
            "insert into audit.dq_runs (source, table_name, partition_date, batch_id, suite, rows_checked,"
            " error_rows, warn_rows, success, started_at, finished_at)"
            " values ('vouchers', 'voucher_assignments', %s, %s, 'hand-made', 0, 0, 0, true, now(), now())",
            (day, BATCH[source_file]),
        )
        cur.executemany(
            """
            insert into audit.dq_exceptions (run_id, source, table_name, partition_date, batch_id, source_file,
                source_row, record_key, column_name, rule, severity, bad_value, message, detected_at)
            values (1, %s, %s, %s, %s, %s, %s, null, 'voucher_amount', 'test_rule', %s, 'x', 'hand-made', now())
            """,
            [
                (source, "voucher_assignments" if source == "vouchers" else "users", day, BATCH[file], file, row, sev)
                for source, file, row, sev in EXCEPTIONS
                if file == source_file
            ],
        )


def build(run_dbt: Callable[..., subprocess.CompletedProcess], run_date: str, data_interval_end: str) -> None:
    result = run_dbt(
        "build",
        "--select",
        "tag:vouchers",
        vars=f"{{run_date: '{run_date}', data_interval_end: '{data_interval_end}'}}",
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def most_used_voucher(conn: psycopg.Connection, *args: object) -> Decimal | None:
    """marts.most_used_voucher(country_code, last_order_ts, total_orders, segment_type, as_of)."""
    sql = "select marts.most_used_voucher(%s, %s::timestamp, %s, %s, %s::date)"
    return conn.execute(sql, args).fetchone()[0]


SEGMENT_ORDER = ["0-4", "5-13", "13-37", "37+", "0-30", "30-60", "60-90", "90-120", "120-180", "180+"]


def mart(conn: psycopg.Connection, as_of: str) -> list[tuple]:
    """The mart rows of one as_of_date, in the order of the EXPECTED lists."""
    rows = conn.execute(
        "select country_code, segment_type, segment, voucher_amount, assignments, segment_assignments"
        " from marts.voucher_most_used where as_of_date = %s",
        (as_of,),
    ).fetchall()
    return sorted(rows, key=lambda r: (r[0], r[1], SEGMENT_ORDER.index(r[2])))


def test_voucher_marts(warehouse_params: ServerParams, run_dbt: Callable[..., subprocess.CompletedProcess]) -> None:
    params = warehouse_params
    with psycopg.connect(params.libpq_url(), autocommit=True) as conn:
        insert_partition(conn, F20)
        insert_partition(conn, F21)

        # First run (2018-07-20): the staging table does not exist yet, so it reads every raw partition.
        build(run_dbt, "2018-07-20", "2018-07-21")
        staged = conn.execute(
            "select partition_date::text, count(*) from staging.stg_vouchers__voucher_assignments group by 1 order by 1"
        ).fetchall()
        assert staged == [("2018-07-20", 7), ("2018-07-21", 8)]  # F21 row 3 quarantined

        # Typed and trimmed staging values.
        row = conn.execute(
            """
            select assigned_at::text, country_code, last_order_at::text, last_order_date::text,
                   first_order_at::text, total_orders, voucher_amount, batch_id
            from staging.stg_vouchers__voucher_assignments where source_file = %s and source_row = 4
            """,
            (F21,),
        ).fetchone()
        # ' China ' trimmed; '2018-07-10' as a timestamp and a date; first_order_ts '2017-05-01' (set for every row)
        assert row == (
            "2018-07-21 09:00:00",
            "China",
            "2018-07-10 00:00:00",
            "2018-07-10",
            "2017-05-01 00:00:00",
            2,
            500,
            2,
        )
        junk = conn.execute(
            """
            select source_row, assigned_at, last_order_date, total_orders, voucher_amount::text
            from staging.stg_vouchers__voucher_assignments
            where source_file = %s and source_row in (5, 6, 7, 8, 9) order by source_row
            """,
            (F21,),
        ).fetchall()
        assert [(r[0], r[2] is None, r[3], r[4]) for r in junk] == [
            (5, True, 0, "750"),  # 'not-a-date' -> null; '0.0' -> 0
            (6, False, None, "750"),  # '3.5' -> null
            (7, False, -5, "200"),  # '-5' kept as -5 (validation flags it, the cast does not)
            (8, False, 1, None),  # null amount
            (9, False, 1, "750"),
        ]
        assert junk[4][1] is None  # '2018-02-30 10:00:00' -> null, no error
        amounts = conn.execute(
            "select voucher_amount::text from staging.stg_vouchers__voucher_assignments "
            "where source_file = %s and source_row = 2",
            (F20,),
        ).fetchone()
        assert amounts == ("2640",)  # '2640.0' normalised

        assert mart(conn, "2018-07-20") == EXPECTED_0720

        # Partition 2018-07-22 lands; its run stages only that partition: a (deliberate) change to raw
        # partition 2018-07-20 is not seen by it.
        insert_partition(conn, F22)
        conn.execute(
            "update raw_vouchers.voucher_assignments set voucher_amount = '9999' where _source_file = %s", (F20,)
        )
        build(run_dbt, "2018-07-22", "2018-07-23")
        assert conn.execute(
            "select count(*) from staging.stg_vouchers__voucher_assignments where voucher_amount = 9999"
        ).fetchone() == (0,)
        first = mart(conn, "2018-07-22")
        assert first == EXPECTED_0722
        staged = conn.execute(
            "select partition_date::text, count(*) from staging.stg_vouchers__voucher_assignments group by 1 order by 1"
        ).fetchall()
        assert staged == [("2018-07-20", 7), ("2018-07-21", 8), ("2018-07-22", 1)]

        # The same date twice: identical rows, no duplicates (staging and mart).
        build(run_dbt, "2018-07-22", "2018-07-23")
        assert mart(conn, "2018-07-22") == first
        assert conn.execute("select count(*) from staging.stg_vouchers__voucher_assignments").fetchone() == (16,)

        # An earlier date after a later one: 2018-07-21's own numbers; the other dates are untouched.
        build(run_dbt, "2018-07-21", "2018-07-22")
        assert mart(conn, "2018-07-21") == EXPECTED_0721
        assert mart(conn, "2018-07-22") == EXPECTED_0722
        assert mart(conn, "2018-07-20") == EXPECTED_0720
        assert conn.execute("select count(*) from staging.stg_vouchers__voucher_assignments").fetchone() == (16,)
        assert conn.execute(
            "select array_agg(distinct as_of_date::text order by as_of_date::text) from marts.voucher_most_used"
        ).fetchone() == (["2018-07-20", "2018-07-21", "2018-07-22"],)

        # 2018-07-21's counts keep F21 row 2 (assigned on 2018-07-22) waiting, with its recency on that day; made
        # again now that 2018-07-21 is current, 2018-07-22 comes from those counts and its own partition.
        waiting = conn.execute(
            "select country_code, voucher_amount, segment_type, segment_value, assignments"
            " from intermediate.int_voucher_assignment_values"
            " where as_of_date = '2018-07-21' and counts_from = '2018-07-22' order by segment_type"
        ).fetchall()
        assert waiting == [("Peru", 5000, "frequent_segment", 1, 1), ("Peru", 5000, "recency_segment", 1, 1)]
        build(run_dbt, "2018-07-22", "2018-07-23")
        assert mart(conn, "2018-07-22") == EXPECTED_0722

        # The schemas models land in.
        relations = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_name in ('stg_vouchers__voucher_assignments', 'voucher_segments', 'voucher_most_used')
            order by table_name
            """
        ).fetchall()
        assert relations == [
            ("staging", "stg_vouchers__voucher_assignments"),
            ("marts", "voucher_most_used"),
            ("staging", "voucher_segments"),
        ]

        # marts.most_used_voucher(country_code, last_order_ts, total_orders, segment_type, as_of)
        def most_used(*args: object) -> Decimal | None:
            return most_used_voucher(conn, *args)

        # 5 orders -> 5-13: 1000 on 2018-07-21 (tie), 2640 on 2018-07-22
        assert most_used("Peru", "2018-06-20 08:00", 5, "frequent_segment", "2018-07-21") == 1000
        assert most_used("Peru", "2018-06-20 08:00", 5, "frequent_segment", "2018-07-22") == 2640
        # no as_of_date after 2018-07-22: the latest on or before 2018-07-30 is 2018-07-22
        assert most_used("Peru", None, 13, "frequent_segment", "2018-07-30") == 2640
        # 38 orders -> 37+: 3000
        assert most_used(" Peru ", None, 38, "frequent_segment", "2018-07-21") == 3000
        # last order 2018-06-21 15:00: 30 days on 2018-07-21 (0-30 -> 2640), 31 on 2018-07-22 (30-60 -> 1000)
        assert most_used("Peru", "2018-06-21 15:00", None, "recency_segment", "2018-07-21") == 2640
        assert most_used("Peru", "2018-06-21 15:00", None, "recency_segment", "2018-07-22") == 1000
        # 181 days on 2018-07-21 -> 180+: 2640
        assert most_used("Peru", "2018-01-21", None, "recency_segment", "2018-07-21") == 2640
        # nothing on or before 2018-07-19; unknown country; segment not computable; no row for the segment
        assert most_used("Peru", None, 5, "frequent_segment", "2018-07-19") is None
        assert most_used("Atlantis", None, 5, "frequent_segment", "2018-07-21") is None
        assert most_used("Peru", None, None, "frequent_segment", "2018-07-21") is None
        assert most_used("Peru", "2018-07-01", None, "recency_segment", None) is None
        assert most_used("China", None, 40, "frequent_segment", "2018-07-21") is None
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="unknown segment_type"):
            most_used("Peru", None, 5, "monetary_segment", "2018-07-21")

        # Analysts (no access to staging, where the segment seed lives) can call it.
        with conn.transaction():
            conn.execute("set local role elt_analyst")
            assert most_used("Latvia", "2018-07-20", None, "recency_segment", "2018-07-21") == 200
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(*) from staging.voucher_segments")
                raise AssertionError("elt_analyst should not read staging")

    # The functions name no database in their stored bodies: a copy under another name (a restored dump, a renamed
    # database) answers the same.
    copy = warehouse_params.database(f"{warehouse_params.dbname}_copy")
    with psycopg.connect(warehouse_params.database("postgres").libpq_url(), autocommit=True) as admin:
        admin.execute(f'create database "{copy.dbname}" template "{warehouse_params.dbname}"')
        try:
            with psycopg.connect(copy.libpq_url()) as copied:
                assert (
                    most_used_voucher(copied, "Peru", "2018-06-20 08:00", 5, "frequent_segment", "2018-07-22") == 2640
                )
        finally:
            admin.execute(f'drop database "{copy.dbname}" with (force)')


def test_missing_run_date_is_a_clear_error(run_dbt: Callable[..., subprocess.CompletedProcess]) -> None:
    result = run_dbt("run", "--select", "tag:vouchers")
    assert result.returncode != 0
    assert "dbt var 'run_date' is missing" in result.stdout


def test_parse_needs_no_database_nor_vars(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ELT_PG_HOST": "no-such-host.invalid",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    result = subprocess.run(
        [str(DBT), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    tagged = {node["name"] for node in manifest["nodes"].values() if "vouchers" in node["tags"]}
    assert {"stg_vouchers__voucher_assignments", "voucher_most_used", "voucher_segments"} <= tagged


def test_partitions_committing_out_of_order_give_each_date_its_rows(
    landing: Path, run_partition: Callable[..., None], warehouse_params: ServerParams
) -> None:
    """A backfill running two dates at once can finish the later one first: the earlier partition's run must then
    remake the later date's rows, which were made without it; a re-run of unchanged files rewrites nothing else."""
    first, second = date(2019, 3, 1), date(2019, 3, 2)
    generate("vouchers", landing, first, 2, seed=3, rows_per_day=300)

    def rows(conn: psycopg.Connection, day: date) -> list[tuple]:
        return conn.execute(
            "select xmin::text, * from marts.voucher_most_used where as_of_date = %s order by 3, 4, 5", (day,)
        ).fetchall()

    run_partition("vouchers", second)
    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        alone = rows(conn, second)
    run_partition("vouchers", first)
    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        remade = rows(conn, second)
    run_partition("vouchers", first)  # the same files again
    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        assert rows(conn, second) == remade, "a re-run of unchanged files rewrote a later date"
    run_partition("vouchers", second)  # in order now: what the date gives when every earlier partition is in
    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        in_order = rows(conn, second)
    assert [row[1:] for row in remade] == [row[1:] for row in in_order]
    assert [row[1:-1] for row in alone] != [row[1:-1] for row in in_order], "the earlier partition changed nothing"


def expected_mart(conn: psycopg.Connection, as_of: date) -> list[tuple]:
    """voucher_most_used's rows for `as_of`, counted here from every staged assignment (the mart's definition)."""
    with (DBT_PROJECT_DIR / "seeds" / "voucher_segments.csv").open() as seed:
        segments = [
            (row["segment_type"], row["segment"], int(row["min_value"]), int(row["max_value"] or 10**9))
            for row in csv.DictReader(seed)
        ]
    counts: Counter[tuple] = Counter()
    staged = conn.execute(
        "select country_code, voucher_amount, total_orders, %s::date - last_order_date"
        " from staging.stg_vouchers__voucher_assignments"
        " where partition_date <= %s and assigned_at < %s::date + 1"
        " and country_code is not null and voucher_amount is not null",
        (as_of, as_of, as_of),
    ).fetchall()
    for country, amount, total_orders, days_since in staged:
        for segment_type, value in (("frequent_segment", total_orders), ("recency_segment", days_since)):
            for kind, segment, low, high in segments:
                if kind == segment_type and value is not None and low <= value <= high:
                    counts[(country, segment_type, segment, amount)] += 1
    rows = []
    for key in {key[:3] for key in counts}:
        amounts = {amount: n for (*segment_key, amount), n in counts.items() if tuple(segment_key) == key}
        top = min(amounts, key=lambda amount: (-amounts[amount], amount))
        rows.append((*key, top, amounts[top], sum(amounts.values())))
    return sorted(rows)


def test_daily_runs_make_their_date_from_the_day_before(
    landing: Path, run_partition: Callable[..., None], warehouse_params: ServerParams
) -> None:
    """A daily run makes its date from the day before's counts and its own partition, so its cost does not grow with
    history: the marts equal counts of every staged assignment, and older partitions are not read again."""
    start, days = date(2019, 5, 1), 4
    generate("vouchers", landing, start, days, seed=5, rows_per_day=400)
    for offset in range(days):
        run_partition("vouchers", start + timedelta(days=offset))

    def actual(conn: psycopg.Connection, day: date) -> list[tuple]:
        return sorted(
            conn.execute(
                "select country_code, segment_type, segment, voucher_amount, assignments, segment_assignments"
                " from marts.voucher_most_used where as_of_date = %s",
                (day,),
            ).fetchall()
        )

    last = start + timedelta(days=days - 1)
    with psycopg.connect(warehouse_params.libpq_url(), autocommit=True) as conn:
        for offset in range(days):
            day = start + timedelta(days=offset)
            assert actual(conn, day) == expected_mart(conn, day), day
        made = actual(conn, last)
        # not read again: the first partition's staged rows gone, the last date made again gives the same rows
        conn.execute("delete from staging.stg_vouchers__voucher_assignments where partition_date = %s", (start,))
    run_partition("vouchers", last)
    with psycopg.connect(warehouse_params.libpq_url()) as conn:
        assert actual(conn, last) == made
