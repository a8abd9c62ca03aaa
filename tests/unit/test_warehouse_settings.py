"""Connection settings: one server written as a libpq URL, a SQLAlchemy URL, an Airflow connection (URI or JSON)
or libpq variables reads back the same, options and all, and always in UTC."""

from __future__ import annotations

import json

import psycopg
import pytest

from elt import connection, warehouse
from elt.connection import ServerParams

OPTIONS = {"sslmode": "disable", "application_name": "x", "options": "-c statement_timeout=5s"}
SOCKET = ServerParams(host="/tmp/elt sock/Pg", port=5432, user="postgres", password="p@ss", dbname="warehouse")
TCP = ServerParams(host="db.internal", port=6543, user="elt", password="s3cret:/?#% +", dbname="ware house")
WITH_OPTIONS = ServerParams("db.internal", 5432, "elt", "secret", "warehouse", OPTIONS)
SOCKET_WITH_OPTIONS = ServerParams(SOCKET.host, 5432, "postgres", "p@ss", "warehouse", OPTIONS)
IPV6 = ServerParams("::1", 5433, "elt", "secret", "warehouse", OPTIONS)
ALL = [SOCKET, TCP, WITH_OPTIONS, SOCKET_WITH_OPTIONS, IPV6]
USER_URL = "postgresql://elt:secret@db.internal:5432/warehouse?sslmode=disable&application_name=x&options=-c%20statement_timeout%3D5s"


@pytest.mark.parametrize("params", ALL)
@pytest.mark.parametrize(
    ("render", "parse"),
    [
        (ServerParams.libpq_url, connection.from_libpq),
        (ServerParams.conninfo, connection.from_libpq),
        (ServerParams.sqlalchemy_url, connection.from_sqlalchemy_url),
        (ServerParams.airflow_conn_uri, connection.from_airflow_uri),
    ],
    ids=["libpq-url", "conninfo", "sqlalchemy-url", "airflow-uri"],
)
def test_every_form_round_trips(params: ServerParams, render, parse) -> None:
    assert parse(render(params)) == params


def test_a_user_url_keeps_its_options_through_every_form() -> None:
    params = connection.from_libpq(USER_URL)
    assert params == WITH_OPTIONS
    assert dict(params.options) == {**OPTIONS, "options": "-c statement_timeout=5s -c TimeZone=UTC"}
    through = connection.from_airflow_uri(
        connection.from_sqlalchemy_url(connection.from_libpq(params.libpq_url()).sqlalchemy_url()).airflow_conn_uri()
    )
    assert through == params
    # psycopg (libpq) reads every option from each rendering, not just ours
    for text in (params.libpq_url(), params.conninfo()):
        parsed = psycopg.conninfo.conninfo_to_dict(text)
        assert {key: parsed[key] for key in OPTIONS} == dict(params.options)


def test_airflow_json_form_with_extra() -> None:
    value = {
        "conn_type": "postgres",
        "host": "/run/pg",
        "port": 5432,
        "login": "u",
        "password": "x",
        "schema": "warehouse",
        # `cursor` is an option of Airflow's hook, not of libpq: left out
        "extra": {**OPTIONS, "connect_timeout": 7, "cursor": "dictcursor"},
    }
    expected = ServerParams("/run/pg", 5432, "u", "x", "warehouse", {**OPTIONS, "connect_timeout": "7"})
    assert connection.from_airflow_value(json.dumps(value)) == expected
    # Airflow also accepts `extra` as a JSON string
    assert connection.from_airflow_value(json.dumps({**value, "extra": json.dumps(value["extra"])})) == expected
    assert connection.from_airflow_uri(expected.airflow_conn_uri()) == expected


def test_airflow_uri_with_extra_as_json() -> None:
    uri = "postgres://u:x@db:5432/warehouse?__extra__=" + json.dumps(OPTIONS).replace(" ", "%20")
    assert dict(connection.from_airflow_uri(uri).options)["sslmode"] == "disable"


@pytest.mark.parametrize("params", ALL)
def test_airflow_reads_our_uri_as_we_do(params: ServerParams) -> None:
    """Airflow's own Connection parses the URI we export into the fields we read back, and its URI of those
    fields reads back the same."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id="warehouse", uri=params.airflow_conn_uri())
    assert (conn.host, conn.port, conn.login, conn.password, conn.schema) == (
        params.host,
        params.port,
        params.user,
        params.password,
        params.dbname,
    )
    assert conn.extra_dejson == dict(params.options)
    assert connection.from_airflow_connection(conn) == params
    assert connection.from_airflow_uri(conn.get_uri()) == params


def test_socket_directory_is_percent_encoded_in_the_airflow_uri() -> None:
    assert SOCKET.airflow_conn_uri().startswith("postgres://postgres:p%40ss@%2Ftmp%2Felt%20sock%2FPg:5432/")


def test_every_connection_runs_in_utc() -> None:
    assert SOCKET.option("options") == "-c TimeZone=UTC"
    # a zone of the user's own is overridden: the last -c wins
    berlin = ServerParams("h", 5432, "u", "p", "d", {"options": "-c TimeZone=Europe/Berlin"})
    assert berlin.option("options") == "-c TimeZone=Europe/Berlin -c TimeZone=UTC"
    # adding it is idempotent
    assert ServerParams("h", 5432, "u", "p", "d", berlin.options) == berlin


def test_libpq_environment_carries_the_options() -> None:
    assert WITH_OPTIONS.libpq_env() == {
        "PGSSLMODE": "disable",
        "PGAPPNAME": "x",
        "PGOPTIONS": "-c statement_timeout=5s -c TimeZone=UTC",
    }


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="not a libpq option"):
        ServerParams("h", 5432, "u", "p", "d", {"sslmod": "disable"})
    with pytest.raises(psycopg.ProgrammingError):
        connection.from_libpq("postgresql://u@h/d?sslmod=disable")


def test_configured_server_wins_over_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_WAREHOUSE_URL", WITH_OPTIONS.libpq_url())
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", SOCKET.airflow_conn_uri())
    assert warehouse.warehouse_params() == WITH_OPTIONS
    monkeypatch.delenv("ELT_WAREHOUSE_URL")
    assert warehouse.warehouse_params() == SOCKET
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE")
    assert warehouse.warehouse_params() == warehouse.embedded_params()
