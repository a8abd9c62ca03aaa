"""`python -m elt.docs`'s dbt docs, generated against a real warehouse: the files the docs plugin serves, loading
nothing from outside (no usage tracking: DBT_SEND_ANONYMOUS_USAGE_STATS=False)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from elt import docs
from elt.warehouse import ServerParams


def test_dbt_docs_are_generated_self_contained(
    warehouse_params: ServerParams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    target = docs.generate_dbt_docs(tmp_path / "dbt_docs")
    assert sorted(p.name for p in target.iterdir()) == sorted(docs.DBT_DOCS_FILES)
    manifest = json.loads((target / "manifest.json").read_text())
    assert "model.elt.voucher_most_used" in manifest["nodes"]
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False, "the page's tracker stays off"
    catalog = json.loads((target / "catalog.json").read_text())
    assert "nodes" in catalog
    page = (target / "static_index.html").read_text()
    assert "voucher_most_used" in page, "the static page carries the manifest inline"
    external = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']https?://""", page)
    assert external == [], "the page loads no script or stylesheet from outside"
