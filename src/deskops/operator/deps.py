"""What every tool and skill receives: the services, one workspace, who asks, and the workspace's clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from deskops.domain.changes import Actor

if TYPE_CHECKING:
    from deskops.bootstrap import Services
    from deskops.operator.runner import ToolRunner


@dataclass
class OperatorDeps:
    """The typed dependencies of one Operator turn (PydanticAI's ``RunContext.deps``)."""

    services: Services
    workspace: str
    actor: Actor
    """Who asks: their role decides which tools run."""
    today: date
    """The workspace's "today": its newest conversation's day (a demo's data ends in the past)."""
    session: str
    runner: ToolRunner | None = field(default=None, repr=False)
