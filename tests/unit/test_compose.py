"""docker-compose.yaml, Dockerfile and .env.example: the team stack is complete and documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE = PROJECT / "docker-compose.yaml"
ENV_EXAMPLE = PROJECT / ".env.example"
DOCKERFILE = PROJECT / "Dockerfile"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
SERVICES = ("postgres", "redis", *AIRFLOW_SERVICES)
# A compose interpolation `${VAR...}`; `$${VAR}` is an escaped shell variable, not one of compose's.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE = re.compile(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def common_env(compose: dict) -> dict:
    return compose["x-airflow-common"]["environment"]


def test_all_services_exist(compose: dict) -> None:
    assert set(SERVICES) <= set(compose["services"])


def test_airflow_services_share_the_common_environment(compose: dict, common_env: dict) -> None:
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        assert {key: env.get(key) for key in common_env} == common_env, name
    jwt = common_env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert jwt.startswith("${AIRFLOW__API_AUTH__JWT_SECRET")


def test_airflow_services_use_the_common_anchor() -> None:
    text = COMPOSE.read_text()
    for name in AIRFLOW_SERVICES:
        block = text.split(f"\n  {name}:\n", 1)[1].split("\n  airflow-", 1)[0]
        assert "<<: *airflow-common\n" in block, name


def test_celery_executor_and_connections(compose: dict, common_env: dict) -> None:
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert common_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert common_env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert common_env["AIRFLOW_CONN_WAREHOUSE"].startswith("postgres://elt:")
    assert common_env["AIRFLOW_CONN_WAREHOUSE"].endswith("@postgres:5432/warehouse")
    assert common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert common_env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert common_env["ELT_LANDING_DIR"] == "/opt/airflow/data/landing"
    assert common_env["ELT_STATE_DIR"] == "/opt/airflow/.elt"
    assert "/opt/airflow/plugins" in common_env["PYTHONPATH"]
    assert common_env["DO_NOT_TRACK"] == "1"
    assert common_env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert common_env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"


def test_project_folders_are_mounted(compose: dict) -> None:
    targets = {volume.split(":")[1] for volume in compose["x-airflow-common"]["volumes"]}
    for folder in ("dags", "plugins", "dbt_project", "expectations", "data"):
        assert f"/opt/airflow/{folder}" in targets


def test_postgres_creates_the_warehouse(compose: dict) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert postgres["environment"]["POSTGRES_DB"] == "airflow"
    assert any(v.startswith("./docker/postgres-init:/docker-entrypoint-initdb.d") for v in postgres["volumes"])
    scripts = list((PROJECT / "docker" / "postgres-init").glob("*.sh"))
    assert scripts and "create database warehouse" in scripts[0].read_text()


def test_start_order_and_healthchecks(compose: dict) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", *AIRFLOW_SERVICES[1:]):
        assert "healthcheck" in services[name], name
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]
    assert "airflow db migrate" in services["airflow-init"]["command"][1]


def test_no_literal_secrets(compose: dict, common_env: dict) -> None:
    secrets = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY")
    for key in secrets:
        assert common_env[key].startswith("${"), key
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW_CONN_WAREHOUSE"):
        assert ":${" in common_env[key], key
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_every_compose_variable_is_documented() -> None:
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    documented = set(ENV_LINE.findall(ENV_EXAMPLE.read_text()))
    assert {"AIRFLOW__API_AUTH__JWT_SECRET", "POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD"} <= used
    assert used - documented == set()


def test_env_example_documents_the_project_settings() -> None:
    text = ENV_EXAMPLE.read_text()
    documented = set(ENV_LINE.findall(text))
    expected = {
        "ELT_WAREHOUSE_URL",
        "AIRFLOW_CONN_WAREHOUSE",
        "ELT_LANDING_DIR",
        "ELT_STATE_DIR",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__FERNET_KEY",
        "POSTGRES_PASSWORD",
        "WAREHOUSE_PASSWORD",
        "AIRFLOW_UID",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY",
        "DO_NOT_TRACK",
        "DBT_SEND_ANONYMOUS_USAGE_STATS",
    }
    assert expected <= documented
    # The warehouse lines are commented out: empty means the embedded server.
    assert re.search(r"^# ?ELT_WAREHOUSE_URL=", text, re.MULTILINE)
    assert re.search(r"^# ?AIRFLOW_CONN_WAREHOUSE=", text, re.MULTILINE)
    assert "ELT_LANDING_DIR=data/landing\n" in text


def test_dockerfile_matches_the_locked_airflow() -> None:
    pins = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    airflow = next(pin.split("==")[1] for pin in pins if pin.startswith("apache-airflow=="))
    text = DOCKERFILE.read_text()
    assert f"ARG AIRFLOW_VERSION={airflow}\n" in text
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python3.11" in text.replace("${PYTHON_VERSION}", "3.11")
    assert "uv export" in text and "--frozen" in text
