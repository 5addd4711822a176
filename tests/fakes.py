"""Stand-ins for the unit tests: a small embedder and an in-memory unit of work.

``HashingEmbedder`` (tests/hashing_embedder.py) needs no model: see its docstring.

``FakeUnitOfWork`` holds one workspace's records in memory, with repositories that
subclass the real ones (cosmicpython's FakeRepository): service-level unit tests run
the real service code without a database, and a repository method the fake does not
implement fails loudly instead of touching SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from deskops.domain.models import (
    AgentSettings,
    Article,
    ArticleVersion,
    DecisionTrace,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
    Workspace,
)
from deskops.errors import NotFound
from deskops.store.repositories import DataRevision, UnknownWorkspace, WorkspaceScope
from deskops.store.repositories.content import (
    AgentSettingsRepository,
    ArticleRepository,
    GuidanceRepository,
    ProcedureRepository,
)
from deskops.store.repositories.conversations import ConversationRepository
from deskops.store.repositories.revisions import RevisionRepository
from deskops.store.repositories.traces import TraceRepository
from deskops.store.uow import UnitOfWork
from hashing_embedder import HashingEmbedder

__all__ = ["FakeUnitOfWork", "HashingEmbedder"]

# ------------------------------------------------------------------------------- unit of work


class FakeArticles(ArticleRepository):
    def __init__(self) -> None:
        self.items: dict[str, ArticleVersion] = {}

    def save(self, article: Article) -> tuple[int, bool]:
        current = self.items.get(article.external_id)
        if current is not None and current.model_dump(exclude={"version"}) == article.model_dump():
            return current.version, False
        version = current.version + 1 if current else 1
        self.items[article.external_id] = ArticleVersion(**article.model_dump(), version=version)
        return version, True

    def get(self, external_id: str) -> ArticleVersion:
        if external_id not in self.items:
            raise NotFound(f"no article {external_id!r} in this workspace")
        return self.items[external_id]

    def list(self, *, state: str | None = None, product_area: str | None = None) -> list[ArticleVersion]:
        return [
            a
            for a in self.items.values()
            if (state is None or a.state == state)
            and (product_area is None or a.product_area == product_area)
        ]

    def current_versions(self) -> dict[str, int]:
        return {k: a.version for k, a in self.items.items()}

    def get_many(self, external_ids: list[str]) -> list[ArticleVersion]:
        return [self.items[e] for e in external_ids if e in self.items]


class FakeGuidance(GuidanceRepository):
    def __init__(self) -> None:
        self.items: dict[str, GuidanceRule] = {}

    def save(self, rule: GuidanceRule) -> tuple[int, bool]:
        self.items[rule.external_id] = rule
        return rule.version, True

    def list(self, *, enabled: bool | None = None) -> list[GuidanceRule]:
        return [r for r in self.items.values() if enabled is None or r.enabled == enabled]


class FakeProcedures(ProcedureRepository):
    def __init__(self) -> None:
        self.items: dict[str, Procedure] = {}

    def save(self, procedure: Procedure) -> tuple[int, bool]:
        self.items[procedure.external_id] = procedure
        return procedure.version, True

    def list(self) -> list[Procedure]:
        return list(self.items.values())


class FakeSettings(AgentSettingsRepository):
    def __init__(self) -> None:
        self.versions: list[AgentSettings] = []

    def current(self) -> AgentSettings | None:
        return self.versions[-1] if self.versions else None

    def save(self, settings: FrontlineSettings, *, at: datetime | None = None) -> AgentSettings:
        saved = AgentSettings(
            settings=settings, updated_at=at or datetime.now(UTC), version=len(self.versions) + 1
        )
        self.versions.append(saved)
        return saved


class FakeTraces(TraceRepository):
    def __init__(self) -> None:
        self.items: list[DecisionTrace] = []

    def add(self, trace: DecisionTrace) -> int:
        self.items.append(trace)
        return len(self.items)

    def for_conversation(self, conversation_external_id: str) -> list[DecisionTrace]:
        return [t for t in self.items if t.conversation_external_id == conversation_external_id]


class FakeConversations(ConversationRepository):
    def __init__(self) -> None:
        self.citations_by_article: dict[str, dict[str, int]] = {}

    def citation_topics(self, *, recent: int = 20_000) -> dict[str, dict[str, int]]:
        return self.citations_by_article

    def resolved_citations(self, *, recent: int = 20_000, per_article: int = 50) -> dict[str, list[str]]:
        return {}


class FakeRevisions(RevisionRepository):
    def __init__(self) -> None:
        self.revision = DataRevision()

    def current(self) -> DataRevision:
        return self.revision


class FakeScope(WorkspaceScope):
    """One workspace's records in memory; the repositories the fake does not hold raise."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.articles = FakeArticles()
        self.guidance = FakeGuidance()
        self.procedures = FakeProcedures()
        self.agent_settings = FakeSettings()
        self.traces = FakeTraces()
        self.conversations = FakeConversations()
        self.revisions = FakeRevisions()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"FakeScope has no {name} repository: add one to tests/fakes.py")


class FakeUnitOfWork(UnitOfWork):
    """A unit of work over ``FakeScope``s: commit() counts, nothing is written anywhere."""

    def __init__(self, *names: str) -> None:
        created = datetime(2026, 1, 1, tzinfo=UTC)
        self.scopes = {
            name: FakeScope(Workspace(id=i, name=name, created_at=created)) for i, name in enumerate(names, 1)
        }
        self.commits = 0
        self.open = False

    def __call__(self) -> FakeUnitOfWork:
        """Factory-shaped, like ``Services.uow``: every call hands back this same store."""
        return self

    def __enter__(self) -> FakeUnitOfWork:
        self.open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.open = False

    @property
    def is_open(self) -> bool:
        return self.open

    def workspace(self, workspace: Workspace | str) -> FakeScope:
        name = workspace if isinstance(workspace, str) else workspace.name
        if name not in self.scopes:
            raise UnknownWorkspace(f"unknown workspace {name!r}")
        return self.scopes[name]

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass
