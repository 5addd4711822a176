"""Pure parts of the simulator: typos, timestamps, the catalog (incidents: test_incidents.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np

from deskops.simulate import catalog
from deskops.simulate.content import article_body
from deskops.simulate.transcripts import add_typos, timestamps

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_typos_change_few_letters_and_are_deterministic() -> None:
    text = "my card still has not arrived after two weeks"
    first = add_typos(random.Random(1), text)
    assert first == add_typos(random.Random(1), text)
    assert first != text
    assert abs(len(first) - len(text)) <= 2 and first.split()[0] == "my"


def test_timestamps_are_utc_text_that_sorts_like_time() -> None:
    epochs = np.array([0, 86_399, 1_780_000_000], dtype=np.int64)
    assert timestamps(epochs) == [
        "1970-01-01 00:00:00.000000",
        "1970-01-01 23:59:59.000000",
        "2026-05-28 20:26:40.000000",
    ]


def test_catalog_is_rich_enough_to_measure_search_on() -> None:
    assert len(catalog.TOPICS) >= 40 and len(catalog.AREAS) == 7
    for topic in catalog.TOPICS:
        assert len(set(topic.phrasings)) >= 10, topic.key
        if topic.change:
            assert topic.change[0] in topic.notes, topic.key
    body = article_body(catalog.TOPICS[0])
    assert body.startswith(catalog.TOPICS[0].summary) and "## Steps" in body and "1. " in body
