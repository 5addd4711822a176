"""What the plugins registered: the metric catalog, the import sources and the reviewers, by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pluggy

from deskops.errors import Conflict, InvalidInput, Unavailable
from deskops.hookspecs import PROJECT, Hooks

if TYPE_CHECKING:
    from deskops.analytics.catalog import Metric
    from deskops.changes.review import Reviewer
    from deskops.importers import ImporterSpec
    from deskops.operator.registry import SkillSpec, ToolSpec


@dataclass
class Registry:
    """Everything registered through ``hookspecs``, by name, in registration order."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    importers: dict[str, ImporterSpec] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    skills: dict[str, SkillSpec] = field(default_factory=dict)

    def add_metric(self, metric: Metric) -> None:
        if metric.name in self.metrics:
            raise Conflict(f"two plugins register the metric {metric.name!r}")
        self.metrics[metric.name] = metric

    def add_importer(self, importer: ImporterSpec) -> None:
        if importer.name in self.importers:
            raise Conflict(f"two plugins register the import source {importer.name!r}")
        self.importers[importer.name] = importer

    def add_reviewer(self, reviewer: Reviewer) -> None:
        if reviewer.name in self.reviewers:
            raise Conflict(f"two plugins register the reviewer {reviewer.name!r}")
        self.reviewers[reviewer.name] = reviewer

    def add_tool(self, tool: ToolSpec) -> None:
        if tool.name in self.tools:
            raise Conflict(f"two plugins register the tool {tool.name!r}")
        self.tools[tool.name] = tool

    def add_skill(self, skill: SkillSpec) -> None:
        if skill.name in self.skills:
            raise Conflict(f"two plugins register the skill {skill.name!r}")
        self.skills[skill.name] = skill

    def metric(self, name: str) -> Metric:
        """The metric called ``name``; the error lists the valid names."""
        from deskops.analytics.catalog import UnknownMetric

        found = self.metrics.get(name)
        if found is None:
            raise UnknownMetric(f"unknown metric {name!r}: use one of {', '.join(self.metrics)}")
        return found

    def importer(self, name: str) -> ImporterSpec:
        """The import source called ``name``; the error lists the valid names."""
        found = self.importers.get(name)
        if found is None:
            raise InvalidInput(f"--source must be {' or '.join(self.importers)}, not {name!r}")
        return found


def load_plugins(*extra: object) -> Registry:
    """Every plugin of the ``deskops`` entry-point group (the built-ins among them), plus ``extra``."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(Hooks)
    manager.load_setuptools_entrypoints(PROJECT)
    for plugin in extra:
        manager.register(plugin)
    registry = Registry()
    manager.hook.register_metrics(register=registry.add_metric)
    manager.hook.register_importers(register=registry.add_importer)
    manager.hook.register_reviewers(register=registry.add_reviewer)
    manager.hook.register_tools(register=registry.add_tool)
    manager.hook.register_skills(register=registry.add_skill)
    if not registry.metrics or not registry.importers or not registry.reviewers:
        raise Unavailable(
            "deskops's built-in plugins are not registered: install the package (pip install -e .) "
            "so its entry points exist"
        )
    return registry
