"""End-to-end fixtures: the `elt` command in a subprocess, against the test's own warehouse and landing zone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from elt.warehouse import ServerParams


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Airflow home (and metadata database migration) per test worker."""
    return tmp_path_factory.mktemp("airflow_home")


@pytest.fixture
def elt(
    warehouse_params: ServerParams, landing: Path, airflow_home: Path, tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess]:
    """Run `elt ARGS...` against the test's warehouse and landing zone; the completed process is returned."""
    env = {
        **os.environ,
        "ELT_WAREHOUSE_URL": warehouse_params.libpq_url(),
        "ELT_LANDING_DIR": str(landing),
        "ELT_STATE_DIR": str(tmp_path / "state"),
        "AIRFLOW_HOME": str(airflow_home),
    }
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "elt"), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)

    return run
