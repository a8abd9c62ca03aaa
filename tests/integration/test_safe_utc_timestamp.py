"""The dbt macro safe_utc_timestamp: every spelling of a time becomes the same UTC instant, whatever the session's
time zone (the macro is compiled by dbt once, then run in sessions of three zones)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime

from elt import warehouse
from elt.warehouse import ServerParams

CASES = {
    "2024-09-28": datetime(2024, 9, 28),  # a date: 00:00 UTC (its '-28' is no offset)
    "2024-09-28 22:12:54": datetime(2024, 9, 28, 22, 12, 54),  # no zone: UTC
    " 2024-09-28T22:12:54 ": datetime(2024, 9, 28, 22, 12, 54),
    "2024-09-28 22:12:54.000000 UTC": datetime(2024, 9, 28, 22, 12, 54),
    "2022-05-29 08:19:07+00:00": datetime(2022, 5, 29, 8, 19, 7),
    "2024-09-28T22:12:54Z": datetime(2024, 9, 28, 22, 12, 54),
    "2024-09-28 22:12:54+05:30": datetime(2024, 9, 28, 16, 42, 54),
    "2024-09-28 22:12:54+0530": datetime(2024, 9, 28, 16, 42, 54),
    "2024-09-28 22:12:54 -08": datetime(2024, 9, 29, 6, 12, 54),
    "2024-03-10 01:30:00 America/New_York": datetime(2024, 3, 10, 6, 30),  # EST, the night DST starts
    "2024-07-01 12:00:00 America/New_York": datetime(2024, 7, 1, 16, 0),  # EDT
    "2024-09-28 22:12:54 Europe/Berlin": datetime(2024, 9, 28, 20, 12, 54),
    "2024-09-28 UTC": datetime(2024, 9, 28),
    "": None,
    "not a time": None,
    "2024-02-30": None,
    # words Postgres reads as times, the clock's among them: never a time here (no run reads the clock)
    "now": None,
    " today ": None,
    "yesterday": None,
    "epoch": None,
    "infinity": None,
}


def test_every_spelling_is_the_same_utc_instant_in_any_session_zone(
    run_dbt: Callable[..., subprocess.CompletedProcess], warehouse_params: ServerParams
) -> None:
    inline = "select v, {{ safe_utc_timestamp('v') }} as utc from (values ('')) as t (v)"
    result = run_dbt("compile", "--inline", inline, "--output", "json", "--quiet")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    query = json.loads(result.stdout[result.stdout.index("{") :])["compiled"]
    query = query.replace("(values (''))", "(select unnest(%s::text[]))")
    values = [*CASES, None]
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        with warehouse.connect(warehouse_params) as conn:
            conn.execute("select set_config('TimeZone', %s, false)", (zone,))
            got = dict(conn.execute(query, (values,)).fetchall())
        assert got == {**CASES, None: None}, zone
