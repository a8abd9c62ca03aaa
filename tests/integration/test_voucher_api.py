"""The voucher lookup API (elt.serve.api) served by uvicorn on a free loopback port, queried with a real HTTP client
against the vouchers marts built by dbt from the hand-made input of test_dbt_vouchers.py: its answers are
marts.most_used_voucher's, its errors are 404/422/503 and never 500 (also under schemathesis), and its database role
reads marts only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from test_dbt_vouchers import DBT, F20, F21, build, insert_partition

from elt import warehouse
from elt.serve.api import create_app
from elt.serve.running import serving
from elt.warehouse import ServerParams

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in the project's venv")

LATEST = "2018-07-21"


@contextmanager
def serve(app) -> Iterator[str]:
    """`app` served by uvicorn in a thread on a loopback socket bound to a free port; its base URL once it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        app.state.pool.close()


@pytest.fixture(scope="module")
def marts(module_warehouse) -> ServerParams:
    """The vouchers mart of 2018-07-21 from partitions 2018-07-20 and 2018-07-21 of test_dbt_vouchers (one dbt build:
    the tests stay fast)."""
    with psycopg.connect(module_warehouse.params.libpq_url(), autocommit=True) as conn:
        insert_partition(conn, F20)
        insert_partition(conn, F21)
    build(module_warehouse.run_dbt, LATEST, "2018-07-22")
    return module_warehouse.params


@pytest.fixture(scope="module")
def api(marts: ServerParams) -> Iterator[str]:
    app = create_app(lambda: warehouse.role_params(warehouse.ANALYST, marts))
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api, timeout=10) as client:
        yield client


# (country_code, last_order_ts as sent, the same in UTC for the function, total_orders, segment_type, as_of)
CASES = [
    ("Peru", "2018-06-20T08:00:00", "2018-06-20 08:00", 5, "frequent_segment", None),  # 5-13, tie -> 1000
    ("Peru", "2018-06-20T08:00:00", "2018-06-20 08:00", 5, "recency_segment", "2018-08-25"),  # 66 days, 60-90
    ("Peru", "2018-06-21 15:00:00", "2018-06-21 15:00", 38, "recency_segment", None),  # 30 days, 0-30
    ("Peru", "2018-06-21", "2018-06-21", 38, "frequent_segment", "2018-07-30"),  # 37+ from the 2018-07-21 mart
    ("Peru", "2018-01-21T00:00:00", "2018-01-21", 37, "recency_segment", None),  # 181 days: 180+
    # an offset is converted to UTC: 2018-01-20 23:00 UTC, 182 days
    ("Peru", "2018-01-21T01:00:00+02:00", "2018-01-20 23:00", 0, "recency_segment", LATEST),
    (" China ", "2018-07-10T00:00:00", "2018-07-10", 2, "recency_segment", None),  # trimmed like the function
    ("Latvia", "2018-07-20T00:00:00", "2018-07-20", 3, "frequent_segment", None),
    ("Latvia", "2018-07-30T00:00:00", "2018-07-30", 3, "recency_segment", None),  # a last order after as_of
    ("China", "2018-07-10T00:00:00", "2018-07-10", 40, "frequent_segment", None),  # 37+: no voucher (null)
]


def function_answer(conn: psycopg.Connection, country, last_order, orders, segment_type, as_of) -> tuple:
    return conn.execute(
        "select marts.most_used_voucher(%s, %s::timestamp, %s, %s, %s::date),"
        " marts.voucher_segment(%s, %s::timestamp, %s, %s::date)",
        (country, last_order, orders, segment_type, as_of or LATEST, segment_type, last_order, orders, as_of or LATEST),
    ).fetchone()


def as_decimal(value: float | int | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def test_answers_equal_the_function_in_both_forms(client: httpx.Client, marts: ServerParams) -> None:
    with psycopg.connect(warehouse.role_params(warehouse.ANALYST, marts).conninfo()) as conn:
        for country, sent, utc, orders, segment_type, as_of in CASES:
            amount, segment = function_answer(conn, country, utc, orders, segment_type, as_of)
            params = {"country_code": country, "last_order_ts": sent, "total_orders": orders}
            params |= {"segment_type": segment_type} | ({"as_of": as_of} if as_of else {})
            new = client.get("/vouchers/most-used", params=params)
            assert new.status_code == 200, (params, new.text)
            body = new.json()
            assert body == {
                "voucher_amount": body["voucher_amount"],
                "segment": segment,
                "segment_type": segment_type,
                "as_of_date": LATEST,  # the latest mart on or before as_of
            }, params
            assert as_decimal(body["voucher_amount"]) == amount, (params, body, amount)

            customer = {
                "customer_id": 123,
                "country_code": country,
                "last_order_ts": sent,
                "first_order_ts": "2017-05-03 00:00:00",
                "total_orders": orders,
                "segment_name": segment_type,
            }
            older = client.get(
                "/vouchers/most-used", params={"customer": json.dumps(customer)} | ({"as_of": as_of} if as_of else {})
            )
            assert older.status_code == 200, (customer, older.text)
            assert older.json() == body
    # the example of the issue: an integral amount is a JSON integer
    assert client.get(
        "/vouchers/most-used",
        params={"country_code": "Peru", "last_order_ts": "2018-01-21", "segment_type": "recency_segment"},
    ).json() == {"voucher_amount": 2640, "segment": "180+", "segment_type": "recency_segment", "as_of_date": LATEST}


CUSTOMER = {
    "customer_id": 1,
    "country_code": "Peru",
    "last_order_ts": "2018-05-03 00:00:00",
    "first_order_ts": "2017-05-03 00:00:00",
    "total_orders": 15,
    "segment_name": "frequent_segment",
}

NOT_FOUND = [
    ({"country_code": "Atlantis", "total_orders": 5, "segment_type": "frequent_segment"}, "unknown country"),
    ({"country_code": "Peru", "total_orders": 5, "segment_type": "frequent_segment", "as_of": "2018-07-20"},
     "no voucher_most_used mart on or before 2018-07-20"),
    ({"customer": json.dumps(CUSTOMER | {"country_code": "Atlantis"})}, "unknown country"),
]  # fmt: skip

INVALID = [
    ({"country_code": "Peru", "total_orders": 5, "segment_type": "monetary_segment"}, "segment_type"),
    ({"country_code": "Peru", "last_order_ts": "yesterday", "segment_type": "recency_segment"}, "last_order_ts"),
    ({"country_code": "Peru", "last_order_ts": "2018-02-30 10:00", "segment_type": "recency_segment"}, "last_order_ts"),
    ({"country_code": "Peru", "total_orders": -1, "segment_type": "frequent_segment"}, "total_orders"),
    ({"country_code": "Peru", "total_orders": "3.5", "segment_type": "frequent_segment"}, "total_orders"),
    ({"country_code": "Peru", "total_orders": 5, "segment_type": "frequent_segment", "as_of": "2018-13-01"}, "as_of"),
    ({"total_orders": 5, "segment_type": "frequent_segment"}, "country_code"),
    ({"country_code": "Peru", "segment_type": "recency_segment"}, "last_order_ts"),
    ({"country_code": "Peru", "total_orders": 5}, "segment_type"),
    ({"country_code": "Pe\x00ru", "total_orders": 5, "segment_type": "frequent_segment"}, "country_code"),
    ({"customer": "{not json"}, "customer"),
    ({"customer": "[1, 2]"}, "customer"),
    ({"customer": json.dumps({k: v for k, v in CUSTOMER.items() if k != "segment_name"})}, "segment_name"),
    ({"customer": json.dumps(CUSTOMER | {"segment_name": "monetary_segment"})}, "segment_name"),
    ({"customer": json.dumps(CUSTOMER | {"total_orders": -3})}, "total_orders"),
    ({"customer": json.dumps(CUSTOMER | {"first_order_ts": "2017-02-30"})}, "first_order_ts"),
    ({"customer": json.dumps(CUSTOMER | {"last_order_ts": "0001-01-01T00:00:00+05:00"})}, "last_order_ts"),
    ({"customer": json.dumps(CUSTOMER), "country_code": "Peru"}, "country_code"),
]  # fmt: skip


def test_unknown_country_or_date_is_a_404(client: httpx.Client) -> None:
    for params, message in NOT_FOUND:
        response = client.get("/vouchers/most-used", params=params)
        assert response.status_code == 404, (params, response.text)
        assert message in response.json()["detail"], response.text


def test_bad_input_is_a_422_naming_the_field(client: httpx.Client) -> None:
    for params, field in INVALID:
        response = client.get("/vouchers/most-used", params=params)
        assert response.status_code == 422, (params, response.text)
        locations = [error["loc"] for error in response.json()["detail"]]
        assert any(field in loc for loc in locations), (params, response.text)


def test_openapi_and_docs_are_served(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    answer = schema["components"]["schemas"]["VoucherAnswer"]
    assert set(answer["properties"]) == {"voucher_amount", "segment", "segment_type", "as_of_date"}
    assert set(schema["paths"]["/vouchers/most-used"]["get"]["responses"]) == {"200", "404", "422", "503"}
    assert "swagger" in client.get("/docs").text.lower()


def test_fuzzed_with_schemathesis(api: str) -> None:
    """Generated requests, valid and invalid by the schema: no 5xx, every response as the schema says."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    schema = schemathesis.openapi.from_url(f"{api}/openapi.json", wait_for_schema=10)
    operation = schema["/vouchers/most-used"]["GET"]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:
            case.call_and_validate(base_url=api, checks=[not_a_server_error, response_schema_conformance])

        fuzz()


def test_empty_warehouse_is_a_404_and_a_down_one_a_503(warehouse_params: ServerParams, tmp_path: Path) -> None:
    query = {"country_code": "Peru", "total_orders": 5, "segment_type": "frequent_segment"}
    empty = create_app(lambda: warehouse.role_params(warehouse.ANALYST, warehouse_params))
    with serve(empty) as url:
        response = httpx.get(f"{url}/vouchers/most-used", params=query)
        assert response.status_code == 404, response.text
        assert "not built" in response.json()["detail"]
    down = create_app(lambda: ServerParams(str(tmp_path), 5432, "elt_analyst", "", "warehouse"))  # no server there
    with serve(down) as url:
        response = httpx.get(f"{url}/vouchers/most-used", params=query)
        assert response.status_code == 503, response.text
        assert "cannot be reached" in response.json()["detail"]


def test_api_role_reads_marts_only(marts: ServerParams) -> None:
    with psycopg.connect(warehouse.role_params(warehouse.ANALYST, marts).conninfo(), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == ("elt_analyst",)
        assert conn.execute("select count(*) from marts.voucher_most_used").fetchone()[0] > 0
        for statement in (
            "select count(*) from raw_vouchers.voucher_assignments",
            "select count(*) from raw_thelook.users",
            "select count(*) from staging.voucher_segments",
            "delete from marts.voucher_most_used",
            "insert into marts.voucher_most_used (as_of_date) values ('2000-01-01')",
            "update marts.voucher_most_used set voucher_amount = 0",
            "create table marts.intruder (x int)",
            "create temporary table intruder (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
                raise AssertionError(f"elt_analyst may: {statement}")


def test_elt_api_command_serves_it(marts: ServerParams) -> None:
    env = {**os.environ, "ELT_WAREHOUSE_URL": marts.libpq_url()}
    with serving("api", "/openapi.json", env, seconds=30) as base:
        response = httpx.get(
            f"{base}/vouchers/most-used",
            params={"country_code": "Peru", "total_orders": 38, "segment_type": "frequent_segment"},
        )
    assert response.json() == {
        "voucher_amount": 3000, "segment": "37+", "segment_type": "frequent_segment", "as_of_date": LATEST
    }  # fmt: skip


MOUNT_PROBE = r"""
import json, sys
from fastapi import FastAPI
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import init_plugins
app = FastAPI()
init_plugins(app)  # what Airflow's api-server does with the plugins' fastapi_apps
lazy = "elt.serve.api" not in sys.modules
client = TestClient(app)
answer = client.get("/vouchers-api/vouchers/most-used",
                    params={"country_code": "Peru", "total_orders": 38, "segment_type": "frequent_segment"})
docs = client.get("/vouchers-api/docs")
print(json.dumps({"lazy": lazy, "status": answer.status_code, "answer": answer.json(),
                  "docs": docs.status_code == 200 and "/vouchers-api/openapi.json" in docs.text}))
"""


def test_airflow_api_server_mounts_it(marts: ServerParams, tmp_path: Path) -> None:
    """The plugin, loaded by Airflow's plugin manager from the project's plugins folder, mounts the API under
    /vouchers-api; loading it imports no FastAPI app."""
    plugins = Path(__file__).parents[2] / "plugins"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
        "PYTHONPATH": str(plugins),
        "ELT_WAREHOUSE_URL": marts.libpq_url(),
    }
    out = subprocess.run([sys.executable, "-c", MOUNT_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe == {
        "lazy": True,
        "status": 200,
        "answer": {"voucher_amount": 3000, "segment": "37+", "segment_type": "frequent_segment", "as_of_date": LATEST},
        "docs": True,
    }
