"""Text to BM25 terms: the same pipeline as bm25s (its regex, English stop words, Snowball stemmer)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-case words of two or more characters, stop words removed, stemmed."""
    stop = _stopwords()
    words = [w for w in TOKEN.findall(text.lower()) if w not in stop]
    return list(_stemmer().stemWords(words))


def tokenize_many(texts: list[str]) -> list[list[str]]:
    stop, stemmer = _stopwords(), _stemmer()
    out = []
    for text in texts:
        out.append(list(stemmer.stemWords([w for w in TOKEN.findall(text.lower()) if w not in stop])))
    return out
