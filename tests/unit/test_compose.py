"""docker-compose.yaml, Dockerfile and .env.example: the team stack is complete, documented, and refuses to start
with placeholder or empty secrets (its check script is run here with such values)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from elt import connection

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE = PROJECT / "docker-compose.yaml"
ENV_EXAMPLE = PROJECT / ".env.example"
DOCKERFILE = PROJECT / "Dockerfile"
CHECK_SCRIPT = PROJECT / "docker" / "check-secrets.sh"
SECRETS = (
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__FERNET_KEY",
    "POSTGRES_PASSWORD",
    "WAREHOUSE_PASSWORD",
    "REDIS_PASSWORD",
    "_AIRFLOW_WWW_USER_PASSWORD",
    "ELT_LOADER_PASSWORD",
    "ELT_TRANSFORMER_PASSWORD",
    "ELT_ANALYST_PASSWORD",
)

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
SERVICES = ("check-secrets", "postgres", "redis", *AIRFLOW_SERVICES, "dashboard")
# A compose interpolation `${VAR...}`; `$${VAR}` is an escaped shell variable, not one of compose's.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
INTERPOLATION_WHOLE = re.compile(r"(?<!\$)\$\{[^}]*\}")
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
    assert common_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert common_env["AIRFLOW__CELERY__BROKER_URL"].endswith("}@redis:6379/0")
    assert common_env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    # the tasks connect as the login roles; only airflow-init, which bootstraps the warehouse, gets its owner
    for variable, role in (
        ("AIRFLOW_CONN_WAREHOUSE_LOADER", "elt_loader"),
        ("AIRFLOW_CONN_WAREHOUSE_TRANSFORMER", "elt_transformer"),
    ):
        params = connection.from_airflow_uri(INTERPOLATION_WHOLE.sub("secret", common_env[variable]))
        assert params == connection.ServerParams("postgres", 5432, role, "secret", "warehouse")
        assert "TimeZone%3DUTC" in common_env[variable]  # for any other user of the connection too
    assert "AIRFLOW_CONN_WAREHOUSE" not in common_env
    owner = compose["services"]["airflow-init"]["environment"]["AIRFLOW_CONN_WAREHOUSE"]
    owner_params = connection.from_airflow_uri(INTERPOLATION_WHOLE.sub("secret", owner))
    assert owner_params == connection.ServerParams("postgres", 5432, "elt", "secret", "warehouse")
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
    for name in set(services) - {"check-secrets"}:
        assert services[name]["depends_on"]["check-secrets"]["condition"] == "service_completed_successfully", name
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]
    assert "airflow db migrate" in services["airflow-init"]["command"][1]


def test_the_dashboard_reads_as_the_analyst_only(compose: dict, common_env: dict) -> None:
    dashboard = compose["services"]["dashboard"]
    assert dashboard["image"] == compose["x-airflow-common"]["image"]  # the same image as Airflow's services
    assert [*dashboard["entrypoint"], *dashboard["command"]] == [
        "python", "-m", "elt.cli", "dashboard", "--host", "0.0.0.0", "--port", "8501",
    ]  # fmt: skip
    env = dashboard["environment"]
    params = connection.from_libpq(env["ELT_WAREHOUSE_URL"])
    assert (params.user, params.password, params.host, params.dbname) == ("elt_analyst", "", "postgres", "warehouse")
    assert env["ELT_ANALYST_PASSWORD"].startswith("${ELT_ANALYST_PASSWORD:?")
    assert not {key for key in env if "PASSWORD" in key or key.startswith("AIRFLOW_CONN")} - {"ELT_ANALYST_PASSWORD"}
    assert not set(common_env) & set(env) - {"PYTHONPATH", "DO_NOT_TRACK"}
    assert dashboard["ports"] == ["127.0.0.1:${DASHBOARD_HOST_PORT:-8501}:8501"]
    assert dashboard["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_no_literal_secrets(compose: dict, common_env: dict) -> None:
    secrets = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY")
    for key in secrets:
        assert common_env[key].startswith("${"), key
    for key in (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW_CONN_WAREHOUSE_LOADER",
        "AIRFLOW_CONN_WAREHOUSE_TRANSFORMER",
    ):
        assert ":${" in common_env[key], key
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_compose_refuses_empty_secrets() -> None:
    """Every secret is interpolated as `${VAR:?…}`: compose stops, naming it, when it is empty or unset."""
    text = COMPOSE.read_text()
    for name in SECRETS:
        uses = re.findall(r"(?<!\$)\$\{" + name + r"([^A-Za-z0-9_][^}]*)?\}", text)
        assert uses, name
        assert all(use.startswith(":?") for use in uses), (name, uses)


def test_check_secrets_runs_first_with_every_secret(compose: dict) -> None:
    check = compose["services"]["check-secrets"]
    assert check["entrypoint"] == ["/bin/sh", "/check-secrets.sh"]
    assert "./docker/check-secrets.sh:/check-secrets.sh:ro" in check["volumes"]
    assert set(check["environment"]) == set(SECRETS)
    assert "depends_on" not in check


def test_redis_requires_a_password(compose: dict, common_env: dict) -> None:
    redis = compose["services"]["redis"]
    assert redis["command"][:2] == ["redis-server", "--requirepass"]
    assert redis["command"][2].startswith("${REDIS_PASSWORD:?")
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")  # the healthcheck's login
    assert "ports" not in redis  # reachable on the stack's network only
    assert common_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")


def test_no_secret_is_committed() -> None:
    assert re.search(r"^\.env$", (PROJECT / ".gitignore").read_text(), re.MULTILINE)
    if shutil.which("git") and (PROJECT / ".git").exists():
        tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True)
        env_files = [path for path in tracked.stdout.splitlines() if Path(path).name.startswith(".env")]
        assert env_files == [".env.example"]
    # the example's secrets are placeholders or empty: test_check_secrets_refuses_the_example's_values


def example_values() -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))


def good_secrets() -> dict[str, str]:
    values = {name: secrets.token_urlsafe(32) for name in SECRETS}
    values["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    return values


def check_secrets(values: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the check script as the stack's first service does (sh, only the given variables set)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    return subprocess.run(["sh", str(CHECK_SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_check_secrets_accepts_real_secrets() -> None:
    done = check_secrets(good_secrets())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "check-secrets: ok"


def test_check_secrets_refuses_the_examples_values() -> None:
    example = example_values()
    done = check_secrets({name: example[name] for name in SECRETS})
    assert done.returncode == 1
    for name in SECRETS:  # every one is named: a placeholder, or empty (the Fernet key)
        assert f"check-secrets: {name} " in done.stderr, name


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize("value", ["", "change-me", "CHANGE-ME-to-a-long-random-string-of-forty-chars"])
def test_check_secrets_names_an_empty_or_placeholder_secret(name: str, value: str) -> None:
    done = check_secrets({**good_secrets(), name: value})
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if not line.startswith("check-secrets: 1 problem")]
    assert problems == [problems[0]] and problems[0].startswith(f"check-secrets: {name} "), done.stderr
    assert value == "" or value not in done.stderr  # values are never printed


def test_check_secrets_names_an_unusable_secret() -> None:
    bad = {
        "AIRFLOW__CORE__FERNET_KEY": "not-a-fernet-key",
        "AIRFLOW__API_AUTH__JWT_SECRET": "short",
        "REDIS_PASSWORD": "p@ss/word",
    }
    done = check_secrets({**good_secrets(), **bad})
    assert done.returncode == 1
    for name in bad:
        assert f"check-secrets: {name} " in done.stderr, name
    assert "POSTGRES_PASSWORD" not in done.stderr


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
