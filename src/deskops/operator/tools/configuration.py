"""The front-line agent's configuration: guidance rules, procedures, settings."""

from __future__ import annotations

from deskops.domain.models import FrontlineSettings, GuidanceRule, Procedure
from deskops.domain.types import Result
from deskops.operator.deps import OperatorDeps
from deskops.operator.tools.analytics import Nothing


class GuidanceList(Result):
    rules: list[GuidanceRule]
    """Enabled and disabled, in the order they were made."""


class ProcedureList(Result):
    procedures: list[Procedure]


class SettingsReading(Result):
    settings: FrontlineSettings
    version: int | None
    """None: the agent runs on its defaults."""


def list_guidance(deps: OperatorDeps, query: Nothing) -> GuidanceList:
    """Every guidance rule of the AI agent: kind (hand-over, forbidden, tone), condition, enabled."""
    with deps.services.uow() as uow:
        return GuidanceList(rules=uow.workspace(deps.workspace).guidance.list())


def list_procedures(deps: OperatorDeps, query: Nothing) -> ProcedureList:
    """Every procedure of the AI agent: the topics that trigger it, its steps and the data each needs."""
    with deps.services.uow() as uow:
        return ProcedureList(procedures=uow.workspace(deps.workspace).procedures.list())


def agent_settings(deps: OperatorDeps, query: Nothing) -> SettingsReading:
    """The AI agent's settings: on or off, channels, confidence threshold, hand-over team, turn limit."""
    with deps.services.uow() as uow:
        current = uow.workspace(deps.workspace).agent_settings.current()
    if current is None:
        return SettingsReading(settings=FrontlineSettings(), version=None)
    return SettingsReading(settings=current.settings, version=current.version)
