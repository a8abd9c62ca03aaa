"""OpenLineage settings: a file of events under the state folder by default; the console, HTTP (OPENLINEAGE_URL) or
off when `.env` says so; what `elt airflow` and the in-process runs give Airflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from elt import airflow_env, lineage

VARIABLES = (
    "ELT_OPENLINEAGE_TRANSPORT",
    "OPENLINEAGE_URL",
    "OPENLINEAGE_ENDPOINT",
    "OPENLINEAGE_NAMESPACE",
    "AIRFLOW__OPENLINEAGE__TRANSPORT",
    "AIRFLOW__OPENLINEAGE__DISABLED",
    "AIRFLOW__OPENLINEAGE__NAMESPACE",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ELT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ELT_ENV_FILE", str(tmp_path / "no.env"))


def _transport(env: dict[str, str]) -> dict:
    return json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])


def test_default_is_a_file_of_events_under_the_state_folder(tmp_path: Path) -> None:
    env = airflow_env.airflow_environment()
    assert _transport(env) == {
        "type": "file",
        "log_file_path": str(tmp_path / "state" / "openlineage" / "events.jsonl"),
        "append": True,
    }
    assert env["AIRFLOW__OPENLINEAGE__DISABLED"] == "False"
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "elt"


def test_an_openlineage_url_switches_to_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://marquez:5000")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "shop")
    env = airflow_env.airflow_environment()
    assert _transport(env) == {"type": "http", "url": "http://marquez:5000", "endpoint": "api/v1/lineage"}
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "shop"


def test_console_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_OPENLINEAGE_TRANSPORT", "console")
    assert _transport(airflow_env.airflow_environment()) == {"type": "console"}
    monkeypatch.setenv("ELT_OPENLINEAGE_TRANSPORT", "off")
    env = airflow_env.airflow_environment()
    assert env["AIRFLOW__OPENLINEAGE__DISABLED"] == "True"
    assert "AIRFLOW__OPENLINEAGE__TRANSPORT" not in env


def test_an_explicit_provider_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = '{"type": "kafka", "topic": "lineage"}'
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", explicit)
    assert airflow_env.airflow_environment()["AIRFLOW__OPENLINEAGE__TRANSPORT"] == explicit


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_OPENLINEAGE_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="must be one of file, console, http, off"):
        lineage.transport()
    monkeypatch.setenv("ELT_OPENLINEAGE_TRANSPORT", "http")
    with pytest.raises(ValueError, match="needs OPENLINEAGE_URL"):
        lineage.transport()


def test_the_provider_reads_the_file_transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON we give is a transport the OpenLineage client builds, and its folder exists once prepared."""
    from openlineage.client.transport import get_default_factory

    env = airflow_env.airflow_environment()
    lineage.prepare(env)
    assert (tmp_path / "state" / "openlineage").is_dir()
    transport = get_default_factory().create(_transport(env))
    assert type(transport).__name__ == "FileTransport"
