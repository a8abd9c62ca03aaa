"""Deterministic sample data per source, written into the landing zone.

Each source names its generator (`Source.generator`, "module:function"); the function takes
`(landing_dir, start, days, seed=...)` and may take `rows_per_day` and `scale`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import date
from pathlib import Path

from elt.sources import SOURCES


def _resolve(reference: str) -> Callable[..., list[Path]]:
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


GENERATORS: dict[str, Callable[..., list[Path]]] = {
    name: _resolve(source.generator) for name, source in SOURCES.items() if source.generator
}


def generate(
    source: str,
    landing_dir: Path,
    start: date,
    days: int,
    seed: int = 42,
    rows_per_day: int | None = None,
    scale: float | None = None,
) -> list[Path]:
    """Write `days` days of sample files from `start` for `source` (or "all"); return the paths written.

    `rows_per_day` and `scale` go to the generators that take them (vouchers: rows per day; thelook: scale).
    """
    if source == "all":
        names = list(GENERATORS)
    elif source in GENERATORS:
        names = [source]
    else:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"no generator for source {source!r}; known: {known} (or 'all')")
    paths: list[Path] = []
    for name in names:
        generator = GENERATORS[name]
        accepts = inspect.signature(generator).parameters
        extra: dict[str, int | float] = {}
        if rows_per_day is not None and "rows_per_day" in accepts:
            extra["rows_per_day"] = rows_per_day
        if scale is not None and "scale" in accepts:
            extra["scale"] = scale
        paths.extend(generator(Path(landing_dir), start, days, seed=seed, **extra))
    return paths
