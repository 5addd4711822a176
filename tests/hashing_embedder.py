"""A stand-in for the embedding model: deterministic, instant, no download.

``HashingEmbedder`` embeds a text as its hashed bag of words (their first six letters,
plus character trigrams so that a typo still lands near the word), normalised to unit
length. Texts that share words are similar — enough for tests of the code *around*
embeddings (CLI contracts, index bookkeeping, policy). Tests of retrieval quality use
the real model. No deskops import here: the JSON-contract goldens were captured with it
from older code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w\w+")


class HashingEmbedder:
    """Deterministic unit vectors from hashed words and trigrams (no model, no download)."""

    dimension = 384
    name = "hashing-test-embedder"

    def __init__(self) -> None:
        self.calls = 0
        """How many times ``encode`` was asked for vectors (to check caching)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                stem = word[:6]
                out[row, _bucket(stem)] += 1.0
                for i in range(len(stem) - 2):
                    out[row, _bucket("#" + stem[i : i + 3])] += 0.3
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


def _bucket(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little") % 384
