"""Settings come from the environment only when asked; importing does no work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deskops.bootstrap import build
from deskops.errors import InvalidInput
from deskops.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_and_environment_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DESKOPS_DATABASE_URL", raising=False)
    assert Settings().database_url == DEFAULT_DATABASE_URL == "sqlite:///.deskops/deskops.db"
    monkeypatch.setenv("DESKOPS_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("DESKOPS_SQL_ECHO", "true")
    settings = Settings()
    assert (settings.database_url, settings.sql_echo) == ("postgresql://u@h/db", True)
    # An explicit override (the CLI's --db) wins over the environment.
    assert build(database_url="sqlite:///x.db").settings.database_url == "sqlite:///x.db"


def test_building_services_does_not_touch_the_database_until_used(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "deskops.db"
    services = build(database_url=f"sqlite:///{db}")
    assert not db.exists()
    with services.uow() as uow:
        assert uow.workspaces.list() == []
    assert db.exists()
    services.close()


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="unsupported database"):
        _ = build(database_url="mysql://u@h/db").engine


def test_importing_every_module_does_no_work(tmp_path: Path) -> None:
    """No database, folder, model or environment is touched at import time."""
    package = Path(__file__).resolve().parents[2] / "src" / "deskops"
    modules = sorted(
        "deskops." + ".".join(p.relative_to(package).with_suffix("").parts).replace(".__init__", "")
        for p in package.rglob("*.py")
        if "migrations" not in p.parts and p.name != "__main__.py"  # __main__ exists to run
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
    env = {**os.environ, "DESKOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    subprocess.run([sys.executable, "-c", code, *modules], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"llm_provider": "openai"}, "DESKOPS_LLM_MODEL is required with DESKOPS_LLM_PROVIDER=openai"),
        (
            {"llm_provider": "openai", "llm_model": "gpt-4o-mini"},
            "DESKOPS_LLM_API_KEY is required with DESKOPS_LLM_PROVIDER=openai",
        ),
        (
            {"llm_provider": "anthropic", "llm_model": "claude"},
            "DESKOPS_LLM_API_KEY is required with DESKOPS_LLM_PROVIDER=anthropic",
        ),
        (
            {"llm_provider": "openai-compatible", "llm_model": "llama"},
            "DESKOPS_LLM_BASE_URL is required with DESKOPS_LLM_PROVIDER=openai-compatible",
        ),
        (
            {"llm_provider": "openai-compatible", "llm_model": "llama", "llm_base_url": "localhost:11434"},
            "DESKOPS_LLM_BASE_URL must be an http\\(s\\) URL, not 'localhost:11434'",
        ),
        (
            {
                "llm_provider": "anthropic",
                "llm_model": "claude",
                "llm_api_key": "k",
                "llm_base_url": "ftp://x",
            },
            "DESKOPS_LLM_BASE_URL must be an http\\(s\\) URL",
        ),
    ],
)
def test_an_incomplete_model_configuration_is_one_clear_error(settings: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        _ = build(**settings).llm
    assert raised.value.status == 422


def test_overrides_are_validated_like_the_environment(tmp_path: Path) -> None:
    built = build(data_dir=str(tmp_path), llm_api_key="k", llm_timeout_s="2.5")
    assert built.settings.data_dir == tmp_path and built.settings.llm_timeout_s == 2.5
    assert built.settings.llm_api_key is not None and built.settings.llm_api_key.get_secret_value() == "k"
    with pytest.raises(InvalidInput, match="invalid setting llm_attempts"):
        build(llm_attempts=0)


def test_a_complete_model_configuration_builds_a_pydantic_ai_model() -> None:
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    assert build().llm is None  # offline by default
    local = build(
        llm_provider="openai-compatible", llm_model="llama3.1:8b", llm_base_url="http://127.0.0.1:9/v1"
    ).llm
    openai = build(llm_provider="openai", llm_model="gpt-4o-mini", llm_api_key="k").llm
    anthropic = build(llm_provider="anthropic", llm_model="claude-3-5-haiku-latest", llm_api_key="k").llm
    assert local is not None and openai is not None and anthropic is not None
    assert isinstance(local.provider, OpenAICompatibleProvider) and local.provider.base_url.startswith(
        "http://127.0.0.1:9/v1"
    )
    assert isinstance(openai.provider, OpenAIProvider) and openai.provider.base_url.startswith(
        "https://api.openai.com/v1"
    )
    assert isinstance(anthropic.provider, AnthropicProvider)
    assert isinstance(local.model.wrapped, OpenAIChatModel) and isinstance(
        openai.model.wrapped, OpenAIChatModel
    )  # type: ignore[attr-defined]
    assert isinstance(anthropic.model.wrapped, AnthropicModel)  # type: ignore[attr-defined]
    assert (local.name, openai.name, anthropic.name) == (
        "openai-compatible:llama3.1:8b",
        "openai:gpt-4o-mini",
        "anthropic:claude-3-5-haiku-latest",
    )
    # Prices are known for the hosted models (so a turn's cost can be capped), not for a local server's.
    assert (local.priced, openai.priced, anthropic.priced) == (False, True, True)
    settings = local.model.settings
    assert settings is not None and settings.get("temperature") == 0.0 and settings.get("max_retries") == 2


def test_each_database_gets_its_own_cache_folder_in_the_data_folder(tmp_path: Path) -> None:
    first = build(database_url=f"sqlite:///{tmp_path / 'a.db'}", data_dir=tmp_path / "data")
    second = build(database_url=f"sqlite:///{tmp_path / 'b' / 'a.db'}", data_dir=tmp_path / "data")
    server = build(
        database_url="postgresql://user:secret@db.example:5432/deskops", data_dir=tmp_path / "data"
    )
    folders = [s.store_dir for s in (first, second, server)]
    assert all(f is not None and f.parent == tmp_path / "data" / "stores" for f in folders)
    assert len(set(folders)) == 3 and "secret" not in str(folders[2])
    assert first.columns.root == folders[0] / "analytics"  # type: ignore[operator]
    assert build(database_url="sqlite://").store_dir is None  # in memory: nothing on disk


def test_close_releases_what_was_made(tmp_path: Path) -> None:
    services = build(database_url=f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path)
    services.close()  # nothing made yet: nothing to do
    with services.uow() as uow:
        uow.workspaces.create("acme")
        uow.commit()
    with services.uow() as uow:
        services.columns.snapshot(uow.workspace("acme"))
    assert services.columns._snapshots
    services.close()
    assert not services.columns._snapshots and services.engine.pool.checkedout() == 0


def test_built_in_plugins_register_through_the_plugin_surface() -> None:
    from importlib.metadata import entry_points

    from deskops.analytics.catalog import METRICS
    from deskops.registry import load_plugins

    names = {e.name: e.value for e in entry_points(group="deskops")}
    assert names == {
        "metrics": "deskops.analytics.catalog",
        "importers": "deskops.importers",
        "reviewers": "deskops.changes.review",
        "tools": "deskops.operator.tools",
        "skills": "deskops.operator.skills",
    }
    registry = load_plugins()
    assert list(registry.metrics) == [m.name for m in METRICS]
    assert list(registry.importers) == ["generic", "zendesk"]
    assert list(registry.reviewers) == [
        "description",
        "intent",
        "safety",
        "consistency",
        "impact",
        "style",
        "size",
    ]


def test_a_third_party_plugin_adds_a_metric_and_a_clash_is_refused() -> None:
    from deskops.analytics.catalog import Metric
    from deskops.errors import Conflict
    from deskops.hookspecs import hookimpl
    from deskops.registry import load_plugins

    refund_rate = Metric(
        "refund_rate", "Refund rate", "%", "rate", "down", "Refunded.", hit=(("csat", ">=", 5),)
    )

    class RefundPlugin:
        @hookimpl
        def register_metrics(self, register: Any) -> None:
            register(refund_rate)

    registry = load_plugins(RefundPlugin())
    assert registry.metric("refund_rate") is refund_rate

    class Clash:
        @hookimpl
        def register_metrics(self, register: Any) -> None:
            register(Metric("escalation_rate", "Mine", "%", "rate", None, "Mine."))

    with pytest.raises(Conflict, match="two plugins register the metric 'escalation_rate'"):
        load_plugins(Clash())
