"""dbt commands run one after another in one process (a backfill's `elt-runner`) do not pile up dbt-adapters'
behavior flags: each pile-up made every later dbt task slower (elt.dbt.forget_adapter_flags)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from elt.config import DBT_PROJECT_DIR

# three `dbt parse` (each makes an adapter) as dbt leaves them, then three more with the flags forgotten before each
SCRIPT = """
import json, sys
from dbt.adapters.base import impl
from dbt.cli.main import dbtRunner
from elt.dbt import forget_adapter_flags

project, target = sys.argv[1:]
parse = ["parse", "--quiet", "--project-dir", project, "--profiles-dir", project, "--target-path", target]
forget_adapter_flags()
defaults = len(impl.DEFAULT_BASE_BEHAVIOR_FLAGS)
lengths = {"as dbt leaves them": [], "forgotten before each": []}
for case, lengths_after in lengths.items():
    forget_adapter_flags()
    for _ in range(3):
        if case == "forgotten before each":
            forget_adapter_flags()
        assert dbtRunner().invoke(parse).success
        lengths_after.append(len(impl.DEFAULT_BASE_BEHAVIOR_FLAGS) - defaults)
print(json.dumps(lengths))
"""


def test_dbt_commands_in_one_process_do_not_pile_up_adapter_flags(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    # dbt's partial-parse state from `make install`: each parse then takes a fraction of a second
    shutil.copy(DBT_PROJECT_DIR / "target" / "partial_parse.msgpack", target)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(DBT_PROJECT_DIR), str(target)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lengths = json.loads(done.stdout.strip().splitlines()[-1])
    # dbt-adapters appends the adapter's flags to its default list at each command (if this changes, the
    # workaround can go) ...
    assert lengths["as dbt leaves them"] == [1, 2, 3]
    # ... and forgetting them before each command keeps the list as it was
    assert lengths["forgotten before each"] == [1, 1, 1]
