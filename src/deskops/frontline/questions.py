"""What each published article is known to answer: the evidence the confidence model compares a message with.

An article answers the questions in its title and its FAQ, and those of past conversations
that an AI reply citing it resolved (closed as resolved by the AI, never reopened) — the
workspace's own history. Each is kept as a unit vector from the embedding model: titles and
FAQ questions are embedded once (through the workspace's embedding cache), and a past
conversation reuses the vector the search index already holds for it (what the customer
wrote in it, which opens with the question), so nothing is embedded twice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from deskops.domain.models import ArticleVersion, ContentState
from deskops.store.repositories import WorkspaceScope

HISTORY_PER_ARTICLE = 50
"""Newest resolved conversations kept per article (more add little, and cost memory)."""
HISTORY_RECENT = 20_000
"""Only the newest conversations are read for them (the search index holds as many by default)."""
MAX_FAQ_QUESTIONS = 100
"""Questions taken from one article at most."""

EmbedTexts = Callable[[str | None, Sequence[str]], np.ndarray]
"""(workspace, texts) -> unit vectors, one row per text (cached: only new text is embedded; a
workspace of None: a cache in memory)."""
DocumentVectors = Callable[[str, Sequence[str]], dict[str, np.ndarray]]
"""(workspace, document ids) -> the search index's vector of each indexed document."""

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")
_ABOUT_QUESTIONS = re.compile(r"\b(questions?|faqs?|q\s*&\s*a)\b", re.IGNORECASE)


def article_questions(title: str, body: str) -> list[str]:
    """The title and the questions an article says it answers.

    The items (or lines) under a heading about questions ("FAQ", "Questions this answers",
    "Common questions"), and any heading, list item or line that ends with a question mark.
    """
    found = [title.strip()] if title.strip() else []
    in_questions = False
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            text = heading.group(1).strip()
            in_questions = bool(_ABOUT_QUESTIONS.search(text))
            if text.endswith("?"):
                found.append(text)
            continue
        item = _ITEM.match(line)
        text = (item.group(1) if item else line).strip().strip("*_").strip()
        if text and (text.endswith("?") or (in_questions and (item or len(text.split()) <= 30))):
            found.append(text)
    return list(dict.fromkeys(found))[: MAX_FAQ_QUESTIONS + 1]


@dataclass(frozen=True)
class Known:
    """One article's known questions: unit vectors, and where each comes from."""

    vectors: np.ndarray
    """(n, dimension), unit rows."""
    sources: tuple[str, ...]
    """``title``, ``faq`` or ``conversation:<external id>``, one per row."""

    def similarities(self, vector: np.ndarray, *, excluding: str | None = None) -> np.ndarray:
        """Cosine similarity of ``vector`` to each known question (a conversation never counts for itself)."""
        if not len(self.sources):
            return np.zeros(0, dtype=np.float32)
        sims = self.vectors @ vector
        if excluding is not None and excluding in self.sources:
            sims = sims[np.array([s != excluding for s in self.sources])]
        return np.asarray(sims, dtype=np.float32)

    def history(self) -> Known | None:
        """Only the rows from past conversations (None: there are none)."""
        keep = [i for i, source in enumerate(self.sources) if source.startswith("conversation:")]
        if not keep:
            return None
        return Known(self.vectors[keep], tuple(self.sources[i] for i in keep))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for source in self.sources:
            kind = source.split(":", 1)[0]
            out[kind] = out.get(kind, 0) + 1
        return out


NOTHING_KNOWN = Known(np.zeros((0, 1), dtype=np.float32), ())


@dataclass
class QuestionBank:
    """Known questions per article (``article:<id>``): read-only once built."""

    articles: dict[str, Known] = field(default_factory=dict)

    def get(self, article_id: str) -> Known:
        return self.articles.get(article_id, NOTHING_KNOWN)

    def replacing(self, changed: Mapping[str, Known | None]) -> QuestionBank:
        """A bank with some articles' entries replaced (None: the article is gone): for candidates."""
        articles = dict(self.articles)
        for article_id, known in changed.items():
            if known is None:
                articles.pop(article_id, None)
            else:
                articles[article_id] = known
        return QuestionBank(articles)


@dataclass
class _State:
    versions: dict[str, int]
    revision: int
    own: dict[str, Known]
    """Title and FAQ rows per published article (``article:<id>``)."""
    history: dict[str, Known]
    """Resolved openings per article."""
    bank: QuestionBank


class KnownQuestions:
    """Builds each workspace's ``QuestionBank`` and keeps it until its articles or conversations change."""

    def __init__(self, *, embed_texts: EmbedTexts, document_vectors: DocumentVectors) -> None:
        self._embed_texts = embed_texts
        self._document_vectors = document_vectors
        self._states: dict[tuple[int, str], _State] = {}
        self._lock = threading.Lock()

    def bank(self, scope: WorkspaceScope) -> QuestionBank:
        """The workspace's bank as of now (cheap when nothing changed: two small reads)."""
        key = (scope.workspace.id, scope.workspace.created_at.isoformat())
        versions = scope.articles.current_versions()
        revision = scope.revisions.current().revision
        with self._lock:
            state = self._states.get(key)
        if state is not None and state.versions == versions and state.revision == revision:
            return state.bank
        workspace = scope.workspace.name
        own = dict(state.own) if state is not None else {}
        old = state.versions if state is not None else {}
        changed = sorted(e for e, v in versions.items() if old.get(e) != v)
        gone = {f"article:{e}" for e in set(old) - set(versions)} | {f"article:{e}" for e in changed}
        own = {k: v for k, v in own.items() if k not in gone}
        fresh = self.for_articles(workspace, scope.articles.get_many(changed) if changed else [])
        own |= {k: v for k, v in fresh.items() if v is not None}
        history = self._history(scope) if state is None or state.revision != revision else state.history
        # Only published articles: the history of an archived one is not evidence of anything answerable.
        articles = {article_id: _joined(known, history.get(article_id)) for article_id, known in own.items()}
        state = _State(versions, revision, own, history, QuestionBank(articles))
        with self._lock:
            self._states[key] = state
        return state.bank

    def with_articles(
        self, workspace: str, bank: QuestionBank, articles: Sequence[ArticleVersion]
    ) -> QuestionBank:
        """``bank`` as it would be with ``articles`` saved (replays of candidates): their title and FAQ
        rows are replaced, their past conversations kept; an article no longer published leaves it."""
        changed: dict[str, Known | None] = {}
        for article_id, known in self.for_articles(workspace, articles).items():
            changed[article_id] = None if known is None else _joined(known, bank.get(article_id).history())
        return bank.replacing(changed)

    def for_articles(
        self, workspace: str | None, articles: Sequence[ArticleVersion]
    ) -> dict[str, Known | None]:
        """Title and FAQ rows of each article (None for one that is not published); ``workspace`` names
        the embedding cache (None: in memory, for help centers that are not stored)."""
        out: dict[str, Known | None] = {}
        texts: list[str] = []
        spans: list[tuple[str, int, int]] = []
        for article in articles:
            article_id = f"article:{article.external_id}"
            if article.state != ContentState.published:
                out[article_id] = None
                continue
            questions = article_questions(article.title, article.body)
            spans.append((article_id, len(texts), len(texts) + len(questions)))
            texts += questions
        vectors = self._embed_texts(workspace, texts) if texts else np.zeros((0, 1), np.float32)
        for article_id, start, stop in spans:
            sources = ("title",) + ("faq",) * (stop - start - 1)
            out[article_id] = Known(
                np.asarray(vectors[start:stop], dtype=np.float32), sources[: stop - start]
            )
        return out

    def _history(self, scope: WorkspaceScope) -> dict[str, Known]:
        cited = scope.conversations.resolved_citations(recent=HISTORY_RECENT, per_article=HISTORY_PER_ARTICLE)
        wanted = sorted({f"conversation:{c}" for ids in cited.values() for c in ids})
        vectors = self._document_vectors(scope.workspace.name, wanted) if wanted else {}
        out: dict[str, Known] = {}
        for external_id, conversations in cited.items():
            rows = [
                (f"conversation:{c}", vectors[f"conversation:{c}"])
                for c in conversations
                if f"conversation:{c}" in vectors
            ]
            if rows:
                out[f"article:{external_id}"] = Known(
                    np.stack([v for _, v in rows]).astype(np.float32), tuple(s for s, _ in rows)
                )
        return out


def _joined(*parts: Known | None) -> Known:
    present = [p for p in parts if p is not None and len(p.sources)]
    if not present:
        return NOTHING_KNOWN
    if len(present) == 1:
        return present[0]
    return Known(np.vstack([p.vectors for p in present]), tuple(s for p in present for s in p.sources))
