"""`make bench`'s results: measures against their goals, each timed DAG run's task shares, one table on the terminal
and one JSON file per bench run, compared with an earlier one (issue 15). Pure functions, no database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Better = Literal["lower", "higher"]


@dataclass
class Measure:
    """One row of the table: a measured value (None: not measured, `note` says why), its goal if it has one."""

    name: str
    value: float | None
    unit: str
    goal: float | None = None
    better: Better = "lower"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """The value over its goal (<= 1 is met for `lower`, >= 1 for `higher`)."""
        if self.value is None or not self.goal:
            return None
        return self.value / self.goal

    @property
    def met(self) -> bool | None:
        if self.value is None or self.goal is None:
            return None
        return self.value <= self.goal if self.better == "lower" else self.value >= self.goal


@dataclass
class TaskTime:
    task_id: str
    seconds: float


@dataclass
class RunTimes:
    """A timed DAG run: the wall time of the command, and the run's own start..end and tasks from Airflow."""

    label: str
    dag_id: str
    day: str
    wall: float
    run_seconds: float | None = None  # dag_run start_date .. end_date
    queued_seconds: float | None = None  # dag_run queued_at .. start_date
    tasks: list[TaskTime] = field(default_factory=list)

    @property
    def overhead(self) -> float | None:
        """Wall time outside the run: process start-up, DAG parsing, the backfill's creation, queueing."""
        return None if self.run_seconds is None else self.wall - self.run_seconds

    def task_seconds(self, task_id: str) -> float | None:
        found = [task.seconds for task in self.tasks if task.task_id == task_id]
        return sum(found) if found else None


@dataclass
class Results:
    """Everything one bench run measured."""

    started_at: str
    machine: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    runs: list[RunTimes] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, *measures: Measure) -> None:
        self.measures.extend(measures)


def to_json(results: Results) -> str:
    data = asdict(results)
    for run, original in zip(data["runs"], results.runs, strict=True):
        run["overhead"] = original.overhead
        for task in run["tasks"]:
            task["share"] = task["seconds"] / original.run_seconds if original.run_seconds else None
    for measure, original in zip(data["measures"], results.measures, strict=True):
        measure["ratio"], measure["met"] = original.ratio, original.met
    return json.dumps(data, indent=2, default=str) + "\n"


def save(results: Results, folder: Path) -> Path:
    """Write the results to `folder/<UTC timestamp>.json`; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(results.started_at).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}.json"
    path.write_text(to_json(results))
    return path


def previous_values(path: Path) -> dict[str, float]:
    """Each measured metric of an earlier results file, by name."""
    data = json.loads(path.read_text())
    return {m["name"]: m["value"] for m in data.get("measures", []) if m.get("value") is not None}


def newest_comparable(folder: Path, names: set[str]) -> Path | None:
    """The newest results file in `folder` (names sort by time) that measured any of `names` (a `--only` part's
    run is compared with the last run of that part), if any."""
    found = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
    return next((path for path in found if names & set(previous_values(path))), None)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s" if value < 100 else f"{value:.0f} s"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.2f} {unit}".strip()


def format_goal(measure: Measure) -> str:
    if measure.goal is None:
        return ""
    return f"{'<=' if measure.better == 'lower' else '>='} {format_value(measure.goal, measure.unit)}"


def verdict(measure: Measure) -> str:
    if measure.value is None:
        return "not measured"
    return {True: "met", False: "NOT met", None: ""}[measure.met]


def change(value: float | None, previous: float | None) -> str:
    """The relative change from `previous`, e.g. '+12%'."""
    if value is None or previous is None:
        return ""
    if previous == 0:
        return "" if value == 0 else "new"
    return f"{100 * (value - previous) / abs(previous):+.0f}%"


def format_table(measures: list[Measure], previous: dict[str, float] | None = None) -> str:
    """The results table: metric, value, goal, ratio to the goal, verdict, and with `previous` the earlier value
    and the change; a note (why not measured, what differs) after the row."""
    header = ["metric", "value", "goal", "ratio", "verdict"]
    if previous is not None:
        header += ["previous", "change"]
    rows = []
    for m in measures:
        row = [m.name, format_value(m.value, m.unit), format_goal(m), f"{m.ratio:.2f}" if m.ratio else "", verdict(m)]
        if previous is not None:
            before = previous.get(m.name)
            row += [format_value(before, m.unit) if before is not None else "", change(m.value, before)]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3} | ({5, 6} if previous is not None else set())

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header).rstrip(), "  ".join("-" * w for w in widths)]
    for m, row in zip(measures, rows, strict=True):
        out.append(line(row).rstrip())
        if m.note:
            out.append(f"    {m.note}")
    return "\n".join(out)


def format_shares(runs: list[RunTimes]) -> str:
    """Each timed run's wall time split into the run and the overhead, then one line per task with its share."""
    out = []
    for run in runs:
        if run.run_seconds is None:
            out.append(f"{run.label}: {run.wall:.1f} s (no run found in Airflow's metadata)")
            continue
        queued = f", queued {run.queued_seconds:.1f} s" if run.queued_seconds is not None else ""
        out.append(
            f"{run.label}: wall {run.wall:.1f} s = run {run.run_seconds:.1f} s + overhead {run.overhead:.1f} s"
            f" (start-up, parse, queueing{queued})"
        )
        width = max((len(task.task_id) for task in run.tasks), default=0)
        for task in run.tasks:
            share = task.seconds / run.run_seconds if run.run_seconds else 0.0
            out.append(f"  {task.task_id:<{width}}  {task.seconds:6.1f} s  {100 * share:4.0f}%")
    return "\n".join(out)
