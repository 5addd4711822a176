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

from deskops.domain.changes import ItemKind, ItemVersion, PolicyVersion, ReviewPolicy
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
    kind: ClassVar[ItemKind]
    table: ClassVar[sa.Table]
    versions_table: ClassVar[sa.Table]
    parent_key: ClassVar[str]
    content_fields: ClassVar[tuple[str, ...]]
    changed_at: ClassVar[str] = "updated_at"

    def _save(
        self, record: dict[str, Any], *, by: str | None = None, proposal_id: int | None = None
    ) -> tuple[int, bool]:
        """Store ``record`` as the current version; returns (version, whether anything changed).

        ``by`` and ``proposal_id`` say who wrote it and through which proposal (the history shows them).
        """
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
            sa.insert(self.versions_table).values(
                workspace_id=self.workspace_id,
                **{self.parent_key: row_id},
                version=version,
                created_at=changed_at,
                changed_by=by,
                proposal_id=proposal_id,
                **content,
            )
        )
        return version, True

    def find(self, external_id: str) -> tuple[int, dict[str, Any]] | None:
        """The current version and content fields of an item, or None when there is none."""
        row = self._conn.execute(
            sa.select(self.table).where(self._where(self.table), self.table.c.external_id == external_id)
        ).first()
        if row is None:
            return None
        return row.version, {field: getattr(row, field) for field in self.content_fields}

    def versions(self, external_id: str) -> builtins.list[ItemVersion]:
        """Every version of an item, oldest first, with who wrote it; raises NotFound."""
        return [
            ItemVersion(
                kind=self.kind,
                external_id=external_id,
                version=row["version"],
                at=row["created_at"],
                changed_by=row["changed_by"],
                proposal_id=row["proposal_id"],
                content={field: row[field] for field in self.content_fields},
            )
            for row in self._history(external_id)
        ]

    def _current(self, external_id: str) -> dict[str, Any]:
        row = self._conn.execute(
            sa.select(self.table).where(self._where(self.table), self.table.c.external_id == external_id)
        ).first()
        if row is None:
            raise NotFound(f"no {self.table.name[:-1].replace('_', ' ')} {external_id!r} in this workspace")
        return _row_dict(row, drop=("workspace_id", "id"))

    def _history(self, external_id: str) -> builtins.list[dict[str, Any]]:
        self._current(external_id)
        v, table = self.versions_table, self.table
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
    row = _plain(row)
    row["updated_at"] = row.pop("created_at")
    return row


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A version row without its provenance (who wrote it, through which proposal)."""
    return {key: value for key, value in row.items() if key not in ("changed_by", "proposal_id")}


class ArticleRepository(_VersionedRepository):
    kind = "article"
    table, versions_table, parent_key = t.articles, t.article_versions, "article_id"
    content_fields = ("title", "body", "product_area", "locale", "state", "author")

    def save(
        self, article: Article, *, by: str | None = None, proposal_id: int | None = None
    ) -> tuple[int, bool]:
        """Save as the newest version (no-op when nothing changed); returns (version, changed)."""
        record = article.model_dump(mode="python")
        record["state"] = article.state.value
        return self._save(record, by=by, proposal_id=proposal_id)

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
            ArticleVersion(
                **{**_plain(row), "updated_at": row["created_at"], "created_at": current["created_at"]}
            )
            for row in self._history(external_id)
        ]


class GuidanceRepository(_VersionedRepository):
    kind = "guidance"
    table, versions_table, parent_key = t.guidance_rules, t.guidance_rule_versions, "rule_id"
    content_fields = ("title", "body", "kind", "condition", "enabled")

    def save(
        self, rule: GuidanceRule, *, by: str | None = None, proposal_id: int | None = None
    ) -> tuple[int, bool]:
        return self._save(rule.model_dump(mode="python"), by=by, proposal_id=proposal_id)

    def get(self, external_id: str) -> GuidanceRule:
        return GuidanceRule(**self._current(external_id))

    def list(self, *, enabled: bool | None = None) -> builtins.list[GuidanceRule]:
        return [GuidanceRule(**row) for row in self._all(enabled=enabled)]

    def history(self, external_id: str) -> builtins.list[GuidanceRule]:
        return [GuidanceRule(**_as_of_version(row)) for row in self._history(external_id)]


class ProcedureRepository(_VersionedRepository):
    kind = "procedure"
    table, versions_table, parent_key = t.procedures, t.procedure_versions, "procedure_id"
    content_fields = ("title", "trigger_topics", "steps", "required_data", "enabled")

    def save(
        self, procedure: Procedure, *, by: str | None = None, proposal_id: int | None = None
    ) -> tuple[int, bool]:
        return self._save(procedure.model_dump(mode="python"), by=by, proposal_id=proposal_id)

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

    def save(
        self,
        settings: FrontlineSettings,
        *,
        at: datetime | None = None,
        by: str | None = None,
        proposal_id: int | None = None,
    ) -> AgentSettings:
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
                changed_by=by,
                proposal_id=proposal_id,
            )
        )
        return saved

    def find(self) -> tuple[int, dict[str, Any]] | None:
        """The current version and the document as written, or None when there are no settings."""
        v = t.agent_settings_versions
        row = self._conn.execute(
            sa.select(v.c.version, v.c.settings).where(self._where(v)).order_by(v.c.version.desc()).limit(1)
        ).first()
        return (row.version, dict(row.settings)) if row else None

    def versions(self) -> builtins.list[ItemVersion]:
        """Every version of the settings, oldest first, with who wrote it."""
        v = t.agent_settings_versions
        rows = self._conn.execute(sa.select(v).where(self._where(v)).order_by(v.c.version))
        return [
            ItemVersion(
                kind="settings",
                external_id="settings",
                version=r.version,
                at=r.created_at,
                changed_by=r.changed_by,
                proposal_id=r.proposal_id,
                content=dict(r.settings),
            )
            for r in rows
        ]

    def history(self) -> builtins.list[AgentSettings]:
        v = t.agent_settings_versions
        rows = self._conn.execute(sa.select(v).where(self._where(v)).order_by(v.c.version))
        return [AgentSettings(settings=r.settings, updated_at=r.created_at, version=r.version) for r in rows]


class PolicyRepository(WorkspaceRepository):
    """The workspace's review policy: one document, every version kept (version 0: the defaults)."""

    def current(self) -> PolicyVersion:
        v = t.policy_versions
        row = self._conn.execute(
            sa.select(v).where(self._where(v)).order_by(v.c.version.desc()).limit(1)
        ).first()
        if row is None:
            return PolicyVersion(version=0, policy=ReviewPolicy(), updated_at=None)
        return PolicyVersion(
            version=row.version, policy=ReviewPolicy.model_validate(row.document), updated_at=row.created_at
        )

    def find(self) -> tuple[int, dict[str, Any]] | None:
        """The current version and the document as written, or None while the defaults apply."""
        v = t.policy_versions
        row = self._conn.execute(
            sa.select(v.c.version, v.c.document).where(self._where(v)).order_by(v.c.version.desc()).limit(1)
        ).first()
        return (row.version, dict(row.document)) if row else None

    def save(
        self, policy: ReviewPolicy, *, by: str | None = None, proposal_id: int | None = None
    ) -> PolicyVersion:
        """Store ``policy`` as a new version (the document as written: defaults left out)."""
        self._lock_for_writes(t.policy_versions)  # the next version is read before it is written
        current = self.current()
        at = datetime.now(UTC)
        self._conn.execute(
            sa.insert(t.policy_versions).values(
                workspace_id=self.workspace_id,
                version=current.version + 1,
                document=policy.model_dump(mode="json", exclude_unset=True),
                created_at=at,
                changed_by=by,
                proposal_id=proposal_id,
            )
        )
        return PolicyVersion(version=current.version + 1, policy=policy, updated_at=at)

    def versions(self) -> builtins.list[ItemVersion]:
        v = t.policy_versions
        rows = self._conn.execute(sa.select(v).where(self._where(v)).order_by(v.c.version))
        return [
            ItemVersion(
                kind="policy",
                external_id="policy",
                version=r.version,
                at=r.created_at,
                changed_by=r.changed_by,
                proposal_id=r.proposal_id,
                content=dict(r.document),
            )
            for r in rows
        ]
