"""OpenLineage settings for Airflow's OpenLineage provider: a file of events under the state folder by default, the
console, or HTTP to a Marquez-style server (`OPENLINEAGE_URL`), or off."""

from __future__ import annotations

import json
from pathlib import Path

from elt import config

TRANSPORTS = ("file", "console", "http", "off")
NAMESPACE_DEFAULT = "elt"
ENDPOINT_DEFAULT = "api/v1/lineage"


def events_file() -> Path:
    """Where the file transport appends its events, one JSON object a line."""
    return config.state_dir() / "openlineage" / "events.jsonl"


def transport_kind() -> str:
    """`ELT_OPENLINEAGE_TRANSPORT` when set, else `http` when `OPENLINEAGE_URL` is set, else `file`."""
    kind = (config.setting("ELT_OPENLINEAGE_TRANSPORT") or "").strip().lower()
    if not kind:
        return "http" if config.setting("OPENLINEAGE_URL") else "file"
    if kind not in TRANSPORTS:
        raise ValueError(f"ELT_OPENLINEAGE_TRANSPORT must be one of {', '.join(TRANSPORTS)}, got {kind!r}")
    return kind


def transport() -> dict[str, object] | None:
    """The provider's transport configuration (`[openlineage] transport`); None when lineage is off."""
    kind = transport_kind()
    if kind == "off":
        return None
    if kind == "file":
        return {"type": "file", "log_file_path": str(events_file()), "append": True}
    if kind == "console":
        return {"type": "console"}
    url = config.setting("OPENLINEAGE_URL")
    if not url:
        raise ValueError("ELT_OPENLINEAGE_TRANSPORT=http needs OPENLINEAGE_URL (e.g. http://localhost:5000, Marquez)")
    endpoint = config.setting("OPENLINEAGE_ENDPOINT", ENDPOINT_DEFAULT) or ENDPOINT_DEFAULT
    return {"type": "http", "url": url, "endpoint": endpoint}


def airflow_settings() -> dict[str, str]:
    """The `AIRFLOW__OPENLINEAGE__*` variables for the chosen transport."""
    settings = {"AIRFLOW__OPENLINEAGE__NAMESPACE": config.setting("OPENLINEAGE_NAMESPACE", NAMESPACE_DEFAULT) or ""}
    chosen = transport()
    if chosen is None:
        return {**settings, "AIRFLOW__OPENLINEAGE__DISABLED": "True"}
    settings["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(chosen)
    return {**settings, "AIRFLOW__OPENLINEAGE__DISABLED": "False"}


def prepare(env: dict[str, str]) -> None:
    """Create the folder of the file transport's events (the OpenLineage client does not)."""
    text = env.get("AIRFLOW__OPENLINEAGE__TRANSPORT")
    if text and env.get("AIRFLOW__OPENLINEAGE__DISABLED") != "True":
        chosen = json.loads(text)
        if chosen.get("type") == "file":
            Path(chosen["log_file_path"]).parent.mkdir(parents=True, exist_ok=True)
