"""The one plugin surface: what a plugin (built-in or third-party) can add to deskops.

A plugin is a module with functions marked ``@hookimpl``, named in the ``deskops``
entry-point group of its package's metadata. ``bootstrap.build`` loads every plugin of
that group and asks each to register what it brings; deskops's own metrics and
importers register exactly this way (see ``[project.entry-points.deskops]`` in
pyproject.toml). Nothing registers when a module is imported.

    from deskops.hookspecs import hookimpl

    @hookimpl
    def register_metrics(register):
        register(Metric("refund_rate", "Refund rate", "%", "rate", "down", "...", hit=(...)))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from deskops.analytics.catalog import Metric
    from deskops.changes.review import Reviewer
    from deskops.importers import ImporterSpec
    from deskops.operator.registry import SkillSpec, ToolSpec

PROJECT = "deskops"
"""The pluggy project name, which is also the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Hooks:
    """The hooks a plugin may implement; each receives a ``register`` function."""

    @hookspec
    def register_metrics(self, register: Callable[[Metric], None]) -> None:
        """Add metrics to the catalog (``analytics.catalog.Metric``: declared as data)."""

    @hookspec
    def register_importers(self, register: Callable[[ImporterSpec], None]) -> None:
        """Add import sources (``importers.ImporterSpec``: a name, the kinds it reads, a parser)."""

    @hookspec
    def register_reviewers(self, register: Callable[[Reviewer], None]) -> None:
        """Add proposal reviewers (``changes.review.Reviewer``: a name, a summary, ``check(context)``)."""

    @hookspec
    def register_tools(self, register: Callable[[ToolSpec], None]) -> None:
        """Add Operator tools (``operator.registry.ToolSpec``: a typed function, its role, if it writes)."""

    @hookspec
    def register_skills(self, register: Callable[[SkillSpec], None]) -> None:
        """Add Operator skills (``operator.registry.SkillSpec``: a job and its example questions)."""
