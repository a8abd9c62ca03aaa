"""The `dbt` command for the tests, without dbt's start-up: importing dbt and its Postgres adapter costs about 2 s
of CPU per command, and the suite runs dozens. This script imports them once, then runs each command it is given
in a child forked for it: the same entry point as the `dbt` script (`dbt.cli.main.cli`, exit code and all), in a
copy of a process that has imported dbt and run nothing, with the command's own environment, folder and output
files. The `run_dbt` fixture (tests/conftest.py) starts one per test worker.

Requests on stdin, one JSON line each: {"args": [...], "env": {...}, "cwd": "...", "stdout": path, "stderr": path};
each is answered with the command's exit code, one line on stdout.
"""

from __future__ import annotations

import json
import os
import sys

import dbt.adapters.postgres  # noqa: F401  (what every command here loads after its start)
from dbt.cli.main import cli


def run_command(request: dict) -> int:
    """Run one dbt command in a forked child; its exit code."""
    pid = os.fork()
    if pid:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    code = 1
    try:  # the child never returns: that would read the requests a second time
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        sys.argv = ["dbt", *request["args"]]
        try:
            cli()
            code = 0
        except SystemExit as exit:  # as sys.exit(cli()) in the `dbt` script ends
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever dbt prints outside a command must not mix with the answers
    for line in sys.stdin:
        print(run_command(json.loads(line)), file=answers, flush=True)


if __name__ == "__main__":
    main()
