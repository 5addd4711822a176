"""The composition root: settings in, services out. Nothing else wires things together.

``build()`` returns ``Services``; every part is made on first use (the database is
migrated when the engine is first asked for, the embedding model loads on the first
query), and ``Services.close()`` releases whatever was made. Local state lives under
``settings.data_dir``: each database gets its own folder there
(``stores/<database>-<hash>/``) holding its search indexes and analytics snapshots, so
two databases never share a cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from deskops.errors import InvalidInput, first_problem
from deskops.settings import Settings
from deskops.store.engine import make_engine, migrate, parse_url
from deskops.store.uow import UnitOfWork

if TYPE_CHECKING:
    from deskops.analytics.columns import ColumnStore
    from deskops.changes.proposals import Reviewing
    from deskops.domain.changes import ItemChange
    from deskops.domain.replay import ReplayReport
    from deskops.frontline.agent import FrontlineAgent
    from deskops.llm.models import LanguageModel
    from deskops.operator.agent import Operator
    from deskops.registry import Registry
    from deskops.search.dense import Embedder
    from deskops.search.service import SearchService
    from deskops.telemetry import Telemetry


@dataclass
class Services:
    """Everything a command or a request needs, built once from settings."""

    settings: Settings
    embedder: Embedder | None = None
    """The embedding model search uses; None: the one the settings name, loaded on first use."""

    @cached_property
    def engine(self) -> Engine:
        """The database engine, with the schema migrated to the newest revision."""
        engine = make_engine(self.settings.database_url, echo=self.settings.sql_echo)
        migrate(engine)
        return engine

    @cached_property
    def registry(self) -> Registry:
        """Metrics and import sources, as the plugins of the ``deskops`` entry-point group registered them."""
        from deskops.registry import load_plugins

        return load_plugins()

    @cached_property
    def store_dir(self) -> Path | None:
        """This database's folder of caches under the data folder (None for an in-memory database)."""
        url = parse_url(self.settings.database_url)
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:"):
                return None
            identity = str(Path(url.database).expanduser().resolve())
            name = Path(url.database).stem
        else:
            identity = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
            name = url.database or url.get_backend_name()
        digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
        return self.settings.data_dir / "stores" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{digest}"

    @cached_property
    def columns(self) -> ColumnStore:
        """The analytics column snapshots of this database's workspaces (a cache kept current by writes)."""
        from deskops.analytics.columns import ColumnStore

        return ColumnStore(self.store_dir / "analytics" if self.store_dir else None)

    @cached_property
    def search(self) -> SearchService:
        """Hybrid search over each workspace's articles and conversations (model loaded on first query)."""
        from deskops.search.dense import SentenceTransformerEmbedder
        from deskops.search.index import SearchConfig
        from deskops.search.rerank import CrossEncoderScorer
        from deskops.search.service import SearchService

        config = SearchConfig()
        if self.settings.cross_encoder_path:
            config.cross_encoder = CrossEncoderScorer(self.settings.cross_encoder_path)
        root = self.store_dir or self.settings.data_dir / "stores" / "memory"
        return SearchService(
            uow_factory=self.uow,
            index_root=root / "index",
            embedder=self.embedder or SentenceTransformerEmbedder(self.settings.embedding_model_path),
            conversation_limit=self.settings.search_conversations,
            config=config,
            tracer=self.telemetry.tracer,
        )

    @cached_property
    def telemetry(self) -> Telemetry:
        """OpenTelemetry: the tracer provider the Operator and search trace to, scrubbed by the front-line
        redaction before any exporter (OTLP when an endpoint is configured) sees a span."""
        from deskops.frontline.redact import redact
        from deskops.telemetry import Telemetry

        return Telemetry(
            scrub=lambda text: redact(text).text,
            include_content=self.settings.trace_content,
            otlp_endpoint=self.settings.otlp_endpoint,
        )

    @cached_property
    def llm(self) -> LanguageModel | None:
        """The configured language model (a PydanticAI model), or None when deskops runs offline."""
        from deskops.llm.models import build_model

        return build_model(self.settings)

    @cached_property
    def frontline(self) -> FrontlineAgent:
        """The customer-facing answer agent, on this workspace's search and (if configured) model."""
        from deskops.frontline.agent import FrontlineAgent
        from deskops.frontline.questions import KnownQuestions

        search = self.search
        return FrontlineAgent(
            uow_factory=self.uow,
            retrieve=lambda workspace, query, k, filters: search.search(
                workspace, query, k=k, filters=filters
            ),
            model=self.llm,
            embed=search.encode_query,
            known_questions=KnownQuestions(
                embed_texts=search.embed_texts, document_vectors=search.document_vectors
            ),
        )

    @cached_property
    def reviewing(self) -> Reviewing:
        """The registered reviewers, with the embedding model and the front-line replay they may use."""
        from deskops.changes.proposals import Reviewing
        from deskops.changes.review import ReviewBoard

        return Reviewing(
            board=ReviewBoard(self.registry.reviewers),
            encode=lambda texts: self.search.encode_many(texts),
            replay=self.replay_changes,
        )

    @cached_property
    def operator(self) -> Operator:
        """The Operator agent over the registered tools and skills (offline planner unless a model is set)."""
        from deskops.operator.agent import Operator

        return Operator(self)

    def replay_changes(
        self, workspace: str, changes: list[ItemChange], topics: list[str], days: int, limit: int
    ) -> ReplayReport:
        """Replay the last ``days`` of a workspace's data on ``topics``, with and without ``changes``
        (nothing is written)."""
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        from deskops.changes.changeset import as_candidate
        from deskops.frontline.replay import replay

        with self.uow() as uow:
            scope = uow.workspace(workspace)
            _, last = scope.stats.conversation_range()
            end = (last or datetime.now(UTC)).astimezone(ZoneInfo(scope.workspace.time_zone)).date()
            return replay(
                agent=self.frontline,
                search=self.search,
                scope=scope,
                start=end - timedelta(days=days - 1),
                end=end,
                candidate=as_candidate(changes, source="proposal"),
                limit=limit,
                topics=topics,
            )

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.engine)

    def truth_path(self, workspace: str) -> Path:
        """Where a simulated workspace's ground truth goes by default."""
        return self.settings.data_dir / "truth" / f"{workspace}.json"

    def delete_workspace(self, name: str) -> None:
        """Delete a workspace and everything deskops keeps of it: its records, then its search index,
        embedding cache, analytics snapshot and simulated ground truth on disk."""
        with self.uow() as uow:
            uow.workspaces.delete(name)
            uow.commit()
        self.forget_workspace(name)

    def forget_workspace(self, name: str, *, truth: bool = True) -> None:
        """Remove what the data folder holds of a workspace (after it was deleted, or rebuilt: then
        ``truth=False`` keeps the new ground truth)."""
        if self.store_dir is not None:
            from deskops.analytics.columns import ColumnStore
            from deskops.search.persist import IndexFolder

            ColumnStore(self.store_dir / "analytics").forget(name)
            IndexFolder(self.store_dir / "index" / name).remove()
        if "columns" in self.__dict__:
            self.columns.forget(name)
        if "search" in self.__dict__:
            self.search.forget(name)
        if truth:
            self.truth_path(name).unlink(missing_ok=True)

    def close(self) -> None:
        """Release what was made: database connections, loaded indexes and snapshots, the model's client."""
        made = self.__dict__
        if "search" in made:
            self.search.close()
        if "columns" in made:
            self.columns.close()
        if made.get("llm") is not None:
            self.llm.close()  # type: ignore[union-attr]
        if "telemetry" in made:
            self.telemetry.close()
        if "engine" in made:
            self.engine.dispose()


def build(
    settings: Settings | None = None, *, embedder: Embedder | None = None, **overrides: object
) -> Services:
    """Build the services; ``overrides`` replace individual settings (e.g. database_url).

    ``embedder`` replaces the embedding model (tests use a small fake one; benchmarks share one).
    """
    settings = settings or Settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if updates:  # validated like the environment's values: a path becomes a Path, a key a secret
        try:
            settings = Settings.model_validate({**settings.model_dump(), **updates})
        except ValidationError as exc:
            raise InvalidInput(f"invalid setting {first_problem(exc)}") from None
    logging.getLogger("deskops").setLevel(settings.log_level.upper())
    return Services(settings=settings, embedder=embedder)
