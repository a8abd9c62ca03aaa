"""`elt airflow` listens on 127.0.0.1 unless told otherwise, and never offers a login-free UI beyond loopback."""

from __future__ import annotations

import pytest

from elt import airflow_env, cli

ALL_ADMINS = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIRFLOW__API__HOST", "AIRFLOW__API__PORT", ALL_ADMINS, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_loopback_without_login() -> None:
    env = airflow_env.airflow_environment()
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env[ALL_ADMINS] == "True"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
    assert cli.parser().parse_args(["airflow"]).host == "127.0.0.1"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_may_skip_the_login(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("AIRFLOW__API__HOST", host)
    assert airflow_env.airflow_environment()[ALL_ADMINS] == "True"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "airflow.example.com"])
def test_any_other_host_requires_a_login_even_when_asked_not_to(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("AIRFLOW__API__HOST", host)
    monkeypatch.setenv(ALL_ADMINS, "True")
    assert airflow_env.airflow_environment()[ALL_ADMINS] == "False"


def test_a_login_asked_for_on_loopback_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALL_ADMINS, "False")
    assert airflow_env.airflow_environment()[ALL_ADMINS] == "False"
