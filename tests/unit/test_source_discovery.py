"""Sources are discovered from their modules: each brings its contract, generator, report sections and DDL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import elt
from elt import config
from elt.generate import GENERATORS
from elt.sources import SOURCES, ReportSection, Source

PLUGIN_DIR = Path(elt.__file__).parent
FRAMEWORK_MODULES = ("load.py", "quality.py", "warehouse.py", "report.py")


def test_every_source_module_is_a_source() -> None:
    modules = sorted(p.stem for p in (PLUGIN_DIR / "sources").glob("*.py") if p.stem != "__init__")
    assert sorted(SOURCES) == modules
    assert all(isinstance(source, Source) for source in SOURCES.values())


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_source_brings_everything_the_framework_needs(name: str) -> None:
    source = SOURCES[name]
    assert callable(GENERATORS[name]), f"{name}: Source.generator does not resolve"
    for table in source.tables:
        assert (config.EXPECTATIONS_DIR / f"{source.schema}.{table.name}.json").is_file(), f"no suite for {table.name}"
    for dag_id in source.dag_ids:
        assert (config.DAGS_DIR / f"{dag_id}.py").is_file(), f"{name}: no DAG file for {dag_id}"
    assert all(isinstance(section, ReportSection) for section in source.report)


def test_the_framework_names_no_source() -> None:
    """load, quality, warehouse and report know no source by name: a new source needs no edit to them."""
    names = re.compile("|".join(sorted(SOURCES)), re.IGNORECASE)
    for module in FRAMEWORK_MODULES:
        text = (PLUGIN_DIR / module).read_text()
        assert not names.search(text), f"{module} names a source: {names.search(text).group()}"


def test_report_sections_reject_unsafe_names() -> None:
    with pytest.raises(ValueError, match="not a valid identifier"):
        ReportSection(title="x", mart="x; drop table y", query="select 1", headers=("a",))
