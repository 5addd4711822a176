"""The composition root: settings in, services out. Nothing else wires things together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from deskops.settings import Settings
from deskops.store.engine import make_engine, migrate
from deskops.store.uow import UnitOfWork

if TYPE_CHECKING:
    from deskops.search.service import SearchService


@dataclass
class Services:
    """Everything a command or a request needs, built once from settings."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The database engine, with the schema migrated to the newest revision."""
        engine = make_engine(self.settings.database_url, echo=self.settings.sql_echo)
        migrate(engine)
        return engine

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
        return SearchService(
            uow_factory=self.uow,
            index_root=self.settings.data_dir / "index",
            embedder=SentenceTransformerEmbedder(self.settings.embedding_model_path),
            conversation_limit=self.settings.search_conversations,
            config=config,
        )

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def build(settings: Settings | None = None, **overrides: object) -> Services:
    """Build the services; ``overrides`` replace individual settings (e.g. database_url)."""
    settings = settings or Settings()  # type: ignore[call-arg]  # fields come from the environment
    if overrides:
        settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    logging.getLogger("deskops").setLevel(settings.log_level.upper())
    return Services(settings=settings)
