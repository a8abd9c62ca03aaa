"""dbt runs at the same time never collide, and give what the same runs give one after another.

An Airflow backfill runs several DAG runs of different dates at once (the UI offers 10), each building
the models through Cosmos with the run's dates as vars. Here each round starts its "DAG runs" at the same
instant: vouchers as Cosmos runs it (one invocation per node: the seed, the incremental staging model,
the incremental as-of counts, the incremental mart), theLook's views and tables in one invocation followed
by the customer_segments mart. Round 1 is the very first build on an empty warehouse (no dbt relation, not even the
`intermediate` schema); rounds 2 and 3 rebuild the views and tables and delete+insert the incremental
partitions, one date twice at once. Every invocation must succeed, and every relation dbt builds must
end up with exactly the rows of a second warehouse where the same invocations ran one after another.

First builds take milliseconds here, so whether two of them overlap would be luck: during the first
2 s of round 1 the test holds back what they need (see _stall), so that every run is inside its
first builds before any of them can finish. Without the build lock (macros/materializations) this
test fails: "relation ... already exists", "..._dbt_backup already exists", a duplicate
pg_namespace key, or a staging table holding every partition twice.

dbt spends about 8 s of CPU importing itself and parsing the project: the invocations run in
processes forked from one driver that has done both once (each child calls dbtRunner with the parsed
manifest, and has its own connections, relation cache, vars and target folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from elt.config import DBT_PROJECT_DIR, PROJECT_DIR
from elt.warehouse import ServerParams

DBT = Path(sys.executable).parent / "dbt"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in the project's venv")

START = date(2024, 9, 1)
DAYS = 3
LAYERS = ("staging", "intermediate", "marts")
# relations made by the warehouse bootstrap, not by dbt
NOT_DBT = {"customer_clusters", "customer_cluster_profiles"}
STALL_SECONDS = 2.0


def _vars(run_date: date, data_interval_end: date) -> str:
    return json.dumps({"run_date": run_date.isoformat(), "data_interval_end": data_interval_end.isoformat()})


def vouchers_run(day: date) -> list[list[str]]:
    """vouchers_daily for partition `day`, one invocation per node as Cosmos runs it."""
    dates = _vars(day, day + timedelta(days=1))
    return [
        ["seed", "--select", "voucher_segments", "--vars", dates],
        ["run", "--select", "stg_vouchers__voucher_assignments", "--vars", dates],
        ["run", "--select", "int_voucher_assignment_values", "--vars", dates],
        ["run", "--select", "voucher_most_used", "--vars", dates],
    ]


def thelook_run(day: date) -> list[list[str]]:
    """thelook_daily's models for `day` (views and tables in one invocation), then the weekly mart as of `day`."""
    return [
        ["run", "--select", "tag:thelook", "--vars", _vars(day, day + timedelta(days=1))],
        ["run", "--select", "customer_segments", "--vars", _vars(day - timedelta(days=7), day)],
    ]


def rounds() -> list[list[list[list[str]]]]:
    """Per round, the DAG runs started together; each DAG run is a list of invocations run in order."""
    day = [START + timedelta(days=i) for i in range(DAYS)]
    return [
        # the very first build, on an empty warehouse
        [vouchers_run(d) for d in day] + [thelook_run(d) for d in day[:2]],
        # rebuilds; 09-02 twice at once (a cleared run re-run while the backfill runs it)
        [vouchers_run(d) for d in (day[1], day[1])] + [thelook_run(d) for d in day[1:]],
        [vouchers_run(d) for d in (day[2], day[0])] + [thelook_run(d) for d in (day[2], day[0])],
    ]


# --- the driver: a process that imports dbt once, parses once per warehouse and forks the invocations -------------


def _child(manifest: object, chain: list[list[str]], common: list[str], log: Path, go: int) -> None:
    """In a forked process: wait for the start signal, run the DAG run's invocations in order, exit 0 if all passed."""
    from dbt.cli.main import dbtRunner

    code = 1
    try:  # never return: that would run the driver's loop a second time
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.read(go, 1)
        if all(dbtRunner(manifest=manifest).invoke([*args, *common]).success for args in chain):
            code = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _start(manifest: object, chain: list[list[str]], folder: Path, project: list[str], go: int) -> int:
    folder.mkdir(parents=True)
    common = [*project, "--target-path", str(folder), "--log-path", str(folder), "--no-write-json"]
    pid = os.fork()
    if pid == 0:
        _child(manifest, chain, common, folder / "output.txt", go)
    return pid


def _exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _stall(database: str) -> psycopg.Connection:
    """Hold back what every first build needs: the quarantine table (read by every staging model) and the schema
    catalog (for `create schema`). Released after STALL_SECONDS, by when every run is waiting inside its first
    builds: without it, luck decides whether two first builds overlap (they take milliseconds here)."""
    conn = psycopg.connect(
        host=os.environ["ELT_PG_HOST"],
        port=os.environ["ELT_PG_PORT"],
        user=os.environ["ELT_PG_USER"],
        password=os.environ["ELT_PG_PASSWORD"],
        dbname=database,
    )
    conn.execute("lock table audit.dq_exceptions in access exclusive mode")
    conn.execute("lock table pg_catalog.pg_namespace in share row exclusive mode")  # blocks inserts, not reads
    return conn


def _drive(spec: dict) -> dict[str, list[list[dict]]]:
    """Per warehouse: parse once, then each round's DAG runs all at once or one after another."""
    from dbt.cli.main import dbtRunner

    work = Path(spec["work"])
    project = ["--project-dir", spec["project_dir"], "--profiles-dir", spec["project_dir"]]
    results = {}
    for mode, database in spec["databases"].items():
        os.environ["ELT_PG_DATABASE"] = database  # the manifest's relations carry the database name
        parse = ["parse", *project, "--target-path", str(work / mode), "--log-path", str(work / mode)]
        parsed = dbtRunner().invoke(parse)
        if not parsed.success:
            raise SystemExit(f"dbt parse failed: {parsed.exception}")
        manifest = parsed.result
        results[mode] = []
        for r, chains in enumerate(spec["rounds"], 1):
            started = time.monotonic()
            folders = [work / mode / f"round{r}" / f"run{c}" for c in range(1, len(chains) + 1)]
            go_read, go_write = os.pipe()
            if mode == "concurrent":
                stall = _stall(database) if r == 1 else None
                pids = [
                    _start(manifest, chain, folder, project, go_read)
                    for chain, folder in zip(chains, folders, strict=True)
                ]
                os.write(go_write, b"x" * len(pids))
                if stall is not None:
                    time.sleep(STALL_SECONDS)
                    stall.close()  # ROLLBACK: the first builds go ahead
                codes = [_exit_code(pid) for pid in pids]
            else:
                codes = []
                for chain, folder in zip(chains, folders, strict=True):
                    pid = _start(manifest, chain, folder, project, go_read)
                    os.write(go_write, b"x")
                    codes.append(_exit_code(pid))
            os.close(go_read)
            os.close(go_write)
            results[mode].append(
                [
                    {"code": code, "output": str(folder / "output.txt")}
                    for code, folder in zip(codes, folders, strict=True)
                ]
            )
            print(f"{mode} round {r}: {time.monotonic() - started:.1f} s", flush=True)
    return results


# --- the test ----------------------------------------------------------------------------------------------------


def _run(concurrent: ServerParams, sequential: ServerParams, work: Path) -> dict[str, list[list[dict]]]:
    """The rounds, all at once in `concurrent`, one after another in `sequential`: {mode: [[{code, output}]]}."""
    work.mkdir(parents=True)
    spec = {
        "work": str(work),
        "project_dir": str(DBT_PROJECT_DIR),
        "rounds": rounds(),
        "databases": {"concurrent": concurrent.dbname, "sequential": sequential.dbname},
    }
    (work / "spec.json").write_text(json.dumps(spec))
    env = {
        **os.environ,
        "ELT_PG_HOST": concurrent.host,
        "ELT_PG_PORT": str(concurrent.port),
        "ELT_PG_USER": concurrent.user,
        "ELT_PG_PASSWORD": concurrent.password,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_PARTIAL_PARSE": "False",
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "none"),  # debug logs cost ~10% of the time
    }
    driver = subprocess.run(
        [sys.executable, __file__, str(work / "spec.json"), str(work / "results.json")],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert driver.returncode == 0, driver.stdout[-3000:] + driver.stderr[-6000:]
    print(driver.stdout)
    return json.loads((work / "results.json").read_text())


def _failures(results: list[list[dict]]) -> list[str]:
    """One line per failed DAG run: dbt's summary of its errors."""
    failed = []
    for r, runs in enumerate(results, 1):
        for c, run in enumerate(runs, 1):
            if run["code"] != 0:
                text = re.sub(r"\x1b\[[0-9;]*m", "", Path(run["output"]).read_text())
                text = re.sub(r"^\d\d:\d\d:\d\d +", "", text, flags=re.M)
                summary = text.split("Completed with")[-1].split("Done. PASS")[0]
                errors = [line.strip() for line in summary.splitlines() if line.strip() and "compiled code" not in line]
                failed.append(f"round {r}, DAG run {c}: " + " | ".join(errors[-8:]))
    return failed


def _snapshot(params: ServerParams) -> dict[tuple[str, str, str], Counter]:
    """Every relation in the layer schemas (but the bootstrap's) with its rows, as a multiset."""
    with psycopg.connect(params.libpq_url()) as conn:
        relations = conn.execute(
            """
            select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') order by 1, 2
            """,
            (list(LAYERS),),
        ).fetchall()
        return {
            (schema, name, kind): Counter(conn.execute(f'select * from "{schema}"."{name}"').fetchall())
            for schema, name, kind in relations
            if name not in NOT_DBT
        }


def test_concurrent_runs_never_collide_and_equal_sequential_runs(
    landing: Path, warehouse_params: ServerParams, tmp_path: Path
) -> None:
    from elt.generate.thelook import generate_thelook  # here: the driver process (this file) does not need them
    from elt.generate.vouchers import generate_vouchers
    from elt.load import load_partition
    from elt.quality import validate_partition

    generate_thelook(landing, START, DAYS, seed=3, scale=0.001)
    generate_vouchers(landing, START, DAYS, seed=3, rows_per_day=300)
    for offset in range(DAYS):
        for source in ("thelook", "vouchers"):
            load_partition(source, START + timedelta(days=offset))
            validate_partition(source, START + timedelta(days=offset))

    concurrent = warehouse_params
    admin = concurrent.database("postgres").libpq_url()
    with psycopg.connect(concurrent.libpq_url(), autocommit=True) as conn:
        conn.execute("drop schema intermediate cascade")  # dbt creates it: two runs at once must not collide there
    sequential = concurrent.database(f"{concurrent.dbname}_seq")
    with psycopg.connect(admin, autocommit=True) as conn:
        # the validation's connection pool (GX) is still open: a template must have no one connected
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (concurrent.dbname,))
        conn.execute(f'create database "{sequential.dbname}" template "{concurrent.dbname}"')
    try:
        results = _run(concurrent, sequential, tmp_path / "dbt")
        failures = _failures(results["concurrent"])
        assert not failures, "runs at the same time failed:\n" + "\n".join(failures)
        failures = _failures(results["sequential"])
        assert not failures, "runs one after another failed:\n" + "\n".join(failures)

        built, expected = _snapshot(concurrent), _snapshot(sequential)
        assert [key for key in built if "__dbt_" in key[1]] == [], "no intermediate relation left behind"
        assert sorted(built) == sorted(expected)
        for key, rows in expected.items():
            assert built[key] == rows, f"{key[0]}.{key[1]} differs from the sequential runs"

        # not an empty comparison: every date has its mart rows, every partition its staged rows
        marts = {key[1]: rows for key, rows in expected.items()}
        assert {row[0] for row in marts["voucher_most_used"]} == {START + timedelta(days=i) for i in range(DAYS)}
        assert {row[0] for row in marts["customer_segments"]} == {START + timedelta(days=i) for i in range(DAYS)}
        assert len(marts["int_order_items_costed"]) > 100
        staged = Counter(row[0] for row in marts["stg_vouchers__voucher_assignments"])
        assert sorted(staged) == [START + timedelta(days=i) for i in range(DAYS)]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{sequential.dbname}" with (force)')


if __name__ == "__main__":
    (Path(sys.argv[2])).write_text(json.dumps(_drive(json.loads(Path(sys.argv[1]).read_text()))))
