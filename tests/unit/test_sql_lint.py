"""`make lint` can fail: the project's sqlfluff settings catch style findings in a model, and the project passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elt.config import DBT_PROJECT_DIR

SQLFLUFF = str(Path(sys.executable).parent / "sqlfluff")


def lint(sql: str) -> subprocess.CompletedProcess:
    """Lint `sql` as if it were a model of the project, with the project's settings."""
    return subprocess.run(
        [SQLFLUFF, "lint", "--disable-progress-bar", "--stdin-filename", "models/staging/stg_lint_probe.sql", "-"],
        input=sql,
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_badly_styled_model_fails_the_lint() -> None:
    result = lint("SELECT id,Name FROM {{ ref('stg_thelook__users') }}   \n")
    assert result.returncode != 0, result.stdout
    for rule in ("CP01", "LT01"):  # upper-case keywords; a missing space and trailing whitespace
        assert rule in result.stdout, result.stdout


def test_a_model_in_the_project_style_passes() -> None:
    result = lint("select\n    id,\n    first_name\nfrom {{ ref('stg_thelook__users') }}\n")
    assert result.returncode == 0, result.stdout + result.stderr
