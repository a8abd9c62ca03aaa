"""Project settings: paths and connection URLs, read from the environment and `.env`."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_DIR = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def load_env() -> None:
    """Load `<project>/.env` (or the file ELT_ENV_FILE names) once; variables already set in the environment win."""
    load_dotenv(os.environ.get("ELT_ENV_FILE") or PROJECT_DIR / ".env", override=False)


def setting(name: str, default: str | None = None) -> str | None:
    """One setting from the environment (after `.env`), or its default."""
    load_env()
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def int_setting(name: str, default: int, minimum: int) -> int:
    """A whole-number setting of at least `minimum`, or its default; a clear error for anything else."""
    text = setting(name, str(default)) or str(default)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {text!r}")
    return value


def project_path(name: str, default: str) -> Path:
    """A directory setting; relative values are taken from the project folder."""
    path = Path(setting(name, default) or default)
    return path if path.is_absolute() else PROJECT_DIR / path


def landing_dir() -> Path:
    """Where source files land: `<landing>/<source>/<YYYY-MM-DD>/`."""
    return project_path("ELT_LANDING_DIR", "data/landing")


def state_dir() -> Path:
    """Local state of the project: embedded Postgres, Airflow home, GX docs."""
    return project_path("ELT_STATE_DIR", ".elt")


def airflow_home() -> Path:
    return project_path("AIRFLOW_HOME", str(state_dir() / "airflow"))


def data_docs_dir() -> Path:
    """Where GX builds its data docs (validation results are kept beside them, in `<state>/gx/validations`)."""
    return state_dir() / "gx" / "data_docs"


HISTORY_START_DEFAULT = "2015-01-01"


def history_start() -> datetime:
    """The DAGs' start date (`ELT_HISTORY_START`): the earliest partition Airflow will run (00:00 UTC)."""
    text = setting("ELT_HISTORY_START", HISTORY_START_DEFAULT) or HISTORY_START_DEFAULT
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"ELT_HISTORY_START is not a date (YYYY-MM-DD): {text!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


DAGS_DIR = PROJECT_DIR / "dags"
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
