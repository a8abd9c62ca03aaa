"""Deterministic sample data per source, written into the landing zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt.generate.vouchers import generate_vouchers

GENERATORS: dict[str, Callable[..., list[Path]]] = {
    "vouchers": generate_vouchers,
}


def generate(
    source: str,
    landing_dir: Path,
    start: date,
    days: int,
    seed: int = 42,
    rows_per_day: int | None = None,
) -> list[Path]:
    """Write `days` days of sample files from `start` for `source` (or "all"); return the paths written."""
    if source == "all":
        names = list(GENERATORS)
    elif source in GENERATORS:
        names = [source]
    else:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"no generator for source {source!r}; known: {known} (or 'all')")
    extra = {} if rows_per_day is None else {"rows_per_day": rows_per_day}
    paths: list[Path] = []
    for name in names:
        paths.extend(GENERATORS[name](Path(landing_dir), start, days, seed=seed, **extra))
    return paths
