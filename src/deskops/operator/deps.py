"""What every tool and skill receives: the services, one workspace, who asks, and the workspace's clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from deskops.domain.changes import Actor
from deskops.errors import Unavailable

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

    def search_index(self) -> None:
        """Refuse, in words, a tool that needs the workspace's search index before it is built.

        The first build embeds tens of thousands of conversations (minutes); a question must not
        start it silently. ``deskops index rebuild`` (and ``deskops demo``) builds it.
        """
        if not self.services.search.indexed(self.workspace):
            raise Unavailable(
                f"workspace {self.workspace} has no search index yet: run "
                f"`deskops index rebuild --workspace {self.workspace}` once (it takes a few minutes)"
            )
