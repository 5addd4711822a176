"""Versioned workspace content: articles, guidance rules, procedures, AI agent settings.

Every change to a record writes a new row to its ``*_versions`` table, so the
history of what the front-line agent was told is never lost.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa

from deskops.domain.models import (
    AgentSettings,
    Article,
    ArticleVersion,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
)
from deskops.store import tables as t
from deskops.store.repositories._base import NotFound, UpsertCounts, WorkspaceRepository, _row_dict


class _VersionedRepository(WorkspaceRepository):
    table: ClassVar[sa.Table]
    versions: ClassVar[sa.Table]
    parent_key: ClassVar[str]
    content_fields: ClassVar[tuple[str, ...]]
    changed_at: ClassVar[str] = "updated_at"

    def _save(self, record: dict[str, Any]) -> tuple[int, bool]:
        """Store ``record`` as the current version; returns (version, whether anything changed)."""
        table, external_id = self.table, record["external_id"]
        self._lock_for_writes(table)  # the next version (or id) is read before it is written
        current = self._conn.execute(
            sa.select(table).where(self._where(table), table.c.external_id == external_id)
        ).first()
        content = {field: record[field] for field in self.content_fields}
        changed_at = record[self.changed_at]
        if current is None:
            row_id, version = self._next_id(table), 1
            extra = {"created_at": record["created_at"]} if "created_at" in table.c else {}
            self._conn.execute(
                sa.insert(table).values(
                    workspace_id=self.workspace_id,
                    id=row_id,
                    external_id=external_id,
                    version=version,
                    updated_at=changed_at,
                    **extra,
                    **content,
                )
            )
        else:
            if all(getattr(current, field) == value for field, value in content.items()):
                return current.version, False
            row_id, version = current.id, current.version + 1
            self._conn.execute(
                sa.update(table)
                .where(self._where(table), table.c.id == row_id)
                .values(version=version, updated_at=changed_at, **content)
            )
        self._conn.execute(
            sa.insert(self.versions).values(
                workspace_id=self.workspace_id,
                **{self.parent_key: row_id},
                version=version,
                created_at=changed_at,
                **content,
            )
        )
        return version, True

    def _current(self, external_id: str) -> dict[str, Any]:
        row = self._conn.execute(
            sa.select(self.table).where(self._where(self.table), self.table.c.external_id == external_id)
        ).first()
        if row is None:
            raise NotFound(f"no {self.table.name[:-1].replace('_', ' ')} {external_id!r} in this workspace")
        return _row_dict(row, drop=("workspace_id", "id"))

    def _history(self, external_id: str) -> builtins.list[dict[str, Any]]:
        self._current(external_id)
        v, table = self.versions, self.table
        rows = self._conn.execute(
            sa.select(v, table.c.external_id)
            .join_from(
                v,
                table,
                sa.and_(table.c.workspace_id == v.c.workspace_id, table.c.id == v.c[self.parent_key]),
            )
            .where(self._where(v), table.c.external_id == external_id)
            .order_by(v.c.version)
        )
        return [_row_dict(row, drop=("workspace_id", self.parent_key)) for row in rows]

    def _all(self, **filters: Any) -> builtins.list[dict[str, Any]]:
        query = sa.select(self.table).where(self._where(self.table))
        for column, value in filters.items():
            if value is not None:
                query = query.where(self.table.c[column] == value)
        rows = self._conn.execute(query.order_by(self.table.c.id))
        return [_row_dict(row, drop=("workspace_id", "id")) for row in rows]

    def count(self) -> int:
        return self._count(self.table)

    def upsert_many(self, records: Sequence[Any]) -> UpsertCounts:
        counts = UpsertCounts()
        self._lock_for_writes(self.table)  # what exists is read before each save
        for record in records:
            exists = self._exists(record.external_id)
            _, changed = self.save(record)
            if not exists:
                counts.inserted += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts

    def _exists(self, external_id: str) -> bool:
        return (
            self._conn.execute(
                sa.select(self.table.c.id).where(
                    self._where(self.table), self.table.c.external_id == external_id
                )
            ).first()
            is not None
        )

    def save(self, record: Any) -> tuple[int, bool]:
        raise NotImplementedError


def _as_of_version(row: dict[str, Any]) -> dict[str, Any]:
    """A version row as the record looked then: its creation time is the record's update time."""
    row = dict(row)
    row["updated_at"] = row.pop("created_at")
    return row


class ArticleRepository(_VersionedRepository):
    table, versions, parent_key = t.articles, t.article_versions, "article_id"
    content_fields = ("title", "body", "product_area", "locale", "state", "author")

    def save(self, article: Article) -> tuple[int, bool]:
        """Save as the newest version (no-op when nothing changed); returns (version, changed)."""
        record = article.model_dump(mode="python")
        record["state"] = article.state.value
        return self._save(record)

    def get(self, external_id: str) -> ArticleVersion:
        return ArticleVersion(**self._current(external_id))

    def list(
        self, *, state: str | None = None, product_area: str | None = None
    ) -> builtins.list[ArticleVersion]:
        return [ArticleVersion(**row) for row in self._all(state=state, product_area=product_area)]

    def current_versions(self) -> dict[str, int]:
        """Current version of every article, by external id."""
        a = t.articles
        return dict(self._conn.execute(sa.select(a.c.external_id, a.c.version).where(self._where(a))).all())

    def get_many(self, external_ids: builtins.list[str]) -> builtins.list[ArticleVersion]:
        a = t.articles
        found = []
        for start in range(0, len(external_ids), 900):
            rows = self._conn.execute(
                sa.select(a).where(self._where(a), a.c.external_id.in_(external_ids[start : start + 900]))
            )
            found += [ArticleVersion(**_row_dict(row, drop=("workspace_id", "id"))) for row in rows]
        return found

    def history(self, external_id: str) -> builtins.list[ArticleVersion]:
        current = self._current(external_id)
        return [
            ArticleVersion(**{**row, "updated_at": row["created_at"], "created_at": current["created_at"]})
            for row in self._history(external_id)
        ]


class GuidanceRepository(_VersionedRepository):
    table, versions, parent_key = t.guidance_rules, t.guidance_rule_versions, "rule_id"
    content_fields = ("title", "body", "kind", "condition", "enabled")

    def save(self, rule: GuidanceRule) -> tuple[int, bool]:
        return self._save(rule.model_dump(mode="python"))

    def get(self, external_id: str) -> GuidanceRule:
        return GuidanceRule(**self._current(external_id))

    def list(self, *, enabled: bool | None = None) -> builtins.list[GuidanceRule]:
        return [GuidanceRule(**row) for row in self._all(enabled=enabled)]

    def history(self, external_id: str) -> builtins.list[GuidanceRule]:
        return [GuidanceRule(**_as_of_version(row)) for row in self._history(external_id)]


class ProcedureRepository(_VersionedRepository):
    table, versions, parent_key = t.procedures, t.procedure_versions, "procedure_id"
    content_fields = ("title", "trigger_topics", "steps", "required_data", "enabled")

    def save(self, procedure: Procedure) -> tuple[int, bool]:
        return self._save(procedure.model_dump(mode="python"))

    def get(self, external_id: str) -> Procedure:
        return Procedure(**self._current(external_id))

    def list(self) -> builtins.list[Procedure]:
        return [Procedure(**row) for row in self._all()]

    def history(self, external_id: str) -> builtins.list[Procedure]:
        return [Procedure(**_as_of_version(row)) for row in self._history(external_id)]


class AgentSettingsRepository(WorkspaceRepository):
    """The front-line AI agent's settings: one document, every version kept."""

    def current(self) -> AgentSettings | None:
        v = t.agent_settings_versions
        row = self._conn.execute(
            sa.select(v).where(self._where(v)).order_by(v.c.version.desc()).limit(1)
        ).first()
        return (
            AgentSettings(settings=row.settings, updated_at=row.created_at, version=row.version)
            if row
            else None
        )

    def save(self, settings: FrontlineSettings, *, at: datetime | None = None) -> AgentSettings:
        """Store ``settings`` as a new version unless they equal the current ones.

        The document is stored as written (keys left at their defaults are not stored).
        """
        self._lock_for_writes(t.agent_settings_versions)  # the next version is read before it is written
        current = self.current()
        if current is not None and current.settings == settings:
            return current
        saved = AgentSettings(
            settings=settings,
            updated_at=at or datetime.now(UTC),
            version=(current.version + 1 if current else 1),
        )
        self._conn.execute(
            sa.insert(t.agent_settings_versions).values(
                workspace_id=self.workspace_id,
                version=saved.version,
                settings=settings.model_dump(mode="json", exclude_unset=True),
                created_at=saved.updated_at,
            )
        )
        return saved

    def history(self) -> builtins.list[AgentSettings]:
        v = t.agent_settings_versions
        rows = self._conn.execute(sa.select(v).where(self._where(v)).order_by(v.c.version))
        return [AgentSettings(settings=r.settings, updated_at=r.created_at, version=r.version) for r in rows]
