"""Collects the outcome table of the bad-input corpus (test_bad_inputs.py) and prints it at the end of the run."""

from __future__ import annotations

import pytest

OUTCOMES: list[tuple[str, str, str, str]] = []
MESSAGE_CHARS = 110


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs in the controller for xdist workers' reports too: user_properties travel with the report."""
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key == "bad_input":
            OUTCOMES.append(tuple(value))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not OUTCOMES:
        return
    rows = sorted(OUTCOMES, key=lambda r: ({"csv": 0, "csv.gz": 1, "parquet": 2, "landing": 3}.get(r[1], 4), r[0]))
    widths = [max(len(r[i]) for r in [("case", "format", "outcome"), *rows]) for i in range(3)]
    write = terminalreporter.write_line
    terminalreporter.section(f"what happens to a bad file ({len(rows)} cases)")
    write(f"{'case':<{widths[0]}}  {'format':<{widths[1]}}  {'outcome':<{widths[2]}}  message")
    for case, fmt, outcome, message in rows:
        write(f"{case:<{widths[0]}}  {fmt:<{widths[1]}}  {outcome:<{widths[2]}}  {_short(message)}")
