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
    from deskops.frontline.agent import FrontlineAgent
    from deskops.llm.client import ChatModel
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

    @cached_property
    def llm(self) -> ChatModel | None:
        """The configured language model, or None when deskops runs offline."""
        from deskops.llm.client import AnthropicChat, OpenAIChat, Resilience

        s = self.settings
        if s.llm_provider == "none":
            return None
        if not s.llm_model:
            raise ValueError(f"DESKOPS_LLM_MODEL is required with DESKOPS_LLM_PROVIDER={s.llm_provider}")
        key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
        resilience = Resilience(timeout_s=s.llm_timeout_s, attempts=s.llm_attempts)
        if s.llm_provider == "anthropic":
            if not key:
                raise ValueError("DESKOPS_LLM_API_KEY is required with DESKOPS_LLM_PROVIDER=anthropic")
            return AnthropicChat(
                model=s.llm_model,
                api_key=key,
                base_url=s.llm_base_url or "https://api.anthropic.com",
                resilience=resilience,
            )
        if s.llm_provider == "openai-compatible" and not s.llm_base_url:
            raise ValueError("DESKOPS_LLM_BASE_URL is required with DESKOPS_LLM_PROVIDER=openai-compatible")
        return OpenAIChat(
            base_url=s.llm_base_url or "https://api.openai.com/v1",
            model=s.llm_model,
            api_key=key,
            resilience=resilience,
        )

    @cached_property
    def frontline(self) -> FrontlineAgent:
        """The customer-facing answer agent, on this workspace's search and (if configured) model."""
        from deskops.frontline.agent import FrontlineAgent

        search = self.search
        return FrontlineAgent(
            uow_factory=self.uow,
            retrieve=lambda workspace, query, k, filters: search.search(
                workspace, query, k=k, filters=filters
            ),
            model=self.llm,
            embed=search.encode_query,
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
