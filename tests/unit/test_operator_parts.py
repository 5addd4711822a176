"""The Operator's parts that need no workspace: periods in questions, the grounding check, the runner."""

from __future__ import annotations

from datetime import date

import pytest

from deskops.domain.changes import Actor, ActorKind
from deskops.domain.models import Role
from deskops.errors import Forbidden, InvalidInput
from deskops.operator.deps import OperatorDeps
from deskops.operator.grounding import ungrounded
from deskops.operator.periods import find_period
from deskops.operator.registry import ToolSpec
from deskops.operator.runner import ToolRunner
from deskops.operator.tools.analytics import Nothing

TODAY = date(2026, 10, 31)  # a Saturday


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("how did the AI agent do last week?", date(2026, 10, 19), date(2026, 10, 25)),
        ("and this week", date(2026, 10, 26), date(2026, 10, 31)),
        ("what happened yesterday", date(2026, 10, 30), date(2026, 10, 30)),
        ("report for last month", date(2026, 9, 1), date(2026, 9, 30)),
        ("how was October", date(2026, 10, 1), date(2026, 10, 31)),
        ("escalations in March 2026", date(2026, 3, 1), date(2026, 3, 31)),
        ("in november", date(2025, 11, 1), date(2025, 11, 30)),
        ("the last 14 days", date(2026, 10, 18), date(2026, 10, 31)),
        ("from 2026-10-20 to 2026-10-02", date(2026, 10, 2), date(2026, 10, 20)),
        ("since 2026-10-15", date(2026, 10, 15), date(2026, 10, 31)),
        ("how are we doing", date(2026, 10, 25), date(2026, 10, 31)),
        ("may I see the report", date(2026, 10, 25), date(2026, 10, 31)),
        ("why did volume fall on 2026-06-10", date(2026, 6, 10), date(2026, 6, 10)),
        ("what happened 2026-10-03?", date(2026, 10, 3), date(2026, 10, 3)),
    ],
)
def test_periods_are_read_in_the_workspace_calendar(question: str, start: date, end: date) -> None:
    found = find_period(question, TODAY)
    assert (found.start, found.end) == (start, end), found


@pytest.mark.parametrize(
    "question", ["why on 2026-02-30?", "from 2026-13-01 to 2026-12-01", "since 2026-04-31", "2026-00-10"]
)
def test_a_day_that_does_not_exist_is_refused_in_words(question: str) -> None:
    with pytest.raises(InvalidInput, match="is not a date of the calendar"):
        find_period(question, TODAY)


def test_every_number_of_an_answer_must_come_from_a_tool_result() -> None:
    results = [{"value": 0.50712, "denominator": 1676, "seconds": 750.0, "change": -0.0183}]
    assert (
        ungrounded("AI resolution 50.7% over 1,676 conversations; handling 12.5 min; -1.8 pts", results) == []
    )
    assert ungrounded("between 2026-10-01 and 2026-10-31", results) == []
    assert ungrounded("AI resolution 73.0% (1,676 conversations)", results) == ["73.0"]
    assert ungrounded("about 51%", results) == []
    assert ungrounded("about 52%", results) == ["52"]
    assert ungrounded("1677 conversations", results) == ["1677"]
    # How many items a tool returned is its figure too (a rule list of three: "3 rules", not "4").
    rules = [{"rules": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}]
    assert ungrounded("The AI agent has 3 guidance rules", rules) == []
    assert ungrounded("The AI agent has 4 guidance rules", rules) == ["4"]


def _secret_tool(deps: OperatorDeps, query: Nothing) -> Nothing:
    """A tool only admins may call."""
    return Nothing()


def test_the_runner_checks_the_role_and_traces_every_call() -> None:
    viewer = Actor(kind=ActorKind.member, name="v@x.test", role=Role.viewer)
    deps = OperatorDeps(services=None, workspace="demo", actor=viewer, today=TODAY, session="s")  # type: ignore[arg-type]
    runner = ToolRunner(deps, {"_secret_tool": ToolSpec(_secret_tool, role=Role.admin)})
    with pytest.raises(Forbidden, match="viewer: _secret_tool needs admin"):
        runner.call(_secret_tool, Nothing())
    assert [(c.tool, c.ok) for c in runner.calls] == [("_secret_tool", False)] and runner.results == []
    deps.actor = viewer.model_copy(update={"role": Role.admin})
    runner.call(_secret_tool, Nothing())
    assert [(c.tool, c.ok) for c in runner.calls] == [("_secret_tool", False), ("_secret_tool", True)]


def test_a_tool_needs_a_typed_query_a_result_and_a_docstring() -> None:
    def untyped(deps, query):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(TypeError):
        ToolSpec(untyped)
