"""Exact Okapi BM25 (Lucene variant, as bm25s computes it) over append-only segments.

bm25s precomputes every score at index time, which makes its index static: adding
one document means rebuilding it. Here each segment keeps raw term frequencies and
the corpus statistics (document count, document frequencies, average length) are
taken over all live documents of all segments at query time, so adding a segment or
retiring documents never needs a rebuild and scores stay exactly those of one index
over the live documents (a test checks them against bm25s itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

K1 = 1.5
B = 0.75


class Vocabulary:
    """Term -> column id; grows as segments add terms."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms: list[str] = list(terms)
        self._ids = {term: i for i, term in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def copy(self) -> Vocabulary:
        """A vocabulary that grows on its own from here."""
        twin = Vocabulary()
        twin.terms, twin._ids = list(self.terms), dict(self._ids)
        return twin

    def add(self, tokens: Sequence[str]) -> list[int]:
        ids = []
        for token in tokens:
            term_id = self._ids.get(token)
            if term_id is None:
                term_id = self._ids[token] = len(self.terms)
                self.terms.append(token)
            ids.append(term_id)
        return ids

    def lookup(self, tokens: Sequence[str]) -> list[int]:
        """Ids of known tokens (unknown ones cannot match anything)."""
        return [self._ids[t] for t in tokens if t in self._ids]


@dataclass
class TermMatrix:
    """Term frequencies of one segment: documents x terms (CSC, so a term's postings are contiguous)."""

    tf: sp.csc_matrix
    lengths: np.ndarray

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]], vocabulary: Vocabulary) -> TermMatrix:
        rows, cols = [], []
        for row, tokens in enumerate(token_lists):
            ids = vocabulary.add(tokens)
            rows.extend([row] * len(ids))
            cols.extend(ids)
        data = np.ones(len(rows), dtype=np.float32)
        shape = (len(token_lists), len(vocabulary))
        tf = sp.csc_matrix(
            (data, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))), shape=shape
        )
        tf.sum_duplicates()
        lengths = np.array([len(t) for t in token_lists], dtype=np.float32)
        return cls(tf=tf, lengths=lengths)

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        if term_id >= self.tf.shape[1]:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        start, end = self.tf.indptr[term_id], self.tf.indptr[term_id + 1]
        return self.tf.indices[start:end], self.tf.data[start:end]


def score(
    matrices: Sequence[TermMatrix], live: Sequence[np.ndarray], term_ids: Sequence[int]
) -> list[np.ndarray]:
    """BM25 of every document of every segment for the query terms (0 for dead documents)."""
    out = [np.zeros(m.tf.shape[0], dtype=np.float32) for m in matrices]
    documents = sum(int(mask.sum()) for mask in live)
    if documents == 0 or not term_ids:
        return out
    total_length = sum(float(m.lengths @ mask) for m, mask in zip(matrices, live, strict=True))
    average = total_length / documents
    norms = [K1 * (1 - B + B * m.lengths / average) for m in matrices]
    for term_id in term_ids:
        postings = [m.postings(term_id) for m in matrices]
        df = sum(int(mask[rows].sum()) for (rows, _), mask in zip(postings, live, strict=True))
        if df == 0:
            continue
        idf = np.log(1 + (documents - df + 0.5) / (df + 0.5))
        for scores, (rows, tf), norm, mask in zip(out, postings, norms, live, strict=True):
            if len(rows):
                contribution = idf * tf / (tf + norm[rows])
                scores[rows] += np.where(mask[rows], contribution, 0).astype(np.float32)
    return out


def merge(matrices: Sequence[TermMatrix], keep: Sequence[np.ndarray], vocabulary_size: int) -> TermMatrix:
    """One matrix holding the kept rows of several segments (no re-tokenising)."""
    parts = []
    for m, mask in zip(matrices, keep, strict=True):
        tf = m.tf[np.flatnonzero(mask)]
        tf.resize((tf.shape[0], vocabulary_size))
        parts.append(tf)
    lengths = np.concatenate([m.lengths[mask] for m, mask in zip(matrices, keep, strict=True)])
    return TermMatrix(tf=sp.vstack(parts, format="csc"), lengths=lengths)
