"""`make bench`: the loader against `psql \\copy` on the same 1,000,000-row voucher file, and a whole run.

Everything runs on a throwaway embedded server in a temporary folder, in one process, so the numbers
are measured side by side on the same machine state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from elt import load, localdb, warehouse
from elt.generate.vouchers import COLUMNS, write_voucher_file

DAY = date(2024, 1, 1)


def _time(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


LINEAGE_DEFAULTS = (
    "_batch_id bigint default 1, _source_file text default 'vouchers/2024-01-01/vouchers.csv', "
    "_source_row bigint default nextval('public.lineage_row'), _partition_date date default '2024-01-01', "
    "_loaded_at timestamptz default '2024-01-01 00:00:00+00'"
)


def bench_copy(params: warehouse.ServerParams, path: Path, rows: int, repeats: int) -> dict[str, float]:
    """Median seconds of `psql \\copy` (plain text table; the raw table's shape) and of the loader, interleaved."""
    columns = ", ".join(f'"{c}" text' for c in COLUMNS)
    with warehouse.connect(params, autocommit=True) as conn:
        conn.execute("drop table if exists public.copy_plain, public.copy_lineage; drop sequence if exists lineage_row")
        conn.execute(f"create table public.copy_plain ({columns})")
        conn.execute("create sequence public.lineage_row cache 10000")
        conn.execute(f"create table public.copy_lineage ({columns}, {LINEAGE_DEFAULTS})")
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    psql = [localdb.psql_path(), params.libpq_url(), "-v", "ON_ERROR_STOP=1", "-qc"]
    landing = path.parents[2]
    times: dict[str, list[float]] = {"plain": [], "lineage": [], "loader": []}
    for attempt in range(1, repeats + 1):
        for kind in ("plain", "lineage"):
            with warehouse.connect(params, autocommit=True) as conn:
                conn.execute(f"truncate public.copy_{kind}")
            command = f"\\copy public.copy_{kind} ({names}) from '{path}' with (format csv, header true)"
            times[kind].append(_time(lambda command=command: subprocess.run([*psql, command], check=True)))
        times["loader"].append(_time(lambda: load.load_partition("vouchers", DAY, landing, params)))
        print(
            f"  run {attempt}: psql \\copy {times['plain'][-1]:.2f} s, into the raw table's shape "
            f"{times['lineage'][-1]:.2f} s, loader {times['loader'][-1]:.2f} s",
            flush=True,
        )
    with warehouse.connect(params) as conn:
        loaded = conn.execute("select count(*) from raw_vouchers.voucher_assignments").fetchone()[0]
    assert loaded == rows, f"loader loaded {loaded} rows, expected {rows}"
    return {kind: statistics.median(values) for kind, values in times.items()}


def bench_dag_run(params: warehouse.ServerParams, landing: Path, state: Path) -> float:
    env = {
        **os.environ,
        "ELT_WAREHOUSE_URL": params.libpq_url(),
        "ELT_LANDING_DIR": str(landing),
        "ELT_STATE_DIR": str(state),
        "AIRFLOW_HOME": str(state / "airflow"),
    }
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)
    elt = str(Path(sys.executable).parent / "elt")
    # prepare once (Airflow metadata migration) outside the timing, like a scheduler that is already up
    subprocess.run([elt, "db", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    result = subprocess.run([elt, "run", "vouchers_daily", "--date", DAY.isoformat()], env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit("vouchers_daily failed during the benchmark")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-dag", action="store_true", help="only the loader against psql \\copy")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="elt-bench-") as tmp:
        tmp_path = Path(tmp)
        landing = tmp_path / "landing"
        path = landing / "vouchers" / DAY.isoformat() / "vouchers.csv"
        print(f"writing {args.rows:,} voucher rows to {path.name} ...", flush=True)
        write_voucher_file(path, args.rows, seed=1, day=DAY, file_format="csv")
        print(f"  {path.stat().st_size / 1e6:.0f} MB", flush=True)
        params = localdb.start(tmp_path / "pg")
        try:
            warehouse.bootstrap(params)
            medians = bench_copy(params, path, args.rows, args.repeats)
            copy_s, lineage_s, load_s = medians["plain"], medians["lineage"], medians["loader"]
            print(f"\npsql \\copy into a text table : {args.rows / copy_s:>10,.0f} rows/s  ({copy_s:.2f} s, median)")
            print(
                f"  same, raw table's lineage  : {args.rows / lineage_s:>10,.0f} rows/s  ({lineage_s:.2f} s, median;"
                " the 5 lineage values per row filled by defaults)"
            )
            print(f"elt loader (COPY + lineage)  : {args.rows / load_s:>10,.0f} rows/s  ({load_s:.2f} s, median)")
            ratio = copy_s / load_s
            verdict = "met" if ratio >= 0.7 else "NOT met"
            print(f"loader / \\copy               : {ratio:>10.2f}   (goal >= 0.70: {verdict})")
            if not args.skip_dag:
                with warehouse.connect(params, autocommit=True) as conn:
                    conn.execute("drop database if exists warehouse_dag")
                dag_params = params.database("warehouse_dag")
                warehouse.bootstrap(dag_params)
                seconds = bench_dag_run(dag_params, landing, tmp_path / "state")
                print(
                    f"vouchers_daily on {args.rows:,} rows: {seconds:.0f} s  "
                    f"(goal < 90 s: {'met' if seconds < 90 else 'NOT met'})"
                )
        finally:
            localdb.stop(tmp_path / "pg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
