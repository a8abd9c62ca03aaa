"""`elt api` or `elt dashboard` in a process of its own on a free loopback port, for the tests and the bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

ELT = str(Path(sys.executable).parent / "elt")


def free_port() -> int:
    """A loopback port nothing listens on (the command binds it itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def group_processes(group: int) -> list[str]:
    """The command lines of the processes still in process group `group` (zombies aside)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(cmdline[:120])
    return found


def stop_group(process: subprocess.Popen, seconds: float = 60) -> list[str]:
    """Stop `process` (started with start_new_session=True) with a SIGTERM to it alone, as a service manager does,
    and kill whatever of its process group is still running after `seconds`; what was left, if anything."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        pass
    left = group_processes(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
    return left


@contextmanager
def serving(
    command: str, ready_path: str, env: dict[str, str], output: IO | int = subprocess.DEVNULL, seconds: float = 60
) -> Iterator[str]:
    """`elt COMMAND --port P` until the `with` ends; its base URL once `ready_path` answers 200. A command that exits
    or does not answer within `seconds` raises RuntimeError."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([ELT, command, "--port", str(port)], env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`elt {command}` did not answer on {base}{ready_path} within {seconds:.0f} s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
