"""subscriptions_daily end to end through `elt run`, years back and out of order: the newer day first, then the
older one, which must give its own numbers. Every step does its work (files loaded, validated, parsed, in the marts),
and the marts agree with the files read here with Python's own parsers. Hand-computed rows of every mart are in
tests/integration/test_dbt_subscriptions.py; the suites' rules in test_quality_subscriptions.py."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from elt import warehouse
from elt.generate.subscriptions import generate_subscriptions

OLD, NEW = date(2019, 6, 1), date(2019, 6, 20)


def _day(text: str) -> date:
    return datetime.strptime(text[:10], "%Y-%m-%d").date()


def expected_from_files(landing: Path, day: date) -> dict[str, int]:
    """Stores, and stores installed / newly installed on `day`, from the day's dataset_sample.csv (times in UTC)."""
    path = landing / "subscriptions" / day.isoformat() / "dataset_sample.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stores = installed = new = 0
    for row in rows:
        try:
            periods = json.loads(row["installHistory"])
            json.loads(row["subscriptionHistory"])
        except ValueError:
            continue  # quarantined: malformed JSON
        spans = [(_day(p["fromDate"]), day if p["toNow"] else _day(p["toDate"])) for p in periods]
        spans = [(start, end) for start, end in spans if start <= day]
        if not spans:
            continue
        stores += 1
        installed += any(start <= day <= end for start, end in spans)
        new += min(start for start, _ in spans) == day
    return {"stores": stores, "installed": installed, "new": new}


def test_an_older_day_after_a_newer_one(elt: Callable[..., subprocess.CompletedProcess], landing: Path) -> None:
    generate_subscriptions(landing, OLD, 1, seed=8, scale=0.5)
    generate_subscriptions(landing, NEW, 1, seed=8, scale=0.5)
    for day in (NEW, OLD):
        result = elt("run", "subscriptions_daily", "--date", day.isoformat())
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    with warehouse.connect() as conn:
        loads = conn.execute(
            "select partition_date, count(*), bool_and(status = 'loaded'), sum(rows_loaded) from audit.load_log"
            " group by 1 order by 1"
        ).fetchall()
        validated = conn.execute(
            "select partition_date, count(*), bool_and(success) from audit.dq_runs group by 1 order by 1"
        ).fetchall()
        marts = {
            day: conn.execute(
                "select (select count(*) from marts.store_lifespan where as_of_date = %(d)s),"
                " (select active_stores from marts.store_activity_daily"
                "  where as_of_date = %(d)s and activity_date = %(d)s),"
                " (select new_stores from marts.store_activity_daily"
                "  where as_of_date = %(d)s and activity_date = %(d)s),"
                " (select max(activity_date) from marts.store_activity_daily where as_of_date = %(d)s),"
                " (select count(*) from marts.branch_performance where as_of_date = %(d)s)",
                {"d": day},
            ).fetchone()
            for day in (OLD, NEW)
        }
        current = conn.execute("select distinct as_of_date from marts.store_activity_daily_current").fetchall()
    assert [(day, tables, ok) for day, tables, ok, _ in loads] == [(OLD, 5, True), (NEW, 5, True)]
    assert loads[1][3] > loads[0][3] > 0  # a snapshot grows
    assert validated == [(OLD, 5, True), (NEW, 5, True)]
    for day in (OLD, NEW):
        expected = expected_from_files(landing, day)
        lifespans, active, new, last_day, branches = marts[day]
        assert (lifespans, active, new) == (expected["stores"], expected["installed"], expected["new"]), day
        assert last_day == day and branches > 0
    assert marts[NEW][0] > marts[OLD][0]
    assert current == [(NEW,)]  # the latest as-of date, whichever ran last
