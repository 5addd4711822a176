"""Every conversation of a workspace as dictionary-encoded NumPy columns: the analytics rollup.

Reading a period's rows out of the database on every query costs seconds at a
million conversations; slicing these columns costs microseconds. A snapshot holds
one array per column, sorted by creation time, with text columns (and every custom
attribute) stored as int32 codes into a per-column dictionary.

The snapshot is kept current by the workspace's data revision, which every write
to conversations or customers bumps (``store.repositories.revisions``):

- same revision: the snapshot is served as it is;
- only appends since (``rewrite_revision`` unchanged): the new conversations (ids
  above the snapshot's newest) are read, encoded and merged in — O(new rows);
- anything else (a conversation or customer changed, a recreated workspace): the
  snapshot is rebuilt from the database.

Snapshots are persisted in the data folder (``DATA_DIR/stores/<database>/analytics/<workspace>/``,
see ``bootstrap.Services``) as one ``.npy`` per column plus a manifest swapped in with
``os.replace``, so a new process starts from disk and a crash never leaves half a
snapshot. The snapshot is a cache: deleting the folder loses nothing.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np

from deskops.files import fsync, replace_atomically
from deskops.store.repositories import DataRevision, WorkspaceScope

FORMAT = 1
CATEGORICAL = ("channel", "topic", "product_area", "language", "team", "outcome")
CUSTOMER_CATEGORICAL = ("plan", "region", "company_size")
FLOATS = ("customer_id", "csat", "first_response_seconds", "handling_seconds")
BOOLEANS = ("ai_involved", "escalated")
MISSING = -1
"""Code of a missing value (None; for custom attributes also "", [] and {})."""
ABSENT = -2
"""Code of a custom attribute whose key is not in the record at all."""
PERSIST_EVERY = 20_000
"""Appended rows held only in memory before the snapshot on disk is rewritten."""


class DictionaryDocument(TypedDict):
    """A ``Dictionary`` as stored in a snapshot's ``dictionaries.json``."""

    custom: bool
    values: list[Any]
    kinds: list[str]
    numbers: list[float | None]


@dataclass
class Dictionary:
    """The values behind one column's codes (code = position)."""

    custom: bool = False
    """Custom attributes also keep each value's kind and number; built-in columns are plain text."""
    values: list[Any] = field(default_factory=list)
    """Built-in columns: the text value. Custom attributes: the value as text (lists joined by commas)."""
    kinds: list[str] = field(default_factory=list)
    """Custom attributes: boolean, numeric, list or text, per code."""
    numbers: list[float] = field(default_factory=list)
    """Custom attributes: the numeric value per code (NaN when not numeric)."""
    _index: dict[Any, int] = field(default_factory=dict, repr=False)
    _keys: tuple[np.ndarray, list[str]] | None = field(default=None, repr=False)

    def code(self, value: Any, kind: str = "text", number: float = float("nan")) -> int:
        key = (kind, value) if self.custom else value
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.values)
            self.values.append(value)
            if self.custom:
                self.kinds.append(kind)
                self.numbers.append(number)
        return found

    def find(self, value: Any) -> int | None:
        """The code of a built-in column's value, None if it never occurs."""
        return self._index.get(value)

    def keys(self) -> tuple[np.ndarray, list[str]]:
        """Each code's position among the distinct value texts, and those texts.

        Codes and texts correspond one to one except in a custom attribute holding the
        same text as two kinds (1 and "1"), which count as one value.
        """
        if self._keys is None or len(self._keys[0]) != len(self.values):
            texts = [str(v) for v in self.values]
            if len(set(texts)) == len(texts):
                self._keys = np.arange(len(texts), dtype=np.int64), texts
            else:
                first: dict[str, int] = {}
                key_of_code = np.array([first.setdefault(t, len(first)) for t in texts], dtype=np.int64)
                self._keys = key_of_code, list(first)
        return self._keys

    def copy(self) -> Dictionary:
        return Dictionary(
            self.custom, list(self.values), list(self.kinds), list(self.numbers), dict(self._index)
        )

    def as_json(self) -> DictionaryDocument:
        return {
            "custom": self.custom,
            "values": self.values,
            "kinds": self.kinds,
            "numbers": [None if np.isnan(x) else x for x in self.numbers],
        }

    @classmethod
    def from_json(cls, document: DictionaryDocument) -> Dictionary:
        d = cls(
            custom=document["custom"],
            values=list(document["values"]),
            kinds=list(document["kinds"]),
            numbers=[float("nan") if x is None else float(x) for x in document["numbers"]],
        )
        keys = zip(d.kinds, d.values, strict=True) if d.custom else d.values
        d._index = {key: i for i, key in enumerate(keys)}
        return d


@dataclass
class Snapshot:
    workspace_id: int
    workspace_created: str
    revision: DataRevision
    max_id: int
    """Newest conversation id in the snapshot: appends read the ones above it."""
    columns: dict[str, np.ndarray]
    """One element per conversation, sorted by ``created`` (UTC microseconds)."""
    dictionaries: dict[str, Dictionary]
    """For every coded column: built-in text columns and ``conversation.KEY`` / ``customer.KEY``."""
    customers: dict[str, np.ndarray]
    """Customer-level codes indexed by customer id (to encode appended conversations)."""
    persisted_rows: int = 0

    def __len__(self) -> int:
        return len(self.columns["created"])

    @property
    def custom_attributes(self) -> list[str]:
        """``conversation.KEY`` then ``customer.KEY`` names, each group sorted."""
        return sorted(
            (n for n in self.columns if "." in n), key=lambda n: (n.split(".")[0] != "conversation", n)
        )

    def span(self, start_us: int, end_us: int) -> tuple[int, int]:
        """Row positions [i, j) of the conversations created in [start, end)."""
        created = self.columns["created"]
        i, j = np.searchsorted(created, [start_us, end_us], side="left")
        return int(i), int(j)


# ------------------------------------------------------------------------------------------ building


def _created_microseconds(values: list[Any]) -> np.ndarray:
    if values and isinstance(values[0], str):
        return np.array(values, dtype="datetime64[us]").astype(np.int64)
    return np.round(np.array(values, dtype=float) * 1_000_000).astype(np.int64)


def _document(value: Any) -> dict[str, Any]:
    if value is None or value == "{}":
        return {}
    if isinstance(value, str):
        decoded = json.loads(value)
        return decoded if isinstance(decoded, dict) else {}
    return value if isinstance(value, dict) else {}


def _custom_code(dictionary: Dictionary, value: Any) -> int:
    if value in (None, "", [], {}):
        return MISSING
    if isinstance(value, bool):
        return dictionary.code(str(value), "boolean")
    if isinstance(value, int | float):
        return dictionary.code(str(value), "numeric", float(value))
    if isinstance(value, list):
        return dictionary.code(",".join(map(str, value)), "list")
    return dictionary.code(str(value), "text")


def _encode_custom(
    documents: list[dict[str, Any]], prefix: str, dictionaries: dict[str, Dictionary]
) -> dict[str, np.ndarray]:
    """One code array per custom key: ABSENT where the record lacks the key."""
    out: dict[str, np.ndarray] = {}
    n = len(documents)
    for row, document in enumerate(documents):
        for key, value in document.items():
            name = f"{prefix}.{key}"
            codes = out.get(name)
            if codes is None:
                codes = out[name] = np.full(n, ABSENT, dtype=np.int32)
            codes[row] = _custom_code(dictionaries.setdefault(name, Dictionary(custom=True)), value)
    return out


def _encode_text(values: Iterable[Any], dictionary: Dictionary) -> np.ndarray:
    return np.array([MISSING if v is None else dictionary.code(v) for v in values], dtype=np.int32)


def _customer_table(scope: WorkspaceScope, dictionaries: dict[str, Dictionary]) -> dict[str, np.ndarray]:
    raw = scope.customers.analytics_rows()
    ids = np.array(raw["id"], dtype=np.int64)
    size = int(ids.max()) + 1 if len(ids) else 1
    table: dict[str, np.ndarray] = {}
    for name in CUSTOMER_CATEGORICAL:
        codes = np.full(size, MISSING, dtype=np.int32)
        codes[ids] = _encode_text(raw[name], dictionaries.setdefault(name, Dictionary()))
        table[name] = codes
    custom = _encode_custom([_document(v) for v in raw["attributes"]], "customer", dictionaries)
    for name, values in custom.items():
        codes = np.full(size, ABSENT, dtype=np.int32)
        codes[ids] = values
        table[name] = codes
    return table


def _conversation_columns(
    raw: dict[str, list[Any]], customers: dict[str, np.ndarray], dictionaries: dict[str, Dictionary]
) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {
        "id": np.array(raw["id"], dtype=np.int64),
        "created": _created_microseconds(raw["created"]),
        "reopen_count": np.array(raw["reopen_count"], dtype=np.int64),
    }
    for name in FLOATS:
        columns[name] = np.array([np.nan if v is None else v for v in raw[name]], dtype=float)
    for name in BOOLEANS:
        columns[name] = np.array([bool(v) for v in raw[name]], dtype=bool)
    for name in CATEGORICAL:
        columns[name] = _encode_text(raw[name], dictionaries.setdefault(name, Dictionary()))
    columns.update(_encode_custom([_document(v) for v in raw["attributes"]], "conversation", dictionaries))
    # Customer columns as of now, looked up by customer id (no customer: the last, sentinel slot).
    customer = columns["customer_id"]
    for name, codes in customers.items():
        sentinel = MISSING if name in CUSTOMER_CATEGORICAL else ABSENT
        lookup = np.append(codes, np.int32(sentinel))
        index = np.where(np.isnan(customer), len(codes), customer).astype(np.int64)
        index[index >= len(codes)] = len(codes)
        columns[name] = lookup[index]
    for name in CUSTOMER_CATEGORICAL:
        columns.setdefault(name, np.full(len(customer), MISSING, dtype=np.int32))
    return columns


def build(scope: WorkspaceScope, revision: DataRevision) -> Snapshot:
    """The whole workspace, read from the database."""
    dictionaries: dict[str, Dictionary] = {}
    customers = _customer_table(scope, dictionaries)
    columns = _conversation_columns(scope.conversations.analytics_rows(), customers, dictionaries)
    order = np.argsort(columns["created"], kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    return Snapshot(
        workspace_id=scope.workspace.id,
        workspace_created=scope.workspace.created_at.isoformat(),
        revision=revision,
        max_id=int(columns["id"].max()) if len(columns["id"]) else 0,
        columns=columns,
        dictionaries=dictionaries,
        customers=customers,
    )


def extend(snapshot: Snapshot, scope: WorkspaceScope, revision: DataRevision) -> Snapshot:
    """The snapshot plus the conversations appended since (existing rows are unchanged)."""
    raw = scope.conversations.analytics_rows(after_id=snapshot.max_id)
    dictionaries = {name: d.copy() for name, d in snapshot.dictionaries.items()}
    customers = dict(snapshot.customers)
    known = len(customers["plan"]) if "plan" in customers else 0
    wanted = max((int(c) for c in raw["customer_id"] if c is not None), default=-1)
    if wanted >= known:  # conversations of customers created since: read the customer table again
        customers = _customer_table(scope, dictionaries)
    new = _conversation_columns(raw, customers, dictionaries)
    old = snapshot.columns
    rows_old, rows_new = len(snapshot), len(new["created"])
    columns = {}
    for name in set(old) | set(new):
        fill = ABSENT if "." in name else MISSING
        a = old[name] if name in old else np.full(rows_old, fill, dtype=np.int32)
        b = new[name] if name in new else np.full(rows_new, fill, dtype=np.int32)
        columns[name] = np.concatenate([a, b])
    created = columns["created"]
    if rows_old and rows_new and new["created"].min() < old["created"][-1]:
        order = np.argsort(created, kind="stable")
        columns = {name: values[order] for name, values in columns.items()}
    return Snapshot(
        workspace_id=snapshot.workspace_id,
        workspace_created=snapshot.workspace_created,
        revision=revision,
        max_id=max(snapshot.max_id, int(new["id"].max()) if rows_new else 0),
        columns=columns,
        dictionaries=dictionaries,
        customers=customers,
        persisted_rows=snapshot.persisted_rows,
    )


# ------------------------------------------------------------------------------------------- on disk


def save(snapshot: Snapshot, folder: Path) -> None:
    """Write a new generation, then swap the manifest in; older generations are removed.

    Saves of one folder (other processes, other engines on the same file) take turns under
    a lock, so one never removes a generation another is still writing.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _save_locked(snapshot, folder)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _save_locked(snapshot: Snapshot, folder: Path) -> None:
    generation = f"gen-{uuid.uuid4().hex[:12]}"
    staging = folder / generation
    staging.mkdir()
    names = {}
    for group, arrays in (("c", snapshot.columns), ("u", snapshot.customers)):
        for i, (name, values) in enumerate(arrays.items()):
            file = f"{group}{i}.npy"
            np.save(staging / file, np.ascontiguousarray(values))
            names[file] = [group, name]
    with open(staging / "dictionaries.json", "w") as handle:
        json.dump({name: d.as_json() for name, d in snapshot.dictionaries.items()}, handle)
    for path in staging.iterdir():
        fsync(path)
    manifest = {
        "format": FORMAT,
        "generation": generation,
        "workspace_id": snapshot.workspace_id,
        "workspace_created": snapshot.workspace_created,
        "revision": snapshot.revision.revision,
        "rewrite_revision": snapshot.revision.rewrite_revision,
        "max_id": snapshot.max_id,
        "files": names,
    }
    replace_atomically(folder / "manifest.json", json.dumps(manifest))
    snapshot.persisted_rows = len(snapshot)
    for stale in folder.iterdir():
        if stale.name != generation and (stale.name.startswith("gen-") or stale.name.endswith(".tmp")):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def load(folder: Path) -> Snapshot | None:
    """The snapshot the manifest names, memory-mapped; None if there is none (or it is unreadable)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            return None
        staging = folder / manifest["generation"]
        columns: dict[str, np.ndarray] = {}
        customers: dict[str, np.ndarray] = {}
        for file, (group, name) in manifest["files"].items():
            mapped = np.load(staging / file, mmap_mode="r")
            # A plain ndarray view of the mapping: memmap's subclass hooks slow every operation.
            (columns if group == "c" else customers)[name] = mapped.view(np.ndarray)
        with open(staging / "dictionaries.json") as handle:
            dictionaries = {name: Dictionary.from_json(d) for name, d in json.load(handle).items()}
    except (OSError, ValueError, KeyError):
        return None  # a cache: anything unreadable is rebuilt
    snapshot = Snapshot(
        workspace_id=manifest["workspace_id"],
        workspace_created=manifest["workspace_created"],
        revision=DataRevision(manifest["revision"], manifest["rewrite_revision"]),
        max_id=manifest["max_id"],
        columns=columns,
        dictionaries=dictionaries,
        customers=customers,
    )
    snapshot.persisted_rows = len(snapshot)
    return snapshot


# ------------------------------------------------------------------------------------------- serving


class ColumnStore:
    """Current snapshots, per workspace, kept in memory and (when ``root`` is set) on disk.

    ``bootstrap.Services.columns`` makes one per database, rooted in the settings' data
    folder; nothing else keeps snapshots.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Forget the snapshots held in memory (the files stay)."""
        with self._lock:
            self._snapshots.clear()

    def forget(self, workspace: str) -> None:
        """Remove the workspace's snapshot from memory and disk (it was deleted or replaced)."""
        with self._lock:
            self._snapshots.pop(workspace, None)
            if self.root is not None:
                shutil.rmtree(self.root / workspace, ignore_errors=True)

    def snapshot(self, scope: WorkspaceScope) -> Snapshot:
        """The workspace's snapshot as of the scope's transaction, brought up to date first."""
        return self.refresh(scope).snapshot

    def refresh(self, scope: WorkspaceScope, *, rebuild: bool = False) -> Refresh:
        """Bring the workspace's snapshot up to date (or rebuild it) and say what that took."""
        revision = scope.revisions.current()  # before any row is read: a later write is caught next time
        name = scope.workspace.name
        folder = self.root / name if self.root else None
        with self._lock:
            current = self._snapshots.get(name)
            action: Action = "served"
            if current is None and folder is not None and not rebuild:
                current, action = load(folder), "loaded"
            if (
                rebuild
                or current is None
                or (current.workspace_id, current.workspace_created)
                != (scope.workspace.id, scope.workspace.created_at.isoformat())
                or current.revision.rewrite_revision != revision.rewrite_revision
                or current.revision.revision > revision.revision
            ):
                current, action = build(scope, revision), "built"
            elif current.revision != revision:
                current, action = extend(current, scope, revision), "appended"
            if folder is not None and (
                action == "built" or len(current) - current.persisted_rows >= PERSIST_EVERY
            ):
                save(current, folder)
            self._snapshots[name] = current
            return Refresh(current, action)


Action = Literal["served", "loaded", "appended", "built"]


@dataclass(frozen=True)
class Refresh:
    """A snapshot brought up to date, and what that took."""

    snapshot: Snapshot
    action: Action
    """served (already current), loaded (from disk), appended (new rows merged) or built (from the DB)."""
