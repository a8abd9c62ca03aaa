"""Connection settings: the same server described as a libpq URL, an Airflow connection, or the embedded default."""

from __future__ import annotations

import json

import pytest

from elt import warehouse
from elt.warehouse import ServerParams

SOCKET = ServerParams(host="/tmp/elt sock/pg", port=5432, user="postgres", password="p@ss", dbname="warehouse")
TCP = ServerParams(host="db.internal", port=6543, user="elt", password="secret", dbname="warehouse")


@pytest.mark.parametrize("params", [SOCKET, TCP])
def test_libpq_url_round_trips(params: ServerParams) -> None:
    assert warehouse._params_from_libpq(params.libpq_url()) == params


@pytest.mark.parametrize("params", [SOCKET, TCP])
def test_airflow_conn_uri_round_trips(params: ServerParams) -> None:
    assert warehouse._params_from_airflow_conn(params.airflow_conn_uri()) == params


def test_airflow_conn_json_form() -> None:
    value = json.dumps(
        {"conn_type": "postgres", "host": "/run/pg", "port": 5432, "login": "u", "password": "x", "schema": "warehouse"}
    )
    assert warehouse._params_from_airflow_conn(value) == ServerParams("/run/pg", 5432, "u", "x", "warehouse")


def test_socket_directory_is_percent_encoded_in_the_airflow_uri() -> None:
    assert SOCKET.airflow_conn_uri().startswith("postgres://postgres:p%40ss@%2Ftmp%2Felt%20sock%2Fpg:5432/")


def test_configured_server_wins_over_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_WAREHOUSE_URL", TCP.libpq_url())
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", SOCKET.airflow_conn_uri())
    assert warehouse.warehouse_params() == TCP
    monkeypatch.delenv("ELT_WAREHOUSE_URL")
    assert warehouse.warehouse_params() == SOCKET
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE")
    assert warehouse.warehouse_params() == warehouse.embedded_params()
