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


def bench_copy(params: warehouse.ServerParams, path: Path, rows: int, repeats: int) -> tuple[float, float]:
    """Median seconds of `psql \\copy` into an all-text table and of the loader, alternating runs."""
    columns = ", ".join(f'"{c}" text' for c in COLUMNS)
    with warehouse.connect(params, autocommit=True) as conn:
        conn.execute(f"drop table if exists public.copy_baseline; create table public.copy_baseline ({columns})")
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    psql = [localdb.psql_path(), params.libpq_url(), "-v", "ON_ERROR_STOP=1", "-qc"]
    copy_cmd = f"\\copy public.copy_baseline ({names}) from '{path}' with (format csv, header true)"
    landing = path.parents[2]
    copy_times, load_times = [], []
    for attempt in range(1, repeats + 1):
        with warehouse.connect(params, autocommit=True) as conn:
            conn.execute("truncate public.copy_baseline")
        copy_times.append(_time(lambda: subprocess.run([*psql, copy_cmd], check=True)))
        load_times.append(_time(lambda: load.load_partition("vouchers", DAY, landing, params)))
        print(f"  run {attempt}: psql \\copy {copy_times[-1]:.2f} s, loader {load_times[-1]:.2f} s", flush=True)
    with warehouse.connect(params) as conn:
        loaded = conn.execute("select count(*) from raw_vouchers.voucher_assignments").fetchone()[0]
    assert loaded == rows, f"loader loaded {loaded} rows, expected {rows}"
    return statistics.median(copy_times), statistics.median(load_times)


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
    parser.add_argument("--repeats", type=int, default=3)
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
            copy_s, load_s = bench_copy(params, path, args.rows, args.repeats)
            print(f"\npsql \\copy into a text table : {args.rows / copy_s:>10,.0f} rows/s  ({copy_s:.2f} s, median)")
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
