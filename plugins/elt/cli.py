"""The `elt` command: embedded database, sample data, DAG runs and backfills, the Airflow UI."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date

from elt import config

log = logging.getLogger("elt")

EPILOG = """examples:
  elt db start                                  start the embedded Postgres (first time: create it)
  psql "$(elt db url)"                          query the warehouse (or: elt db psql)
  elt generate all --start 2024-01-01 --days 7  write sample files into the landing zone
  elt run vouchers_daily --date 2024-01-07      one run for the partition 2024-01-07
  elt backfill all --start 2024-01-01 --end 2024-01-07
  elt report --date 2024-01-07                  what the marts and exceptions hold
  elt airflow                                   the Airflow UI on http://localhost:8080
  elt api                                       the voucher lookup API on http://127.0.0.1:8000 (docs: /docs)
  elt dashboard                                 the marts' dashboard on http://127.0.0.1:8501
"""


def _conf(text: str) -> dict:
    """A run's params as a JSON object, e.g. '{"freshness": "block"}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--conf is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--conf must be a JSON object")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_db(args: argparse.Namespace) -> int:
    from elt import localdb, warehouse

    configured = warehouse.configured_params()
    if args.action == "url":
        print((configured or warehouse.embedded_params()).libpq_url())
        return 0
    if args.action == "psql":
        params = configured or warehouse.embedded_params()
        psql = localdb.psql_path()
        os.execv(psql, [psql, params.libpq_url(), *args.rest])
    if configured is not None:
        print(f"A server is configured ({configured.host}:{configured.port}); the embedded one is not used.")
        if args.action == "start":
            warehouse.bootstrap(configured)
            print("Warehouse schemas, audit tables and roles are in place.")
        return 0
    if args.action == "start":
        params = localdb.start()
        warehouse.bootstrap(params)
        print(f'Embedded Postgres is running in {localdb.data_dir()}\n  psql "{params.libpq_url()}"')
    elif args.action == "stop":
        print("stopped" if localdb.stop() else "the embedded Postgres was not running")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from elt.generate import generate

    paths = generate(args.source, config.landing_dir(), args.start, args.days, seed=args.seed, scale=args.scale)
    print(f"wrote {len(paths)} file(s) under {config.landing_dir()}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from elt import backfill, runner

    backfill.quiet_airflow_logs()
    runner.prepare()
    # the worker imports for seconds: it starts before the checks, not after them
    with backfill.started_workers(1, [args.dag_id]) as workers:
        backfill.check_is_partition(args.dag_id, args.date)
        failures = backfill.run_backfills(
            [args.dag_id], args.date, args.date, reprocess="completed", conf=args.conf, started=workers
        )
    print(f"{args.dag_id} {args.date}: {'success' if failures == 0 else 'FAILED'}")
    return 0 if failures == 0 else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    from elt import backfill, runner

    if args.end < args.start:
        raise SystemExit(f"--end {args.end} is before --start {args.start}")
    if "all" in args.dag_ids and len(args.dag_ids) > 1:
        raise SystemExit("give either `all` or DAG ids, not both")
    backfill.quiet_airflow_logs()
    runner.prepare()
    dag_ids = sorted(runner.load_dags()) if args.dag_ids == ["all"] else list(dict.fromkeys(args.dag_ids))
    clock = time.monotonic()
    failures = backfill.run_backfills(
        dag_ids,
        args.start,
        args.end,
        reprocess=args.reprocess,
        conf=args.conf,
        max_active_runs=args.max_active_runs,
    )
    print(f"backfill done in {time.monotonic() - clock:.0f} s: {failures} run(s) failed")
    return 0 if failures == 0 else 1


def cmd_report(args: argparse.Namespace) -> int:
    from elt.report import print_report

    print_report(args.date)
    return 0


def _check_ui_port(host: str, port: int) -> None:
    """Refuse a port that Airflow's own log servers take, or that something else already listens on."""
    import socket

    from airflow.configuration import conf

    log_ports = {conf.getint("logging", "worker_log_server_port"), conf.getint("logging", "trigger_log_server_port")}
    if port in log_ports:
        raise SystemExit(
            f"port {port} is taken by Airflow's log servers (ports {', '.join(map(str, sorted(log_ports)))}); "
            "choose another with --port"
        )
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port") from None


def cmd_airflow(args: argparse.Namespace) -> int:
    from elt import runner

    os.environ["AIRFLOW__API__HOST"], os.environ["AIRFLOW__API__PORT"] = args.host, str(args.port)
    env = runner.prepare()
    _check_ui_port(args.host, args.port)
    runner.sync_dags()
    runner.parse_dbt_project()
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    login = (
        "no login (local mode; set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=False in .env to require one)"
        if env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True"
        else f"user admin, password in {env['AIRFLOW_HOME']}/simple_auth_manager_passwords.json.generated"
    )
    print(
        "Starting Airflow (api-server, scheduler, dag-processor, triggerer) with the project's config.\n"
        f"  UI: http://{args.host}:{args.port}  ({login})\n"
        "  The project's DAGs are not paused: backfills made in the UI or with `elt backfill` start at once.\n"
        "  Stop with Ctrl-C.",
        flush=True,
    )
    return _run_until_stopped([airflow, "standalone"])


def _run_until_stopped(command: list[str]) -> int:
    """Run `command` until it ends; a SIGTERM or SIGHUP to this process stops it as Ctrl-C does. (`airflow
    standalone` stops its scheduler, triggerer and dag-processor on Ctrl-C only: killed otherwise, it leaves
    them running, tasks and all.)"""
    import signal
    import subprocess

    # a shell that starts `elt airflow &` without job control makes it ignore SIGINT, and so its child: Airflow would
    # then never see the Ctrl-C this function sends it
    process = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def stop(signum: int, frame: object) -> None:
        process.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # Ctrl-C reached the whole process group, Airflow too: wait for it to stop
            continue


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from elt import warehouse

    params = warehouse.role_params(warehouse.ANALYST)
    print(
        f"Voucher lookup API on http://{args.host}:{args.port}/vouchers/most-used  (docs: /docs)\n"
        f"  reading {params.dbname} on {params.host}:{params.port} as {params.user}; stop with Ctrl-C",
        flush=True,
    )
    uvicorn.run("elt.serve.api:app", host=args.host, port=args.port, log_level="info" if args.verbose else "warning")
    return 0


def dashboard_command(host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """`streamlit run` of the dashboard (headless, no usage statistics) and its environment: the warehouse as the
    analyst role, its password in the environment (never on the command line), no other role's secrets."""
    from dataclasses import replace

    from elt import warehouse
    from elt.serve import dashboard_script

    params = warehouse.role_params(warehouse.ANALYST)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"AIRFLOW_CONN_WAREHOUSE", *warehouse.ROLE_PASSWORD_SETTINGS.values()}
    }
    env |= {
        "ELT_ENV_FILE": os.devnull,  # the settings are these, not the owner's in .env
        "ELT_WAREHOUSE_URL": replace(params, password="").libpq_url(),
        warehouse.ROLE_PASSWORD_SETTINGS[warehouse.ANALYST]: params.password or "",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(dashboard_script()),
        "--server.headless=true", f"--server.address={host}", f"--server.port={port}",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", "--client.toolbarMode=viewer",
    ]  # fmt: skip
    return command, env


def cmd_dashboard(args: argparse.Namespace) -> int:
    command, env = dashboard_command(args.host, args.port)
    print(
        f"Dashboard on http://{args.host}:{args.port}  (reading marts and audit as elt_analyst, read-only);"
        " stop with Ctrl-C",
        flush=True,
    )
    os.execve(sys.executable, command, env)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="elt", description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("-v", "--verbose", action="store_true", help="show debug logs")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="start/stop the embedded Postgres, print the warehouse URL, open psql")
    db.add_argument("action", choices=["start", "stop", "url", "psql"])
    db.add_argument("rest", nargs=argparse.REMAINDER, help="extra psql arguments (with psql)")
    db.set_defaults(func=cmd_db)

    gen = sub.add_parser("generate", help="write deterministic sample files into the landing zone")
    gen.add_argument("source", help="a source name, or all")
    gen.add_argument("--start", type=_date, required=True, help="first partition date, YYYY-MM-DD")
    gen.add_argument("--days", type=int, default=7, help="number of daily partitions (default 7)")
    gen.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    gen.add_argument(
        "--scale",
        type=float,
        default=None,
        help="volume relative to a full-size export, for sources that take it (thelook; default 0.01)",
    )
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="one DAG run whose data interval starts at DATE (run again if it ran before)")
    run.add_argument("dag_id")
    run.add_argument("--date", type=_date, required=True, help="partition date, YYYY-MM-DD")
    run.add_argument("--conf", type=_conf, default=None, help="the run's params as JSON, e.g. '{\"clusters\": 4}'")
    run.set_defaults(func=cmd_run)

    back = sub.add_parser(
        "backfill",
        help="an Airflow backfill of DAGs (or all) between two partition dates: run by the scheduler when one "
        "runs, in-process otherwise",
    )
    back.add_argument("dag_ids", nargs="+", metavar="DAG_ID", help="one or more DAG ids, or all")
    back.add_argument("--start", type=_date, required=True)
    back.add_argument("--end", type=_date, required=True)
    back.add_argument("--conf", type=_conf, default=None, help="params for every run, as JSON")
    back.add_argument(
        "--reprocess",
        choices=["none", "failed", "completed"],
        default="failed",
        help="partitions that already ran: none skips them, failed (default) runs the failed ones again, "
        "completed runs every one again (Airflow's reprocess behaviour, as in the UI)",
    )
    back.add_argument("--max-active-runs", type=int, default=1, help="partitions run at the same time (default 1)")
    back.set_defaults(func=cmd_backfill)

    report = sub.add_parser("report", help="print what the marts and the exceptions hold")
    report.add_argument("--date", type=_date, default=None, help="as-of date (default: the latest)")
    report.set_defaults(func=cmd_report)

    af = sub.add_parser("airflow", help="start Airflow with the project's config (UI on 127.0.0.1:8080)")
    af.add_argument("--host", default="127.0.0.1", help="address the UI listens on (default 127.0.0.1)")
    af.add_argument("--port", type=int, default=8080, help="port of the UI (default 8080)")
    af.set_defaults(func=cmd_airflow)

    api = sub.add_parser("api", help="serve the voucher lookup API (read-only, as the analyst role)")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    api.set_defaults(func=cmd_api)

    dash = sub.add_parser("dashboard", help="serve the marts' dashboard (read-only, as the analyst role)")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dash.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    dash.set_defaults(func=cmd_dashboard)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return args.func(args)
    except (KeyError, ValueError, RuntimeError) as exc:  # BackfillError is a RuntimeError
        print(f"elt: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
