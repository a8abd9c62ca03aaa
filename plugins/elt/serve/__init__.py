"""Where people look at the marts: the voucher lookup API (serve.api) and the dashboard (serve.dashboard, pages in
serve.views, queries in serve.data). Both read marts and audit only, as the analyst login role."""

from __future__ import annotations

from pathlib import Path


def dashboard_script() -> Path:
    """The Streamlit entry script of the dashboard (`streamlit run` takes a file)."""
    return Path(__file__).parent / "dashboard.py"
