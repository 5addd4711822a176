"""The index on disk: self-contained segment folders plus a manifest swapped in atomically.

A writer builds new segment folders completely (and fsyncs them), then replaces
``manifest.json`` with ``os.replace``. Readers only follow the manifest, so a crash
at any point leaves either the old index or the new one, never half of one.
Folders the manifest does not name are leftovers of an interrupted write and are
removed by the next successful one.
"""

from __future__ import annotations

import fcntl
import io
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from deskops.files import fsync, replace_atomically
from deskops.search import bm25
from deskops.search.chunks import Chunk
from deskops.search.index import HybridIndex, Segment

FORMAT = 2
"""2: manifests carry a build id. An index of an older format is rebuilt (from the embedding cache)."""
_T = TypeVar("_T")


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
    build: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Random, new on every rebuild. Generations restart at 1 with each build, so a process that
    loaded an index checks (build, generation), never the generation alone: another process may
    have rebuilt the index, or deleted and recreated the workspace, since."""
    segments: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    articles: dict[str, int] = field(default_factory=dict)
    """Indexed version of every article."""
    last_conversation_id: int = 0
    conversation_revision: int = 0
    """The data revision up to which rewritten and erased conversations are reflected."""
    generation: int = 0
    format: int = FORMAT

    @property
    def identity(self) -> tuple[str, int]:
        """What a loaded copy of the index is checked against: the same pair means the same files."""
        return self.build, self.generation


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
            missing = [f.name for f in fields(Manifest) if f.name not in document]
            if missing:  # every field is written; a default filled in here would hide the damage
                raise IndexDamaged(f"manifest.json: {', '.join(missing)} missing")
            manifest = Manifest(**document)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise IndexDamaged(f"manifest.json: {_why(exc)}") from exc
        # Right keys are not enough: a null segment list or a text generation would fail later, far
        # from here and outside the recovery (checked against every field, so a new one needs a check).
        wrong = [f.name for f in fields(Manifest) if not _MANIFEST_CHECKS[f.name](getattr(manifest, f.name))]
        if wrong:
            raise IndexDamaged(f"manifest.json: {', '.join(wrong)} of the wrong type or value")
        return manifest

    def load(self, manifest: Manifest) -> HybridIndex:
        """The index the manifest names; IndexDamaged when any part of it is missing or malformed."""
        index = HybridIndex(manifest.dimension)
        retired = set(manifest.retired)
        for name in manifest.segments:
            folder = self.path / name
            try:
                segment = _load_segment(folder, index, retired, manifest.dimension)
            # The segment files are ours and only a cache: whatever reading them raises (a truncated
            # zip, an empty .npy, a wrong type deep in numpy or scipy) means they are damaged.
            except Exception as exc:
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
        _write_array(folder / "lengths.npy", segment.terms.lengths)
        _write_array(folder / "vectors.npy", segment.vectors)
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
    chunks = _read(folder / "chunks.json", lambda path: [_chunk(row) for row in _json_list(path)])
    local_terms = _read(folder / "terms.json", _json_list)
    if not all(isinstance(term, str) for term in local_terms):
        raise ValueError("terms.json: a term that is not text")
    local = _read(folder / "tf.npz", _load_npz).tocoo()
    if local.shape[1] != len(local_terms) or local.dtype.kind not in "fiu":
        raise ValueError(f"{len(local_terms)} terms but {local.shape[1]} {local.dtype} term columns")
    global_ids = np.array(index.vocabulary.add(local_terms), dtype=np.int64)
    tf = sp.csc_matrix(
        (local.data, (local.row, global_ids[local.col])),
        shape=(local.shape[0], len(index.vocabulary)),
    )
    terms = bm25.TermMatrix(tf=tf, lengths=_read(folder / "lengths.npy", np.load))
    vectors = _read(folder / "vectors.npy", np.load)
    if (
        vectors.shape != (len(chunks), dimension)
        or tf.shape[0] != len(chunks)
        or terms.lengths.shape != (len(chunks),)
    ):
        raise ValueError(
            f"{len(chunks)} passages but {vectors.shape} vectors, {tf.shape[0]} term rows, "
            f"{terms.lengths.shape} lengths"
        )
    if vectors.dtype != np.float32 or terms.lengths.dtype.kind not in "fiu":
        raise ValueError(f"{vectors.dtype} vectors and {terms.lengths.dtype} lengths")
    live = np.array([c.id not in retired for c in chunks], dtype=bool)
    return Segment(folder.name, chunks, terms, vectors, live)


def _read(path: Path, reader: Callable[[Path], _T]) -> _T:
    """``reader(path)``, its failure naming the file (numpy and scipy only say "not a zip file")."""
    try:
        return reader(path)
    except FileNotFoundError:
        raise  # _why says which file is missing
    except Exception as exc:
        raise ValueError(f"{path.name}: {_why(exc)}") from exc


def _load_npz(path: Path) -> Any:
    # Opened here: given a path, numpy leaves the file it opened open when the zip in it is damaged.
    with open(path, "rb") as handle:
        return sp.load_npz(handle)


def _json_list(path: Path) -> list[Any]:
    document = json.loads(path.read_text())
    if not isinstance(document, list):
        raise ValueError(f"a JSON {type(document).__name__}, not a list")
    return document


def _chunk(row: Any) -> Chunk:
    chunk = Chunk(**row)  # TypeError for a row that is not an object or has other keys
    texts = (chunk.id, chunk.doc_id, chunk.kind, chunk.title, chunk.text)
    if not (
        all(isinstance(text, str) for text in texts)
        and isinstance(chunk.section, str | None)
        and isinstance(chunk.fields, dict)
        and all(isinstance(v, str | None) for v in chunk.fields.values())
    ):
        raise ValueError(f"passage {str(chunk.id)[:80]!r} has a field of the wrong type")
    return chunk


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _segment_names(value: Any) -> bool:
    """Distinct plain folder names: a name like ``../x`` would read, keep or delete outside the index."""
    return (
        _texts(value)
        and len(set(value)) == len(value)
        and all(v and Path(v).name == v and not v.startswith(".") for v in value)
    )


_MANIFEST_CHECKS: dict[str, Callable[[Any], bool]] = {
    "model": lambda v: isinstance(v, str),
    "dimension": lambda v: _count(v) and v > 0,
    "workspace_id": _count,
    "workspace_created": lambda v: isinstance(v, str),
    "build": lambda v: isinstance(v, str) and bool(v),
    "segments": _segment_names,
    "retired": _texts,
    "articles": lambda v: isinstance(v, dict) and all(_count(n) for n in v.values()),
    "last_conversation_id": _count,
    "conversation_revision": _count,
    "generation": _count,
    "format": _count,
}


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{Path(str(exc.filename)).name} is missing"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return str(exc).splitlines()[0][:200] or type(exc).__name__


def _write_array(path: Path, array: np.ndarray) -> None:
    # Not np.save(path): numpy writes a file through C stdio and does not report a short write, so
    # on a full disk it left a truncated vectors.npy that the manifest then named. Python's does.
    buffer = io.BytesIO()
    np.save(buffer, array)
    path.write_bytes(buffer.getbuffer())


def _write_json(path: Path, document: Any) -> None:
    with open(path, "w") as handle:
        json.dump(document, handle)
