"""make bench's results: goals, the table with an earlier run's values beside, the JSON an earlier run is read from."""

from __future__ import annotations

import json
from pathlib import Path

from elt.bench_report import (
    Measure,
    Results,
    RunTimes,
    TaskTime,
    change,
    format_shares,
    format_table,
    newest_comparable,
    previous_values,
    save,
)


def test_a_goal_is_met_on_the_better_side() -> None:
    assert Measure("run", 12.0, "s", 15.0).met is True
    assert Measure("run", 16.0, "s", 15.0).met is False
    assert Measure("loader", 0.85, "x", 0.8, "higher").met is True
    assert Measure("loader", 0.7, "x", 0.8, "higher").met is False
    assert Measure("no goal", 3.0, "s").met is None
    assert Measure("skipped", None, "x", 1.2).met is None
    assert Measure("run", 30.0, "s", 15.0).ratio == 2.0


def test_change_is_relative_to_the_earlier_value() -> None:
    assert change(12.0, 10.0) == "+20%"
    assert change(9.0, 10.0) == "-10%"
    assert change(1.0, None) == ""
    assert change(None, 3.0) == ""


def test_the_table_shows_goals_verdicts_and_the_earlier_run() -> None:
    measures = [
        Measure("vouchers_daily in-process", 30.0, "s", 15.0),
        Measure("loader / copy", 0.85, "x", 0.8, "higher"),
        Measure("store flat", None, "x", 1.2, note="not measured: no history series"),
    ]
    table = format_table(measures, {"vouchers_daily in-process": 40.0})
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "value", "goal", "ratio", "verdict", "previous", "change"]
    run = next(line for line in lines if line.startswith("vouchers_daily in-process"))
    assert "30.0 s" in run and "<= 15.0 s" in run and "2.00" in run and "NOT met" in run
    assert "40.0 s" in run and "-25%" in run
    assert "met" in next(line for line in lines if line.startswith("loader / copy"))
    assert "not measured" in next(line for line in lines if line.startswith("store flat"))
    assert "    not measured: no history series" in lines
    assert "previous" not in format_table(measures)


def test_saved_results_are_found_and_read_back_for_the_next_comparison(tmp_path: Path) -> None:
    assert newest_comparable(tmp_path / "none", {"a"}) is None
    run = RunTimes("vouchers_daily 2024-01-01", "vouchers_daily", "2024-01-01", 30.0, 20.0, 5.0)
    run.tasks = [TaskTime("load", 5.0), TaskTime("validate", 10.0)]
    first = Results("2026-01-01T10:00:00+00:00", measures=[Measure("a", 1.0, "s"), Measure("b", None, "x")])
    first.runs.append(run)
    second = Results("2026-01-02T10:00:00+00:00", measures=[Measure("a", 2.0, "s")])
    older, newer = save(first, tmp_path), save(second, tmp_path)
    assert older.name == "20260101T100000Z.json"
    assert newest_comparable(tmp_path, {"a"}) == newer
    assert newest_comparable(tmp_path, {"b", "c"}) is None  # b was not measured
    assert previous_values(older) == {"a": 1.0}
    saved = json.loads(older.read_text())
    assert saved["runs"][0]["overhead"] == 10.0
    assert saved["runs"][0]["tasks"][1] == {"task_id": "validate", "seconds": 10.0, "share": 0.5}


def test_task_shares_split_the_run_and_name_the_overhead() -> None:
    run = RunTimes("vouchers_daily in-process", "vouchers_daily", "2024-01-01", 30.0, 20.0, None)
    run.tasks = [TaskTime("load", 5.0), TaskTime("validate", 10.0)]
    lines = format_shares([run]).splitlines()
    assert lines[0].startswith("vouchers_daily in-process: wall 30.0 s = run 20.0 s + overhead 10.0 s")
    assert lines[1].split() == ["load", "5.0", "s", "25%"]
    assert lines[2].split() == ["validate", "10.0", "s", "50%"]
