"""Runtime settings, read from the environment (prefix ``DESKOPS_``) only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///.deskops/deskops.db"


class Settings(BaseSettings):
    """Everything deskops can be configured with. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="DESKOPS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the system of record: sqlite:///PATH or postgresql+psycopg://...",
    )
    data_dir: Path = Field(Path(".deskops"), description="Folder for local state (indexes, caches).")
    demo_workspace: str = Field("demo", description="Name of the workspace `make run` builds and shows.")
    log_level: str = Field("WARNING", description="Python logging level for deskops' own loggers.")
    sql_echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    embedding_model_path: Path | None = Field(
        None, description="Local sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2)."
    )
    cross_encoder_path: Path | None = Field(
        None, description="Local cross-encoder model folder; when set, search re-ranks its top hits with it."
    )
    search_conversations: int = Field(
        20_000,
        ge=0,
        description="How many of the newest conversations the search index takes in on first build.",
    )
    llm_provider: Literal["none", "openai", "openai-compatible", "anthropic"] = Field(
        "none",
        description="Language model for answers and reasoning: none (offline), openai, openai-compatible "
        "(vLLM, Ollama, llama.cpp: set llm_base_url) or anthropic.",
    )
    llm_model: str | None = Field(
        None, description="Model name sent to the provider (required with a provider)."
    )
    llm_base_url: str | None = Field(
        None,
        description="Provider base URL (default: https://api.openai.com/v1 or https://api.anthropic.com).",
    )
    llm_api_key: SecretStr | None = Field(None, description="Provider API key; never logged or traced.")
    audit_key: SecretStr | None = Field(
        None,
        description="Key that signs audit checkpoints (HMAC-SHA256); keep it outside the database.",
    )
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector base URL (http://host:4318) the Operator's traces are sent to; "
        "default: $OTEL_EXPORTER_OTLP_ENDPOINT, else none (traces are only kept as the local run log).",
    )
    trace_content: bool = Field(
        False,
        description="Put prompts, completions, tool arguments and results in exported traces (redacted); "
        "off by default.",
    )
    llm_timeout_s: float = Field(
        20.0, gt=0, description="Timeout of one attempt at a model call, in seconds."
    )
    llm_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Attempts per model call (429, 5xx, timeouts, dropped connections are retried).",
    )
    llm_max_requests: int = Field(
        8, ge=1, le=100, description="Model requests an Operator turn may make before it falls back offline."
    )
    llm_max_tool_calls: int = Field(
        12, ge=1, le=200, description="Tool calls an Operator turn may make before it falls back offline."
    )
    llm_max_tokens: int = Field(
        60_000,
        ge=1_000,
        description="Input and output tokens an Operator turn may use before it falls back offline.",
    )
    llm_max_cost_usd: float = Field(
        0.25,
        gt=0,
        description="Dollars an Operator turn may spend, where the model's prices are known (genai-prices).",
    )
    llm_tool_timeout_s: float = Field(
        30.0, gt=0, description="Timeout of one reading tool called by a model, in seconds."
    )
    llm_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Times a model may redo a tool call with invalid arguments, or an answer cut off at the "
        "token limit, in one Operator turn.",
    )
