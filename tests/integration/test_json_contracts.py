"""Every CLI ``--json`` output is unchanged: the same commands as the goldens, compared key by key.

The goldens (tests/contracts/golden) were captured by running the CLI in subprocesses
with the code from before the typed-results refactor (tests/contracts/commands.py), with
the test embedder in place of the model. Here the same commands run in-process with the
same embedder; volatile values (timings, timestamps, tokens, the work folder) are masked
in both, everything else — keys, their order, every value — must be identical. The one
deliberate change since: replay's top-level ``topic`` is the filter asked for (it used to
leak the last conversation's topic). And since the front-line agent's confidence became a calibrated
probability, ``answer``, ``answer_procedure``, ``traces`` and ``replay`` were recaptured: their
traces gained ``calibration`` and their confidences changed meaning (with the test embedder, the
default model — fitted with the real one — is unsure of the payout question, so it hands over).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskops import bootstrap
from deskops.cli import _common, app
from hashing_embedder import HashingEmbedder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))
import commands as contracts

GOLDEN = Path(__file__).resolve().parents[1] / "contracts" / "golden"


def test_every_json_output_matches_its_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_common, "build", functools.partial(bootstrap.build, embedder=HashingEmbedder()))
    contracts.prepare(tmp_path)
    runner = CliRunner()
    differences = []
    for name, args in contracts.commands(tmp_path):
        result = runner.invoke(app, [*args, "--json"])
        expected = (GOLDEN / f"{name}.json").read_text()
        actual = contracts.canonical(result.stdout, tmp_path)
        if actual != expected:
            differences.append(f"{name}: exit {result.exit_code}\n{_first_difference(expected, actual)}")
    assert not differences, "\n\n".join(differences)


def _first_difference(expected: str, actual: str) -> str:
    for number, (a, b) in enumerate(zip(expected.splitlines(), actual.splitlines(), strict=False), 1):
        if a != b:
            return f"line {number}: expected {a.strip()!r}, got {b.strip()!r}"
    return f"lengths differ: {len(expected.splitlines())} vs {len(actual.splitlines())} lines"
