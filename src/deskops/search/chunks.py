"""Cutting articles and conversations into the passages search indexes.

Articles are cut at headings and paragraphs, each passage keeping the article
title (and its section heading) as context. Conversations are indexed by what the
customer said, which is what someone searching for similar cases types.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from deskops.domain.models import ArticleVersion

MAX_CHARS = 700
"""Passages are grown paragraph by paragraph up to about this size."""
CONVERSATION_CHARS = 1000

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


@dataclass(frozen=True)
class Chunk:
    id: str
    """Unique per indexed version, e.g. ``article:kb-0001:v3#1`` or ``conversation:sim-0000042#0``."""
    doc_id: str
    """What a hit refers to: ``article:kb-0001`` or ``conversation:sim-0000042``."""
    kind: str
    """article or conversation."""
    title: str
    text: str
    """The passage as indexed: title, section heading and body."""
    section: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)
    """Filterable values: state, product_area, locale, date (ISO day)."""

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def article_chunks(article: ArticleVersion) -> list[Chunk]:
    """One passage per section, split further at paragraphs when a section is long."""
    fields = {
        "state": article.state.value,
        "product_area": article.product_area,
        "locale": article.locale,
        "date": article.updated_at.date().isoformat(),
    }
    return document_chunks(
        doc_id=f"article:{article.external_id}",
        version=f"v{article.version}",
        title=article.title,
        body=article.body,
        fields=fields,
    )


def document_chunks(
    *,
    doc_id: str,
    title: str,
    body: str,
    fields: dict[str, str | None],
    version: str = "v1",
    kind: str = "article",
) -> list[Chunk]:
    """Passages of a titled markdown document, each starting with the title (and its section heading)."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[-1][1].append("\n".join(paragraph).strip())
            paragraph.clear()

    for line in body.splitlines():
        found = _HEADING.match(line.strip())
        if found:
            flush()
            sections.append((found.group(1).strip(), []))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.rstrip())
    flush()

    chunks: list[Chunk] = []
    for heading, paragraphs in sections:
        for text in _pack([p for p in paragraphs if p]):
            context = title if heading is None else f"{title}\n{heading}"
            chunks.append(
                Chunk(
                    id=f"{doc_id}:{version}#{len(chunks)}",
                    doc_id=doc_id,
                    kind=kind,
                    title=title,
                    text=f"{context}\n{text}",
                    section=heading,
                    fields=fields,
                )
            )
    if not chunks:  # a title-only document is still findable by its title
        chunks.append(
            Chunk(
                id=f"{doc_id}:{version}#0", doc_id=doc_id, kind=kind, title=title, text=title, fields=fields
            )
        )
    return chunks


def conversation_chunk(
    *,
    external_id: str,
    created_at: datetime,
    customer_text: str,
    topic: str | None,
    product_area: str | None,
    language: str | None,
    version: str | None = None,
) -> Chunk:
    """The customer's side of a conversation as one passage (titled by its first words).

    ``version`` tells a rewritten conversation's passage from the one it replaces (``r<revision>``).
    """
    text = customer_text.strip()[:CONVERSATION_CHARS]
    first_line = text.splitlines()[0] if text else ""
    return Chunk(
        id=f"conversation:{external_id}" + (f":{version}" if version else "") + "#0",
        doc_id=f"conversation:{external_id}",
        kind="conversation",
        title=first_line[:80],
        text=text,
        fields={
            "state": None,
            "product_area": product_area,
            "locale": language,
            "date": created_at.date().isoformat(),
            "topic": topic,
        },
    )


def _pack(paragraphs: list[str]) -> list[str]:
    """Join consecutive paragraphs while they fit in MAX_CHARS."""
    packed: list[str] = []
    for paragraph in paragraphs:
        if packed and len(packed[-1]) + len(paragraph) + 2 <= MAX_CHARS:
            packed[-1] += "\n\n" + paragraph
        else:
            packed.append(paragraph)
    return packed
