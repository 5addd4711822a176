"""Change sets: read one, resolve it against a workspace, write it, and replay it.

A change set names items by ``external_id``. For an item that exists, the fields given
replace the current ones and the rest stay as they are; a new item gives at least what
its kind requires (an article's title and body). ``settings`` and ``policy`` are merged
key by key over the current documents. ``archive`` takes items out of service (an article
is archived, a rule or procedure disabled) without deleting anything.

Resolving checks every item against the workspace and its kind's fields, and says which
item and which field is wrong; nothing is stored until a proposal is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from deskops.domain.changes import (
    Action,
    ChangeSet,
    ItemChange,
    ItemKind,
    ItemVersion,
    ReviewPolicy,
    item_key,
)
from deskops.domain.models import (
    Article,
    ArticleVersion,
    FrontlineSettings,
    GuidanceRule,
    Procedure,
    Role,
)
from deskops.errors import InvalidInput, NotFound, first_problem
from deskops.frontline.replay import Candidate
from deskops.store.repositories import WorkspaceScope

MAX_BYTES = 5_000_000
KEYS = ("articles", "guidance", "procedures", "settings", "policy", "archive")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Timestamps a record needs to validate; the real ones are set when it is written."""


class ChangeSetError(InvalidInput):
    """A change set that cannot be used; says which item and which field."""


@dataclass(frozen=True)
class KindSpec:
    """What the change layer needs to know about a kind of item."""

    kind: ItemKind
    section: str
    """Its key in a change set."""
    fields: tuple[str, ...]
    """Its content fields (what a change set may set)."""
    decided_by: Role
    """The weakest role that may accept or revert a change to it."""
    model: type[BaseModel]


SPECS: dict[ItemKind, KindSpec] = {
    "article": KindSpec(
        "article",
        "articles",
        ("title", "body", "product_area", "locale", "state", "author"),
        Role.editor,
        Article,
    ),
    "guidance": KindSpec(
        "guidance", "guidance", ("title", "body", "kind", "condition", "enabled"), Role.editor, GuidanceRule
    ),
    "procedure": KindSpec(
        "procedure",
        "procedures",
        ("title", "trigger_topics", "steps", "required_data", "enabled"),
        Role.editor,
        Procedure,
    ),
    "settings": KindSpec(
        "settings", "settings", tuple(FrontlineSettings.model_fields), Role.admin, FrontlineSettings
    ),
    "policy": KindSpec("policy", "policy", tuple(ReviewPolicy.model_fields), Role.admin, ReviewPolicy),
}
LISTED: tuple[ItemKind, ...] = ("article", "guidance", "procedure")
"""Kinds a workspace holds many of (the other two are one document each)."""


def read_change_set(path: Path) -> ChangeSet:
    """Read and check the shape of a change set file (its items are checked by ``resolve``)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ChangeSetError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB")
        document = json.loads(path.read_text())
    except OSError as exc:
        raise ChangeSetError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ChangeSetError(f"{path} is not JSON: {exc.msg} (line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise ChangeSetError(f"{path} is not UTF-8 text") from None
    return parse_change_set(document, source=str(path))


def parse_change_set(document: Any, *, source: str = "the change set") -> ChangeSet:
    if not isinstance(document, dict) or not document:
        raise ChangeSetError(f"{source} must be a JSON object with any of: {', '.join(KEYS)}")
    unknown = sorted(set(document) - set(KEYS))
    if unknown:
        raise ChangeSetError(f"{source}: unknown key(s) {', '.join(unknown)}; use {', '.join(KEYS)}")
    for key in ("articles", "guidance", "procedures", "archive"):
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ChangeSetError(f"{source}: {key} must be a list of objects")
    for key in ("settings", "policy"):
        if not isinstance(document.get(key, {}), dict):
            raise ChangeSetError(f"{source}: {key} must be an object")
    try:
        change_set = ChangeSet.model_validate(document)
    except ValidationError as exc:
        raise ChangeSetError(f"{source}: {first_problem(exc)}") from None
    if change_set.empty:
        raise ChangeSetError(f"{source} changes nothing")
    return change_set


# ---------------------------------------------------------------------------------------- content


def normalize(kind: ItemKind, content: dict[str, Any], *, where: str) -> dict[str, Any]:
    """An item's content fields validated by its kind's model, as JSON (how diffs and versions compare)."""
    spec = SPECS[kind]
    stamps: dict[str, Any] = {}
    if kind == "article":
        stamps = {"external_id": "x", "created_at": EPOCH, "updated_at": EPOCH}
    elif kind in LISTED:
        stamps = {"external_id": "x", "updated_at": EPOCH}
    try:
        model = spec.model.model_validate({**content, **stamps})
    except ValidationError as exc:
        raise ChangeSetError(f"{where}: {first_problem(exc)}") from None
    if kind in LISTED:
        return model.model_dump(mode="json", include=set(spec.fields))
    return model.model_dump(mode="json", exclude_unset=True)


def current_content(
    scope: WorkspaceScope, kind: ItemKind, external_id: str, *, version: int | None = None
) -> tuple[int, dict[str, Any]] | None:
    """(version, normalized content) of an item as it is now — or as it was at ``version`` — or None
    when it does not exist (or never had that version)."""
    found: tuple[int, dict[str, Any]] | None
    if version is not None:
        found = next(
            ((v.version, v.content) for v in _versions(scope, kind, external_id) if v.version == version),
            None,
        )
    elif kind == "article":
        found = scope.articles.find(external_id)
    elif kind == "guidance":
        found = scope.guidance.find(external_id)
    elif kind == "procedure":
        found = scope.procedures.find(external_id)
    elif kind == "settings":
        found = scope.agent_settings.find()
    else:
        found = scope.policy.find()
    if found is None:
        return None
    number, content = found
    return number, normalize(kind, content, where=item_key(kind, external_id))


def _versions(scope: WorkspaceScope, kind: ItemKind, external_id: str) -> list[ItemVersion]:
    if kind == "article":
        return scope.articles.versions(external_id)
    if kind == "guidance":
        return scope.guidance.versions(external_id)
    if kind == "procedure":
        return scope.procedures.versions(external_id)
    if kind == "settings":
        return scope.agent_settings.versions()
    return scope.policy.versions()


def history(scope: WorkspaceScope, kind: ItemKind, external_id: str) -> list[ItemVersion]:
    """Every version of an item, oldest first, with who wrote it and why (the proposal's title)."""
    versions = _versions(scope, kind, external_id)
    if not versions and kind in LISTED:
        raise NotFound(f"there is no {kind} {external_id!r} in this workspace")
    titles: dict[int, str] = {}
    for version in versions:
        if version.proposal_id is not None and version.proposal_id not in titles:
            try:
                titles[version.proposal_id] = scope.proposals.get(version.proposal_id).title
            except NotFound:
                titles[version.proposal_id] = "(proposal not found)"
    return [
        v.model_copy(update={"why": titles.get(v.proposal_id) if v.proposal_id else None}) for v in versions
    ]


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` over ``base``, objects merged key by key (lists and values replaced)."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def resolve(
    change_set: ChangeSet, scope: WorkspaceScope, *, bases: dict[str, int | None] | None = None
) -> list[ItemChange]:
    """Every item of ``change_set`` checked against the workspace: its content before and after.

    ``bases`` resolves it against the versions a stored proposal started from (its diff as
    it was proposed) instead of the current content.

    Raises ChangeSetError naming the item and field for an unknown item to archive, an
    invalid field, a new item missing what it needs, an item named twice, or an item
    the change set leaves as it is.
    """
    changes: list[ItemChange] = []
    seen: set[str] = set()

    def lookup(kind: ItemKind, external_id: str) -> tuple[int, dict[str, Any]] | None:
        if bases is None:
            return current_content(scope, kind, external_id)
        base = bases.get(item_key(kind, external_id))
        return None if base is None else current_content(scope, kind, external_id, version=base)

    def add(change: ItemChange, where: str) -> None:
        if change.key in seen:
            raise ChangeSetError(f"{where}: {change.key} appears twice in the change set")
        if change.before == change.after and bases is None:
            raise ChangeSetError(f"{where}: changes nothing (the {change.kind} already reads like this)")
        seen.add(change.key)
        changes.append(change)

    for kind in LISTED:
        spec = SPECS[kind]
        for n, item in enumerate(getattr(change_set, spec.section), 1):
            external_id = item.get("external_id")
            where = f"{spec.section}[{n}]"
            if not isinstance(external_id, str) or not external_id.strip():
                raise ChangeSetError(
                    f"{where}: external_id is required (the id of the {kind} to change or add)"
                )
            where = f"{where} ({external_id})"
            unknown = sorted(set(item) - set(spec.fields) - {"external_id"})
            if unknown:
                raise ChangeSetError(
                    f"{where}: unknown field(s) {', '.join(unknown)}; a {kind} has {', '.join(spec.fields)}"
                )
            patch = {k: v for k, v in item.items() if k != "external_id"}
            if not patch:
                raise ChangeSetError(f"{where}: no field to change")
            found = lookup(kind, external_id)
            before = found[1] if found else None
            after = normalize(kind, merged(before or {}, patch), where=where)
            action: Action = "update" if found else "create"
            add(
                ItemChange(
                    kind=kind,
                    external_id=external_id,
                    action=action,
                    base_version=found[0] if found else None,
                    before=before,
                    after=after,
                ),
                where,
            )
    for kind in ("settings", "policy"):
        patch = getattr(change_set, kind)
        if not patch:
            continue
        unknown = sorted(set(patch) - set(SPECS[kind].fields))
        if unknown:
            raise ChangeSetError(
                f"{kind}: unknown key(s) {', '.join(unknown)}; use {', '.join(SPECS[kind].fields)}"
            )
        found = lookup(kind, kind)
        before = found[1] if found else {}
        after = normalize(kind, merged(before, patch), where=kind)
        add(
            ItemChange(
                kind=kind,
                external_id=kind,
                action="update",
                base_version=found[0] if found else None,
                before=before,
                after=after,
            ),
            kind,
        )
    for n, archived in enumerate(change_set.archive, 1):
        where = f"archive[{n}] ({archived.kind} {archived.external_id})"
        found = lookup(archived.kind, archived.external_id)
        if found is None:
            raise ChangeSetError(
                f"{where}: there is no {archived.kind} {archived.external_id!r} in this workspace"
            )
        before = found[1]
        after = dict(before)
        if archived.kind == "article":
            after["state"] = "archived"
        else:
            after["enabled"] = False
        add(
            ItemChange(
                kind=archived.kind,
                external_id=archived.external_id,
                action="archive",
                base_version=found[0],
                before=before,
                after=after,
            ),
            where,
        )
    return changes


def decided_by(changes: list[ItemChange]) -> Role:
    """The weakest role that may accept a change set with these items."""
    roles = [SPECS[c.kind].decided_by for c in changes]
    return Role.admin if Role.admin in roles else Role.editor


# ---------------------------------------------------------------------------------------- writing


def write(
    scope: WorkspaceScope,
    kind: ItemKind,
    external_id: str,
    content: dict[str, Any],
    *,
    by: str,
    proposal_id: int,
    at: datetime,
) -> int:
    """Write ``content`` as the item's newest version; returns the version written."""
    if kind == "article":
        found = scope.articles.find(external_id)
        created = scope.articles.get(external_id).created_at if found else at
        article = Article.model_validate(
            {**content, "external_id": external_id, "created_at": created, "updated_at": at}
        )
        return scope.articles.save(article, by=by, proposal_id=proposal_id)[0]
    if kind == "guidance":
        rule = GuidanceRule.model_validate({**content, "external_id": external_id, "updated_at": at})
        return scope.guidance.save(rule, by=by, proposal_id=proposal_id)[0]
    if kind == "procedure":
        procedure = Procedure.model_validate({**content, "external_id": external_id, "updated_at": at})
        return scope.procedures.save(procedure, by=by, proposal_id=proposal_id)[0]
    if kind == "settings":
        settings = FrontlineSettings.model_validate(content)
        return scope.agent_settings.save(settings, at=at, by=by, proposal_id=proposal_id).version
    policy = ReviewPolicy.model_validate(content)
    return scope.policy.save(policy, by=by, proposal_id=proposal_id).version


def current_version(scope: WorkspaceScope, kind: ItemKind, external_id: str) -> int | None:
    found: tuple[int, Any] | None
    if kind == "article":
        found = scope.articles.find(external_id)
    elif kind == "guidance":
        found = scope.guidance.find(external_id)
    elif kind == "procedure":
        found = scope.procedures.find(external_id)
    elif kind == "settings":
        found = scope.agent_settings.find()
    else:
        found = scope.policy.find()
    return found[0] if found else None


# ----------------------------------------------------------------------------------------- replay


def as_candidate(changes: list[ItemChange], *, source: str = "") -> Candidate:
    """The items as the front-line agent's replay takes them (articles, rules, procedures, settings)."""
    now = datetime.now(UTC)
    candidate = Candidate(source=source)
    for change in changes:
        if change.kind == "article":
            candidate.articles.append(
                ArticleVersion.model_validate(
                    {
                        **change.after,
                        "external_id": change.external_id,
                        "created_at": now,
                        "updated_at": now,
                        "version": (change.base_version or 0) + 1,
                    }
                )
            )
        elif change.kind == "guidance":
            candidate.guidance.append(
                GuidanceRule.model_validate(
                    {**change.after, "external_id": change.external_id, "updated_at": now}
                )
            )
        elif change.kind == "procedure":
            candidate.procedures.append(
                Procedure.model_validate(
                    {**change.after, "external_id": change.external_id, "updated_at": now}
                )
            )
        elif change.kind == "settings":  # only the keys it changes (the candidate's ``model_fields_set``)
            before = change.before or {}
            changed = {k: v for k, v in change.after.items() if k not in before or before[k] != v}
            candidate.settings = FrontlineSettings.model_validate(changed)
    return candidate


def load_candidate(path: Path, scope: WorkspaceScope) -> Candidate:
    """A change set file resolved against the workspace, as a replay candidate (nothing is written)."""
    return as_candidate(resolve(read_change_set(path), scope), source=str(path))
