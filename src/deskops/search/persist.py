"""The index on disk: self-contained segment folders plus a manifest swapped in atomically.

A writer builds new segment folders completely (and fsyncs them), then replaces
``manifest.json`` with ``os.replace``. Readers only follow the manifest, so a crash
at any point leaves either the old index or the new one, never half of one.
Folders the manifest does not name are leftovers of an interrupted write and are
removed by the next successful one.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from deskops.files import fsync, replace_atomically
from deskops.search import bm25
from deskops.search.chunks import Chunk
from deskops.search.index import HybridIndex, Segment

FORMAT = 1


class IndexDamaged(Exception):
    """The index on disk cannot be read as it should be; the message says what is wrong.

    The index is a cache of the database: ``SearchService`` rebuilds it when it sees this.
    """


@dataclass
class Manifest:
    model: str
    dimension: int
    workspace_id: int
    workspace_created: str
    """Together with workspace_id, tells a recreated workspace of the same name from the old one."""
    segments: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    articles: dict[str, int] = field(default_factory=dict)
    """Indexed version of every article."""
    last_conversation_id: int = 0
    conversation_revision: int = 0
    """The data revision up to which rewritten and erased conversations are reflected."""
    generation: int = 0
    format: int = FORMAT


class IndexFolder:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time per workspace index."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_manifest(self) -> Manifest | None:
        """The manifest; None when there is none (or it is of an older format); IndexDamaged if unreadable."""
        if not self.manifest_path.exists():
            return None
        try:
            document = json.loads(self.manifest_path.read_text())
            if not isinstance(document, dict):
                raise IndexDamaged("manifest.json is not a JSON object")
            if document.get("format") != FORMAT:
                return None
            return Manifest(**document)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise IndexDamaged(f"manifest.json: {_why(exc)}") from exc

    def load(self, manifest: Manifest) -> HybridIndex:
        """The index the manifest names; IndexDamaged when any part of it is missing or malformed."""
        index = HybridIndex(manifest.dimension)
        retired = set(manifest.retired)
        for name in manifest.segments:
            folder = self.path / name
            try:
                segment = _load_segment(folder, index, retired, manifest.dimension)
            except (OSError, ValueError, TypeError, KeyError, IndexError, json.JSONDecodeError) as exc:
                raise IndexDamaged(f"segment {name}: {_why(exc)}") from exc
            index.segments.append(segment)
        return index

    def remove(self) -> None:
        """Delete the whole folder: segments, manifest, lock and embedding cache."""
        shutil.rmtree(self.path, ignore_errors=True)

    def write_segment(self, index: HybridIndex, segment: Segment) -> None:
        folder = self.path / segment.name
        folder.mkdir(parents=True)
        used = np.flatnonzero(np.diff(segment.terms.tf.indptr))  # columns (terms) with postings
        local_tf = segment.terms.tf[:, used] if len(used) else segment.terms.tf[:, :0]
        _write_json(folder / "chunks.json", [asdict(c) for c in segment.chunks])
        _write_json(folder / "terms.json", [index.vocabulary.terms[i] for i in used.tolist()])
        sp.save_npz(folder / "tf.npz", sp.csc_matrix(local_tf))
        np.save(folder / "lengths.npy", segment.terms.lengths)
        np.save(folder / "vectors.npy", segment.vectors)
        for path in folder.iterdir():
            fsync(path)
        fsync(folder)

    def commit(self, manifest: Manifest) -> None:
        """Point the index at ``manifest``'s segments, atomically; then drop what it no longer names."""
        manifest.generation += 1
        replace_atomically(self.manifest_path, json.dumps(asdict(manifest)))
        keep = set(manifest.segments) | {
            "manifest.json",
            "lock",
            "embeddings.sqlite",
            "embeddings.sqlite-wal",
            "embeddings.sqlite-shm",
        }
        for entry in self.path.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)

    @staticmethod
    def new_segment_name() -> str:
        return f"seg-{uuid.uuid4().hex[:12]}"


def _load_segment(folder: Path, index: HybridIndex, retired: set[str], dimension: int) -> Segment:
    chunks = [Chunk(**row) for row in json.loads((folder / "chunks.json").read_text())]
    local_terms = json.loads((folder / "terms.json").read_text())
    global_ids = np.array(index.vocabulary.add(local_terms), dtype=np.int64)
    local = sp.load_npz(folder / "tf.npz").tocoo()
    tf = sp.csc_matrix(
        (local.data, (local.row, global_ids[local.col])),
        shape=(local.shape[0], len(index.vocabulary)),
    )
    terms = bm25.TermMatrix(tf=tf, lengths=np.load(folder / "lengths.npy"))
    vectors = np.load(folder / "vectors.npy", mmap_mode=None)
    if (
        vectors.shape != (len(chunks), dimension)
        or tf.shape[0] != len(chunks)
        or len(terms.lengths) != len(chunks)
    ):
        raise ValueError(
            f"{len(chunks)} passages but {vectors.shape} vectors, {tf.shape[0]} term rows, "
            f"{len(terms.lengths)} lengths"
        )
    live = np.array([c.id not in retired for c in chunks], dtype=bool)
    return Segment(folder.name, chunks, terms, vectors, live)


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{Path(str(exc.filename)).name} is missing"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return str(exc).splitlines()[0][:200] or type(exc).__name__


def _write_json(path: Path, document: Any) -> None:
    with open(path, "w") as handle:
        json.dump(document, handle)
