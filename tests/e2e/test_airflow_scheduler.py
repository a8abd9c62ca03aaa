"""As users run it: `elt airflow` (scheduler and api-server), then `elt backfill` for part of a range and a backfill
made through the REST API (what the UI's Backfill button calls) for the whole range. Every partition is loaded
exactly once, under its own logical date, with run durations of seconds, not days."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from elt import warehouse
from elt.generate import generate
from elt.serve.running import stop_group
from elt.sources import SOURCES

DAYS = [date(2019, 3, 4) + timedelta(days=n) for n in range(2)]  # years back, as real exports are


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, path: str, body: dict | None = None, method: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method or ("POST" if data else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


@pytest.fixture
def airflow_ui(elt_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`elt airflow --port P` on a free port; its base URL. Everything it started is stopped afterwards."""
    port = _free_port()
    log = (tmp_path / "airflow.log").open("w")
    # the log servers of the scheduler and triggerer too: another Airflow on this machine may hold 8793/8794
    env = {
        **elt_env,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "elt"), "airflow", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _api(base, "/api/v2/monitor/health")["scheduler"]["status"] == "healthy", 180, "the scheduler")
        yield base
    finally:
        # stopped as a service manager or `kill` stops it: a SIGTERM to `elt airflow` alone
        left = stop_group(process)
        log.close()
        assert not left, f"`elt airflow` stopped by SIGTERM left processes running: {left}"


def test_cli_and_rest_backfills_load_every_partition_exactly_once(
    elt: Callable[..., subprocess.CompletedProcess], elt_env: dict[str, str], landing: Path, airflow_ui: str
) -> None:
    generate("vouchers", landing, DAYS[0], len(DAYS), seed=3, rows_per_day=200)
    others = sorted({dag_id for source in SOURCES.values() for dag_id in source.dag_ids} - {"vouchers_daily"})
    for other in others:  # not under test: leave the CPU to vouchers
        _api(airflow_ui, f"/api/v2/dags/{other}", {"is_paused": True}, method="PATCH")

    # part of the range from the command line: handed to the running scheduler
    result = elt("backfill", "vouchers_daily", "--start", DAYS[0].isoformat(), "--end", DAYS[0].isoformat())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "by the running Airflow scheduler" in result.stdout
    assert f"vouchers_daily {DAYS[0]}: success" in result.stdout

    # the whole range through the REST API, as the UI's Backfill button does ("Missing runs", 2 at a time)
    backfill = _api(
        airflow_ui,
        "/api/v2/backfills",
        {
            "dag_id": "vouchers_daily",
            "from_date": f"{DAYS[0]}T00:00:00Z",
            "to_date": f"{DAYS[-1]}T00:00:00Z",
            "reprocess_behavior": "none",
            "max_active_runs": 2,
        },
    )
    _wait(
        lambda: _api(airflow_ui, f"/api/v2/backfills/{backfill['id']}")["completed_at"] is not None,
        600,
        "the REST backfill",
    )

    with warehouse.connect() as conn:
        loads = conn.execute(
            "select partition_date, count(distinct batch_id) from audit.load_log"
            " where status = 'loaded' group by 1 order by 1"
        ).fetchall()
    assert loads == [(day, 1) for day in DAYS], "every partition loaded exactly once"

    runs = _api(airflow_ui, "/api/v2/dags/vouchers_daily/dagRuns?run_type=backfill&order_by=logical_date")["dag_runs"]
    assert [run["logical_date"][:10] for run in runs] == [day.isoformat() for day in DAYS]
    for run in runs:
        assert run["state"] == "success", run
        assert run["logical_date"] == run["data_interval_start"], "a run's logical date is its partition"
        assert run["end_date"] is not None
        took = _seconds(run["end_date"]) - _seconds(run["start_date"])
        assert 0 < took < 900, f"{run['run_id']} took {took:.0f} s"
        instances = _api(airflow_ui, f"/api/v2/dags/vouchers_daily/dagRuns/{run['dag_run_id']}/taskInstances")
        assert instances["total_entries"] >= 3
        assert {ti["state"] for ti in instances["task_instances"]} == {"success"}, "every task ran"

    _assert_assets_listed(airflow_ui)
    _assert_lineage_written(Path(elt_env["ELT_STATE_DIR"]) / "openlineage" / "events.jsonl")
    _assert_docs_served(airflow_ui)


def _assert_docs_served(base: str) -> None:
    """The api-server serves the GX data docs the runs built under /elt-docs, and the UI's navigation lists the docs
    views (GET /api/v2/plugins)."""
    plugins = {plugin["name"]: plugin for plugin in _api(base, "/api/v2/plugins")["plugins"]}
    views = {view["name"]: view["href"] for view in plugins["elt_docs"]["external_views"]}
    assert views == {"dbt docs": "/elt-docs/dbt/", "Data docs": "/elt-docs/data/"}
    with urllib.request.urlopen(base + "/elt-docs/data/", timeout=30) as response:
        page = response.read().decode()
    assert "raw_vouchers" in page, "the data docs list the suite the runs validated"


def _assert_lineage_written(events_file: Path) -> None:
    """The OpenLineage provider wrote the runs' events to the default file transport, the validate task's with its
    raw table as output (the asset, as an OpenLineage dataset)."""
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    validated = [
        event
        for event in events
        if event.get("eventType") == "COMPLETE" and event["job"]["name"] == "vouchers_daily.validate"
    ]
    assert len(validated) >= len(DAYS), [e["job"]["name"] for e in events][:20]
    outputs = {(o["namespace"], o["name"]) for event in validated for o in event.get("outputs", [])}
    assert ("postgres://warehouse:5432", "warehouse.raw_vouchers.voucher_assignments") in outputs, outputs


def _assert_assets_listed(base: str) -> None:
    """The Assets view (GET /api/v2/assets) lists each DAG's assets with who produces and who reads them; a
    validated partition is an asset event naming its partition."""
    listed = {asset["name"]: asset for asset in _api(base, "/api/v2/assets?limit=500")["assets"]}

    def tasks(name: str, kind: str) -> set[str]:
        return {f"{ref['dag_id']}.{ref['task_id']}" for ref in listed[name][kind]}

    raw_vouchers = "raw_vouchers.voucher_assignments"
    assert listed[raw_vouchers]["uri"] == "postgres://warehouse:5432/warehouse/raw_vouchers/voucher_assignments"
    assert tasks(raw_vouchers, "producing_tasks") == {"vouchers_daily.validate"}
    voucher_mart = {"vouchers_daily.transform.voucher_most_used_model_build"}
    assert tasks("marts.voucher_most_used", "producing_tasks") == voucher_mart
    # the flow from thelook_daily to customer_segments_weekly
    assert tasks("raw_thelook.order_items", "producing_tasks") == {"thelook_daily.validate"}
    assert tasks("raw_thelook.order_items", "consuming_tasks") == {
        "customer_segments_weekly.check_freshness",
        "customer_segments_weekly.mart.customer_segments_model_build",
    }
    assert tasks("marts.customer_segments", "producing_tasks") == {
        "customer_segments_weekly.mart.customer_segments_model_build"
    }
    assert tasks("marts.customer_clusters", "producing_tasks") == {"customer_segments_weekly.cluster_customers"}
    for name in ("marts.electronics_kpis", "marts.store_sales_hourly", "marts.store_activity_daily"):
        assert listed[name]["producing_tasks"], name

    events = _api(base, f"/api/v2/assets/events?asset_id={listed[raw_vouchers]['id']}&order_by=timestamp")
    partitions = sorted(event["extra"]["partition_date"] for event in events["asset_events"])
    # (the scheduler may also have run the latest interval, which has no files: DAGs are created unpaused)
    backfilled = [p for p in partitions if p in {day.isoformat() for day in DAYS}]
    assert backfilled == [day.isoformat() for day in DAYS], f"one event per validated partition: {partitions}"
    assert {event["source_task_id"] for event in events["asset_events"]} == {"validate"}


def _seconds(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def test_the_ui_port_must_be_free_and_not_a_log_server_port(elt: Callable[..., subprocess.CompletedProcess]) -> None:
    """`elt airflow` on Airflow's own log-server port, or on a port in use, says so instead of starting half."""
    taken = elt("airflow", "--port", "8793")
    assert taken.returncode != 0
    assert "port 8793 is taken by Airflow's log servers" in taken.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        in_use = elt("airflow", "--port", str(port))
    assert in_use.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in in_use.stderr
