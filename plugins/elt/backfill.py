"""`elt run` and `elt backfill`: Airflow backfills, executed by the scheduler when one runs, in-process otherwise.

Every run is created by Airflow's own backfill code (what the UI's Backfill button and
`POST /api/v2/backfills` call), so a partition has one logical date, its data interval's start,
whoever starts it, and Airflow's reprocess rules decide whether an existing run is done again.
With a live scheduler the runs are left to it and followed; without one, worker processes
(`elt-runner`) execute the queued runs, at most `max_active_runs` at a time.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from elt import config
from elt.runner import fail_run, load_dags, midnight, run_is_locked, wait_for_database

REPROCESS = ("none", "failed", "completed")

FINISHED = ("success", "failed")
# how often runs are followed: a worker whose run ended waits this long, at most, for the next one (a second made
# a 60-day backfill wait 0.5 s between runs on average)
POLL_SECONDS = 0.2


class BackfillError(RuntimeError):
    """A backfill cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class Partition:
    dag_id: str
    day: date
    end: datetime  # the end of its data interval
    length: timedelta  # of its data interval


def quiet_airflow_logs() -> None:
    """The command line shows one line per run: Airflow's own logs go to each run's log file (call before
    Airflow is imported)."""
    os.environ.setdefault("ELT_WORKER_LOG_LEVEL", os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"))
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    logging.getLogger("airflow").setLevel(logging.ERROR)


def history_start(dag) -> date:
    return dag.start_date.date()


def plan(dag_ids: list[str], start: date, end: date) -> list[Partition]:
    """The partitions of every DAG whose interval starts between `start` and `end` (inclusive), in the order they
    can run: by interval end, a shorter interval first, so a week is built after its days are loaded."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    dags = load_dags()
    unknown = [dag_id for dag_id in dag_ids if dag_id not in dags]
    if unknown:
        raise BackfillError(f"unknown DAG {unknown[0]!r}; known: {', '.join(sorted(dags))}")
    partitions = []
    for dag_id in dag_ids:
        first = history_start(dags[dag_id])
        if start < first:
            raise BackfillError(
                f"{start} is before the history start of {dag_id} ({first}): Airflow runs nothing before a DAG's "
                f"start date. Set ELT_HISTORY_START (in .env) to {start} or earlier and run again."
            )
        timetable, last = coerce_to_core_timetable(dags[dag_id].timetable), None
        restriction = TimeRestriction(earliest=midnight(start), latest=midnight(end), catchup=True)
        while info := timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction):
            last = info.data_interval
            length = timedelta(seconds=last.end.timestamp() - last.start.timestamp())
            partitions.append(Partition(dag_id, last.start.date(), last.end, length))
    return sorted(partitions, key=lambda p: (p.end, p.length, p.dag_id))


def check_is_partition(dag_id: str, day: date) -> None:
    """`day` must start an interval of `dag_id` (a Monday for a weekly DAG), else a clear error."""
    found = plan([dag_id], day, day)
    if not found or found[0].day != day:
        later = plan([dag_id], day, day + timedelta(days=31))
        nearest = f" (the next one starts {later[0].day})" if later else ""
        raise BackfillError(f"{day} is not the start of a {dag_id} interval{nearest}")


def scheduler_alive() -> bool:
    """True when an Airflow scheduler is heartbeating against this metadata database."""
    from airflow.jobs.job import most_recent_job
    from airflow.utils.session import create_session

    with create_session() as session:
        job = most_recent_job("SchedulerJob", session=session)
        return bool(job and job.is_alive())


def create(dag_id: str, start: date, end: date, reprocess: str, conf: dict | None, max_active_runs: int) -> int:
    """Create an Airflow backfill of `dag_id` for partitions `start`..`end`; its id. As `POST /api/v2/backfills`
    does, a run done again runs the DAG's latest version unless the DAG or `[core] rerun_with_latest_version`
    says otherwise (tasks the DAG no longer has are not waited for)."""
    from airflow.api_fastapi.common.dagbag import resolve_run_on_latest_version
    from airflow.exceptions import AirflowException
    from airflow.models.backfill import ReprocessBehavior, _create_backfill
    from airflow.utils.session import create_session

    with create_session() as session:
        run_on_latest = resolve_run_on_latest_version(None, dag_id, session, fallback=True)
    try:
        backfill = _create_backfill(
            dag_id=dag_id,
            from_date=midnight(start),
            to_date=midnight(end),
            max_active_runs=max_active_runs,
            reverse=False,
            dag_run_conf=conf or {},  # a run done again takes these params, not the ones it had before
            triggering_user_name=f"elt ({getpass.getuser()})",
            reprocess_behavior=ReprocessBehavior(reprocess),
            run_on_latest_version=run_on_latest,
        )
    except AirflowException as exc:
        name = type(exc).__name__
        if name == "AlreadyRunningBackfill":
            raise BackfillError(
                f"{dag_id} has an unfinished backfill: wait for it (the UI's Backfills tab shows it) or cancel it there"
            ) from None
        if name == "NoBackfillRunsToCreate":
            raise BackfillError(
                f"{dag_id}: no interval between {start} and {end} has ended yet, so there is nothing to run"
            ) from None
        raise BackfillError(f"{dag_id}: {exc}") from None
    return backfill.id


@dataclass
class RunStatus:
    """One partition of a backfill: its run, or why Airflow did not create one."""

    backfill_id: int
    dag_id: str
    day: date
    ordinal: int
    dag_run_id: int | None
    run_id: str | None
    state: str | None
    started: datetime | None
    ended: datetime | None
    skipped: str | None  # Airflow's reason for not (re)creating the run

    @property
    def done(self) -> bool:
        return self.skipped is not None or self.state in FINISHED


def statuses(backfill_ids: list[int]) -> list[RunStatus]:
    """The partitions of the given backfills and their runs, as the metadata database has them now."""
    from airflow.models.backfill import BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = (
        select(BackfillDagRun, DagRun)
        .outerjoin(DagRun, DagRun.id == BackfillDagRun.dag_run_id)
        .where(BackfillDagRun.backfill_id.in_(backfill_ids))
    )
    with create_session() as session:
        from airflow.models.backfill import Backfill

        dag_ids = dict(session.execute(select(Backfill.id, Backfill.dag_id).where(Backfill.id.in_(backfill_ids))).all())
        rows = []
        for link, run in session.execute(query).all():
            rows.append(
                RunStatus(
                    backfill_id=link.backfill_id,
                    dag_id=dag_ids[link.backfill_id],
                    day=link.logical_date.date(),
                    ordinal=link.sort_ordinal,
                    dag_run_id=run.id if run else None,
                    run_id=run.run_id if run else None,
                    state=str(run.state) if run else None,
                    started=run.start_date if run else None,
                    ended=run.end_date if run else None,
                    skipped=getattr(link.exception_reason, "value", link.exception_reason),
                )
            )
    return rows


def tasks_not_run(dag_run_id: int) -> list[str]:
    """Tasks of a successful run that did not succeed (a run must never succeed without running its tasks).
    Tasks that the DAG's version run no longer has (state "removed") do not count."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.get(DagRun, dag_run_id)
        instances = [ti for ti in run.get_task_instances(session=session) if str(ti.state) != "removed"]
        if not instances:
            return ["(no task instances: nothing ran)"]
        return sorted(ti.task_id for ti in instances if str(ti.state) != "success")


def mark_complete(backfill_ids: list[int]) -> None:
    """Close backfills whose runs are all finished (the scheduler does this for the ones it runs)."""
    from airflow.models.backfill import Backfill
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(
            update(Backfill)
            .where(Backfill.id.in_(backfill_ids), Backfill.completed_at.is_(None))
            .values(completed_at=timezone.utcnow())
        )


def unfinished_backfills(dag_ids: list[str]) -> list[int]:
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(
            session.scalars(select(Backfill.id).where(Backfill.dag_id.in_(dag_ids), Backfill.completed_at.is_(None)))
        )


def paused(dag_ids: list[str]) -> list[str]:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(session.scalars(select(DagModel.dag_id).where(DagModel.dag_id.in_(dag_ids), DagModel.is_paused)))


def run_log(dag_id: str, day: date) -> Path:
    """Where the in-process worker of a run writes Airflow's log."""
    return config.state_dir() / "logs" / "runs" / dag_id / f"{day.isoformat()}.log"


ERROR_LINE = re.compile(r"\b(\w+(?:Error|Exception)): (.+)")


def last_error(path: Path) -> str:
    """The last exception message in a run's log, for the progress line."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    found = [f"{m.group(1)}: {m.group(2).strip()}" for m in ERROR_LINE.finditer(text)]
    found = [line for line in found if not line.startswith(("Traceback", "task "))]
    return found[-1][:1000] if found else ""


class Worker:
    """A process that executes the runs it is given one after another (`elt-runner`), so Airflow,
    GX and dbt are imported once per worker, not once per run."""

    def __init__(self, dag_ids: Sequence[str] = ()) -> None:
        """`dag_ids`: the DAGs whose runs it will be given, parsed while it starts."""
        self.process = subprocess.Popen(
            # a script, not `python -m`: dbt inspects the stack, and runpy's frozen frames cost it a scan of every
            # module each time
            [str(Path(sys.executable).parent / "elt-runner"), *dag_ids],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("ELT_WORKER_LOG_LEVEL", "INFO")},
        )
        self.current: RunStatus | None = None
        self.given = False

    def give(self, status: RunStatus) -> None:
        path = run_log(status.dag_id, status.day)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.process.stdin.write(f"{status.dag_id}\t{status.run_id}\t{path}\n")
        self.process.stdin.flush()
        self.current, self.given = status, True

    def close(self) -> None:
        """Let the worker finish what it was given; one never given a run stops at once (not after its imports)."""
        if self.process.poll() is None:
            if not self.given:
                self.process.kill()
            self.process.stdin.close()
            self.process.wait()


@contextmanager
def started_workers(count: int, dag_ids: Sequence[str]) -> Iterator[list[Worker]]:
    """`count` workers for runs of `dag_ids`, started now to import Airflow, Cosmos, the DAGs, dbt and (if they
    validate) GX while the caller makes its checks (give them to `run_backfills`); none when a scheduler runs, as it
    executes the runs. Closed at the end."""
    workers = [] if scheduler_alive() else [Worker(dag_ids) for _ in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.close()


class Executor:
    """Follows the runs of some backfills to the end; without a scheduler, executes them in worker processes."""

    def __init__(
        self, backfill_ids: list[int], workers: list[Worker], out=sys.stdout, numbering: tuple[int, int] | None = None
    ):
        """`workers` execute the runs; none: a scheduler does, and the runs are only followed. `numbering`:
        (runs reported before these, runs in all) when several groups share one count."""
        self.backfill_ids, self.workers, self.out = backfill_ids, workers, out
        self.numbering = numbering
        self.in_process = bool(workers)
        self.reported: set[tuple[int, int]] = set()
        self.dispatched: set[int] = set()  # never given twice: only runs left by an earlier process are taken over
        self.failures = 0
        self.tty = out.isatty()

    def _say(self, text: str) -> None:
        if self.tty:
            self.out.write("\r\033[K")
        print(text, file=self.out, flush=True)

    def _busy(self) -> set[int]:
        return {w.current.dag_run_id for w in self.workers if w.current}

    def _dispatch(self, current: list[RunStatus]) -> None:
        """Give each idle worker the next run; a worker that died leaves its run failed, never running forever."""
        by_run = {s.dag_run_id: s for s in current if s.dag_run_id}  # run ids repeat across DAGs; these don't
        for index, worker in enumerate(self.workers):
            if worker.current and worker.process.poll() is not None:
                if by_run[worker.current.dag_run_id].state not in FINISHED:
                    fail_run(worker.current.dag_id, worker.current.run_id)
                self.workers[index] = worker = Worker()
            if worker.current and by_run[worker.current.dag_run_id].state in FINISHED:
                worker.current = None
        waiting = [
            s
            for s in sorted(current, key=lambda s: (s.day, s.dag_id))
            if s.dag_run_id
            and s.dag_run_id not in self.dispatched
            and (s.state == "queued" or (s.state == "running" and not run_is_locked(s.dag_run_id)))
        ]
        for worker in self.workers:
            if worker.current is None and waiting:
                worker.give(waiting.pop(0))
                self.dispatched.add(worker.current.dag_run_id)

    def _report(self, status: RunStatus, number: int, total: int) -> None:
        prefix = f"[{number:>{len(str(total))}}/{total}] {status.dag_id} {status.day}"
        if status.skipped:
            self._say(f"{prefix}: skipped, {status.skipped} (reprocess rules; --reprocess completed runs it again)")
            return
        seconds = (status.ended - status.started).total_seconds() if status.ended and status.started else 0.0
        if status.state == "success":
            missing = tasks_not_run(status.dag_run_id)
            if not missing:
                self._say(f"{prefix}: success ({seconds:.0f} s)")
                return
            self._say(f"{prefix}: FAILED, the run succeeded without running task(s) {', '.join(missing)}")
        else:
            where = run_log(status.dag_id, status.day) if self.in_process else "the run's task logs in the UI"
            error = last_error(run_log(status.dag_id, status.day)) if self.in_process else ""
            self._say(f"{prefix}: FAILED ({seconds:.0f} s){': ' + error if error else ''}\n    log: {where}")
        self.failures += 1

    def _step(self, warned_paused: float) -> tuple[bool, float]:
        """Report finished runs, give out queued ones; (all done?, when the paused warning was last given)."""
        current = statuses(self.backfill_ids)
        busy = self._busy()
        for status in current:
            key = (status.backfill_id, status.ordinal)
            if status.done and key not in self.reported:
                self.reported.add(key)
                before, total = self.numbering or (0, len(current))
                self._report(status, before + len(self.reported), max(total, before + len(current)))
        if all(s.done for s in current):
            return True, warned_paused
        if self.in_process:
            self._dispatch(current)
        elif time.monotonic() - warned_paused > 60 and (stopped := paused(sorted({s.dag_id for s in current}))):
            warned_paused = time.monotonic()
            self._say(
                f"waiting: {', '.join(stopped)} paused; the scheduler starts no run of a paused DAG. "
                "Unpause it with the toggle in the UI (or `airflow dags unpause DAG_ID`)."
            )
        if self.tty:
            running = [f"{s.dag_id} {s.day}" for s in current if s.state == "running" or s.dag_run_id in busy]
            self.out.write(f"\r\033[Krunning: {', '.join(running) or '-'}")
            self.out.flush()
        return False, warned_paused

    def run(self) -> int:
        """Follow (and, in-process, execute) every run to its end; the number of failed runs. A restart of the
        database server is waited for: the runs go on once it is back."""
        import psycopg
        from sqlalchemy.exc import OperationalError

        done, warned_paused = False, 0.0
        while not done:
            try:
                done, warned_paused = self._step(warned_paused)
            except (OperationalError, psycopg.OperationalError):
                wait_for_database("elt backfill")
                continue
            time.sleep(0 if done else POLL_SECONDS)
        for worker in self.workers:  # every run is finished: the workers are free for the next group
            worker.current = None
        # as the scheduler does on its next pass; until then Airflow refuses a new backfill of the DAG
        mark_complete(self.backfill_ids)
        return self.failures


def run_backfills(
    dag_ids: list[str],
    start: date,
    end: date,
    reprocess: str = "failed",
    conf: dict | None = None,
    max_active_runs: int = 1,
    out=sys.stdout,
    started: list[Worker] | None = None,
) -> int:
    """Backfill `dag_ids` from `start` to `end`; shorter intervals first (days before their week). Failed runs.
    `started`: workers the caller started already (`started_workers`), used if no scheduler runs."""
    from elt.runner import parse_dbt_project, sync_dags

    workers = list(started or [])
    try:
        partitions = plan(dag_ids, start, end)
        if not partitions:
            raise BackfillError(f"no interval of {', '.join(dag_ids)} starts between {start} and {end}")
        in_process = not scheduler_alive()
        leftover = unfinished_backfills(dag_ids) if in_process else []
        if not in_process:
            for worker in workers:  # a scheduler started meanwhile: it executes the runs
                worker.close()
            workers = []
        elif not workers:
            # workers start first: they import Airflow, Cosmos and the DAGs while the backfill is being created. No
            # more of them than runs to execute (each costs seconds of CPU to start); an unfinished backfill's runs
            # are not counted here, so then `max_active_runs` of them.
            concurrency = max_active_runs if leftover else min(max_active_runs, len(partitions))
            workers = [Worker(dag_ids) for _ in range(concurrency)]
        if in_process:
            sync_dags()
            parse_dbt_project()
        logs = config.state_dir() / "logs" / "runs"
        mode = (
            f"in-process (no Airflow scheduler is running), {max_active_runs} at a time; Airflow's logs: {logs}/"
            if in_process
            else "by the running Airflow scheduler (follow it in the UI too)"
        )
        print(
            f"{len(partitions)} run(s) of {', '.join(dag_ids)}, {start} to {end}, executed {mode}", file=out, flush=True
        )
        failures = 0
        if leftover:
            print(f"finishing unfinished backfill(s) {', '.join(map(str, leftover))} first", file=out, flush=True)
            failures += Executor(leftover, workers, out).run()
        reported = 0
        for length in sorted({p.length for p in partitions}):  # days, then weeks
            group = sorted({p.dag_id for p in partitions if p.length == length})
            ids = [create(dag_id, start, end, reprocess, conf, max_active_runs) for dag_id in group]
            executor = Executor(ids, workers, out, numbering=(reported, len(partitions)))
            failures += executor.run()
            reported += len(executor.reported)
        return failures
    finally:
        for worker in workers:
            worker.close()
