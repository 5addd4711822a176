"""Help centers with known right answers, for fitting and evaluating the front-line agent's confidence.

An *episode* is one workspace and the questions asked of it, each labelled with the articles
that answer it (none: the right move is to hand over). Fitting the shipped default and
evaluating it build their workspaces with the same code, and differ only in what is asked:

- **Banking77** (``banking77_episode``): the intents are shuffled by the episode's seed; 65 %
  (50) get an article — the intent's name and 12 of its *training* questions under
  "Questions this answers" — and 27 are held out. Each article also gets ``history`` past
  conversations, other training questions of its intent, answered by the AI citing it and
  resolved (the workspace's own history). Development episodes ask the remaining *training*
  questions (never the test split); evaluation asks the *test* split.
- **Simulated** (``simulated_episode``): the simulator's help center for a seed (every
  article in its end state; topics without a published article are the ones to hand over),
  the first half of each covered topic's customer phrasings as resolved past conversations,
  and the second half (with typo variants) as questions — of the even-numbered catalog topics
  in development, the odd-numbered ones in evaluation, so the two never ask the same thing.

Every question goes through the real agent (offline, real search and embeddings, a threshold
of 0 so every candidate's probability is recorded); the threshold is applied afterwards.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from deskops.domain.models import CalibrationSource, CandidateTrace
from deskops.harness.datasets import read_banking77, require_files, shared_data_dir, stratified_sample

if TYPE_CHECKING:
    from deskops.bootstrap import Services
    from deskops.search.dense import Embedder

IN_SCOPE_SHARE = 0.65
QUESTIONS_PER_ARTICLE = 12
HISTORY_PER_ARTICLE = 50
"""Past resolved conversations per article in an evaluated help center (the most the agent reads)."""
DEVELOPMENT_QUESTIONS = 3000
"""Questions a Banking77 development episode asks (about as many as the test split has)."""
WORKSPACE = "episode"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Question:
    text: str
    right: frozenset[str]
    """``article:<id>`` of each article that answers it (empty: hand over)."""
    label: str
    """The intent or topic, for reading results."""


@dataclass(frozen=True)
class Record:
    """One question as the agent decided it at threshold 0."""

    in_scope: bool
    confidence: float
    """The likeliest candidate's chance of a right answer."""
    answerable: bool
    """The agent would answer at any threshold (not a clarifying question or a hand-over for another
    reason)."""
    correct: bool
    """The likeliest candidate answers the question."""
    candidates: list[CandidateTrace]
    labels: list[int]
    """For each candidate, 1 when it answers the question."""


@dataclass
class Episode:
    source: CalibrationSource
    help_center: dict[str, int | str | None]
    records: list[Record] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    """Time of each decision."""


def _title(intent: str) -> str:
    return intent.replace("_", " ").capitalize()


def banking77_episode(
    *,
    seed: int,
    split: Literal["train", "test"],
    history: int = HISTORY_PER_ARTICLE,
    max_queries: int | None = None,
    root: Path | None = None,
    embedder: Embedder | None = None,
    log: Log = lambda line: None,
) -> Episode:
    """A Banking77 help center for ``seed``, asked the held-back *training* questions (``train``:
    development) or the test split (``test``: evaluation)."""
    folder = (root or shared_data_dir()) / "banking77"
    needed = ("train.csv",) if split == "train" else ("train.csv", "test.csv")
    require_files(folder, needed, " and ".join(needed) + " (Banking77, columns text,category)")
    train = read_banking77(folder / "train.csv")
    intents = sorted({category for _, category in train})
    rng = random.Random(seed)
    shuffled = intents[:]
    rng.shuffle(shuffled)
    in_scope = set(shuffled[: round(IN_SCOPE_SHARE * len(intents))])
    examples: dict[str, list[str]] = defaultdict(list)
    for text, category in train:
        examples[category].append(text)
    # The same draws as the evaluation always made, so an article's questions do not depend on
    # ``history``; the history and development questions come from a separate generator.
    article_questions = {
        intent: rng.sample(examples[intent], min(QUESTIONS_PER_ARTICLE, len(examples[intent])))
        for intent in sorted(in_scope)
    }
    rest = random.Random(f"{seed}-history")
    past: dict[str, list[str]] = {}
    unused: list[tuple[str, str]] = []
    for intent in intents:
        left = [q for q in examples[intent] if q not in set(article_questions.get(intent, []))]
        rest.shuffle(left)
        if intent in in_scope:
            past[intent], left = left[:history], left[history:]
        unused += [(q, intent) for q in left]
    if split == "train":
        asked = unused
        limit = max_queries or DEVELOPMENT_QUESTIONS
    else:
        asked = read_banking77(folder / "test.csv")
        limit = max_queries or len(asked)
    if limit < len(asked):
        asked = [asked[row] for row in stratified_sample([c for _, c in asked], limit, seed)]
    questions = [
        Question(text, frozenset({f"article:{intent}"}) if intent in in_scope else frozenset(), intent)
        for text, intent in asked
    ]
    articles = {
        intent: (
            _title(intent),
            f"{_title(intent)}.\n\n## Questions this answers\n\n" + "\n".join(f"- {q}" for q in questions_),
        )
        for intent, questions_ in article_questions.items()
    }
    source = CalibrationSource(
        dataset="banking77", split=split, seed=seed, history=history, questions=len(questions)
    )
    help_center: dict[str, int | str | None] = {
        "articles": len(in_scope),
        "in_scope_intents": len(in_scope),
        "out_of_scope_intents": len(intents) - len(in_scope),
        "questions_per_article": QUESTIONS_PER_ARTICLE,
        "history_per_article": history,
        "seed": seed,
    }
    return _run(source, help_center, articles, past, questions, embedder=embedder, log=log)


def simulated_episode(
    *,
    seed: int,
    topics: Literal["even", "odd"],
    history: bool = True,
    embedder: Embedder | None = None,
    log: Log = lambda line: None,
) -> Episode:
    """The simulator's help center for ``seed``, asked the second half of the phrasings of the
    even- or odd-numbered catalog topics."""
    from deskops.bootstrap import build
    from deskops.simulate.catalog import TOPICS
    from deskops.simulate.transcripts import add_typos
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with tempfile.TemporaryDirectory(prefix="deskops-episode-sim-") as folder:
        services = build(
            database_url=f"sqlite:///{Path(folder) / 'sim.db'}", data_dir=Path(folder), embedder=embedder
        )
        try:
            with services.uow() as uow:
                simulate_workspace(
                    uow=uow,
                    config=SimulationConfig(seed=seed, conversations=200, days=30),
                    truth_path=Path(folder) / "truth.json",
                )
            with services.uow() as uow:
                found = uow.workspace("demo").articles.list()
            truth = json.loads((Path(folder) / "truth.json").read_text())
        finally:
            services.close()
    published = {a.external_id: a for a in found if a.state.value == "published"}
    relevant: dict[str, list[str]] = {}
    for query in truth["search_queries"]:
        relevant[query["topic"]] = [r for r in query["relevant"] if r in published]
    rng = random.Random(f"{seed}-{topics}")
    past: dict[str, list[str]] = defaultdict(list)
    questions: list[Question] = []
    for n, topic in enumerate(TOPICS):
        half = len(topic.phrasings) // 2
        right = frozenset(f"article:{a}" for a in relevant.get(topic.key, []))
        if right and history:
            past[relevant[topic.key][0]] += list(topic.phrasings[:half])
        if (n % 2 == 0) != (topics == "even"):
            continue
        for phrasing in topic.phrasings[half:]:
            questions.append(Question(phrasing, right, topic.key))
            if rng.random() < 0.25:
                misspelt = add_typos(rng, phrasing)
                if misspelt != phrasing:
                    questions.append(Question(misspelt, right, topic.key))
    articles = {a.external_id: (a.title, a.body) for a in published.values()}
    topic_of = {relevant[t.key][0]: t.key for t in TOPICS if relevant.get(t.key)}
    source = CalibrationSource(
        dataset="simulated",
        seed=seed,
        history=max((len(v) for v in past.values()), default=0),
        questions=len(questions),
    )
    help_center: dict[str, int | str | None] = {
        "articles": len(published),
        "topics_asked": topics,
        "covered_topics": sum(1 for t in TOPICS if relevant.get(t.key)),
        "uncovered_topics": sum(1 for t in TOPICS if not relevant.get(t.key)),
        "seed": seed,
    }
    return _run(
        source, help_center, articles, dict(past), questions, embedder=embedder, log=log, topic_of=topic_of
    )


def _run(
    source: CalibrationSource,
    help_center: dict[str, int | str | None],
    articles: dict[str, tuple[str, str]],
    past: dict[str, list[str]],
    questions: Sequence[Question],
    *,
    embedder: Embedder | None,
    log: Log,
    topic_of: dict[str, str] | None = None,
) -> Episode:
    """Build the workspace, ask every question through the agent, keep what it judged."""
    from deskops.bootstrap import build

    episode = Episode(source=source, help_center=help_center)
    with tempfile.TemporaryDirectory(prefix="deskops-episode-") as tmp:
        services = build(
            database_url=f"sqlite:///{Path(tmp) / 'episode.db'}", data_dir=Path(tmp), embedder=embedder
        )
        try:
            _fill(services, articles, past, topic_of or {})
            log(
                f"{source.dataset} seed {source.seed}: indexing {len(articles)} articles and "
                f"{sum(len(v) for v in past.values())} past conversations ..."
            )
            services.search.rebuild(WORKSPACE)
            log(f"{source.dataset} seed {source.seed}: asking {len(questions)} questions ...")
            episode.records, episode.latencies_ms = _ask(services, questions)
        finally:
            services.close()
    return episode


def _fill(
    services: Services,
    articles: dict[str, tuple[str, str]],
    past: dict[str, list[str]],
    topic_of: dict[str, str],
) -> None:
    from deskops.domain.models import (
        Article,
        AuthorKind,
        Conversation,
        FrontlineSettings,
        Message,
        Outcome,
    )

    now = datetime.now(UTC)
    with services.uow() as uow:
        scope = uow.workspace(uow.workspaces.create(WORKSPACE, time_zone="UTC"))
        scope.articles.upsert_many(
            [
                Article(external_id=eid, title=title, body=body, created_at=now, updated_at=now)
                for eid, (title, body) in sorted(articles.items())
            ]
        )
        conversations: list[Conversation] = []
        for eid, texts in sorted(past.items()):
            for n, text in enumerate(texts):
                at = now - timedelta(days=30, minutes=len(conversations))
                conversations.append(
                    Conversation(
                        external_id=f"past-{eid}-{n}",
                        created_at=at,
                        closed_at=at + timedelta(minutes=5),
                        channel="chat",
                        topic=topic_of.get(eid, eid),
                        ai_involved=True,
                        outcome=Outcome.ai_resolved,
                        messages=[
                            Message(author_kind=AuthorKind.customer, text=text, created_at=at),
                            Message(
                                author_kind=AuthorKind.ai_agent,
                                text=f"Here is how: {articles[eid][0]}.",
                                created_at=at + timedelta(minutes=1),
                                cited_article_ids=[eid],
                            ),
                        ],
                    )
                )
        if conversations:
            scope.conversations.upsert_many(conversations)
        # Every threshold is applied afterwards to the recorded probability: answer everything here.
        scope.agent_settings.save(FrontlineSettings(confidence_threshold=0.0))
        uow.commit()


def _ask(services: Services, questions: Sequence[Question]) -> tuple[list[Record], list[float]]:
    from deskops.domain.models import Decision
    from deskops.frontline.agent import Inquiry
    from deskops.search.service import QUERY_CACHE, clean_query

    agent = services.frontline.offline()
    with services.uow() as uow:
        content = agent.content(uow.workspace(WORKSPACE))
    # The questions are embedded in batches first (several times faster than one by one), so the
    # latencies below leave out encoding the query: `deskops bench frontline` times that.
    texts = list(dict.fromkeys(clean_query(q.text)[0] for q in questions if q.text.strip()))
    if len(texts) <= QUERY_CACHE:
        services.search.encode_many(texts)
    records, latencies = [], []
    for question in questions:
        began = time.perf_counter()
        reply = agent.decide(WORKSPACE, Inquiry(message=question.text), content)
        latencies.append((time.perf_counter() - began) * 1000)
        calibration = reply.trace.calibration
        candidates = calibration.candidates if calibration else []
        chosen = calibration.article if calibration else None
        records.append(
            Record(
                in_scope=bool(question.right),
                confidence=reply.trace.confidence,
                answerable=reply.decision == Decision.answer,
                correct=chosen in question.right,
                candidates=candidates,
                labels=[int(c.article in question.right) for c in candidates],
            )
        )
    return records, latencies
