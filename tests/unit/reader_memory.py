"""Read a landed file in a process of its own and report how much its peak memory grew: for the readers' tests
that a gigantic value fails early in bounded memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MEASURE = """
import resource, sys
from pathlib import Path
from elt.readers import FileError, Wanted, open_stream

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    stream = open_stream(Path(sys.argv[1]), Wanted(("order_id",), ("order_id",), "DATA"))
    sum(len(chunk) for chunk in stream.chunks)
    print("loaded")
except FileError as exc:
    print(exc)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def read_in_own_process(path: Path) -> tuple[str, int]:
    """The reader's outcome ("loaded" or the FileError's message) and the peak RSS growth in MiB."""
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=120)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout + result.stderr
    return lines[0], int(lines[1])
