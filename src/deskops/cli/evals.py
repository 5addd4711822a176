"""Quality evaluations and benchmarks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from deskops.cli._apps import (
    bench_app,
    eval_app,
)
from deskops.cli._common import (
    Json,
    _emit,
    _services,
    _within,
    err,
    fail,
    out,
    reported,
)
from deskops.errors import InvalidInput


@eval_app.command("search")
def eval_search(
    dataset: Annotated[str, typer.Option(help="stackfaq, simulated, banking77 or all.")] = "all",
    max_queries: Annotated[int | None, typer.Option(help="Evaluate on at most this many queries.")] = None,
    fit_abstention: Annotated[
        bool, typer.Option(help="Also fit the abstention weights on this data.")
    ] = False,
    as_json: Json = False,
) -> None:
    """nDCG@10, recall@1/5/10 and MRR of BM25, dense and the hybrids on labelled query sets."""
    from deskops.harness.eval_search import DATASETS, load, run

    names = list(DATASETS) if dataset == "all" else [dataset]
    if any(n not in DATASETS for n in names):
        fail(f"--dataset must be one of {', '.join(DATASETS)} or all, not {dataset!r}", as_json=as_json)
    reports = []
    with _services(None, as_json=as_json) as services:
        for name in names:
            data = load(name, max_queries=max_queries)
            reports.append(
                run(
                    data,
                    embedder=services.search.embedder,
                    config=services.search.config,
                    fit_abstention=fit_abstention,
                    log=lambda line: err.print(line, highlight=False),
                )
            )
    _emit(
        {"evaluation": "search", "datasets": reports},
        as_json=as_json,
        render=lambda d: out.print_json(json.dumps(d)),
    )


@eval_app.command("anomalies")
def eval_anomalies(
    nab: Annotated[bool, typer.Option(help="Score on the NAB benchmark series.")] = True,
    simulated: Annotated[
        bool, typer.Option(help="Score on a simulated workspace's injected incidents.")
    ] = True,
    threshold: Annotated[float, typer.Option(help="Robust z-score above which a point is anomalous.")] = 4.0,
    as_json: Json = False,
) -> None:
    """Anomaly detection against a rolling z-score: NAB window precision/recall/F1 and simulated incidents."""
    from deskops.harness.eval_anomalies import run as run_anomalies

    with reported(as_json=as_json):
        if not 0 < threshold <= 100:
            raise InvalidInput(f"--threshold must be a robust z-score above 0, not {threshold}")
        document = run_anomalies(
            nab=nab,
            simulated=simulated,
            threshold=threshold,
            log=lambda line: err.print(line, highlight=False),
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@bench_app.command("simulate")
def bench_simulate(
    sizes: Annotated[str, typer.Option(help="Comma-separated conversation counts.")] = "100000,1000000",
    days: Annotated[int, typer.Option(help="Simulated period in days.")] = 365,
    as_json: Json = False,
) -> None:
    """Simulate into fresh SQLite files: conversations/s, messages/s and peak memory per size."""
    from deskops.harness.bench_simulate import run_simulate_bench

    counts = _sizes(sizes, as_json=as_json)
    with reported(as_json=as_json):
        _within("--days", days, 14, 3650)
        document = run_simulate_bench(counts, days=days, log=lambda line: err.print(line, highlight=False))
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@bench_app.command("search")
def bench_search(
    sizes: Annotated[str, typer.Option(help="Comma-separated index sizes in passages.")] = "10000,100000",
    queries: Annotated[int, typer.Option(help="Queries timed per size.")] = 200,
    as_json: Json = False,
) -> None:
    """Index build throughput, query latency p50/p95 (with query encoding) and memory per index size."""
    from deskops.harness.bench_search import run_search_bench

    counts = _sizes(sizes, as_json=as_json)
    with reported(as_json=as_json):
        _within("--queries", queries, 1, 10_000)
        document = run_search_bench(
            counts, queries=queries, log=lambda line: err.print(line, highlight=False)
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@bench_app.command("analytics")
def bench_analytics(
    conversations: Annotated[int, typer.Option(help="Size of the simulated workspace.")] = 1_000_000,
    days: Annotated[int, typer.Option(help="Simulated period in days.")] = 365,
    repeat: Annotated[int, typer.Option(help="Runs of each query per engine.")] = 5,
    as_json: Json = False,
) -> None:
    """The standard analytics mix (by topic, plan x region, comparison + movers, attributes) beside DuckDB."""
    from deskops.harness.bench_analytics import run_analytics_bench

    with reported(as_json=as_json):
        _within("--conversations", conversations, 1, MAX_SIZE)
        _within("--repeat", repeat, 1, 1000)
        document = run_analytics_bench(
            conversations=conversations,
            days=days,
            repeat=repeat,
            log=lambda line: err.print(line, highlight=False),
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


MAX_SIZE = 10_000_000
"""Conversations or passages one benchmark run may ask for."""


def _sizes(sizes: str, *, as_json: bool) -> list[int]:
    try:
        counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        fail(f"--sizes must be comma-separated integers, got {sizes!r}", as_json=as_json)
    if not counts or min(counts) < 1 or max(counts) > MAX_SIZE:
        fail(f"--sizes must be integers between 1 and {MAX_SIZE:,}, got {sizes!r}", as_json=as_json)
    return counts


@eval_app.command("frontline")
def eval_frontline(
    max_queries: Annotated[
        int | None, typer.Option(help="Ask at most this many Banking77 test questions per seed (stratified).")
    ] = None,
    seeds: Annotated[
        str,
        typer.Option(
            "--seeds",
            "--seed",
            help="Comma-separated seeds: which intents are held out, one help center each.",
        ),
    ] = "0,1,2",
    history: Annotated[
        int, typer.Option(help="Past resolved conversations per article (0: a help center with no history).")
    ] = 50,
    simulated: Annotated[bool, typer.Option(help="Also evaluate on a simulated help center.")] = True,
    fit_default: Annotated[
        Path | None,
        typer.Option(
            "--fit-default",
            help="Instead: fit the shipped confidence model and threshold on development data (Banking77 "
            "training split, simulated help centers) and write them to this JSON file.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """The front-line agent's answers vs hand-overs by probability threshold (Banking77 test split, seeds)."""
    from deskops.harness.eval_frontline import development_episodes, run_frontline_eval
    from deskops.harness.eval_frontline import fit_default as fit

    with _services(None, as_json=as_json) as services:
        if max_queries is not None:
            _within("--max-queries", max_queries, 1, 100_000)
        _within("--history", history, 0, 100)
        chosen = _seeds(seeds)
        log = lambda line: err.print(line, highlight=False)  # noqa: E731
        if fit_default is not None:
            episodes = development_episodes(embedder=services.search.embedder, log=log)
            shipped = fit(episodes, fitted_at=date.today())
            try:
                fit_default.write_text(json.dumps(shipped.model_dump(mode="json"), indent=1) + "\n")
            except OSError as exc:
                raise InvalidInput(f"cannot write --fit-default {fit_default}: {exc.strerror}") from None
            _emit(shipped, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))
            return
        document = run_frontline_eval(
            seeds=chosen,
            history=history,
            max_queries=max_queries,
            simulated=simulated,
            log=log,
            embedder=services.search.embedder,
        )
    _emit(document, as_json=as_json, render=_render_frontline_eval)


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or len(seeds) > 10 or any(not 0 <= s < 2**31 for s in seeds):
        raise InvalidInput(f"--seeds must name 1 to 10 non-negative integers, got {text!r}")
    return seeds


def _render_frontline_eval(d: dict[str, Any]) -> None:
    out.print(f"model: {d['model']}; shipped threshold {d['chosen_threshold']:.2f}", highlight=False)
    sections = [(f"Banking77 seed {r['seed']}", r) for r in d["seeds"]]
    if "simulated" in d:
        sections.append((f"simulated help center seed {d['simulated']['seed']}", d["simulated"]))
    for name, r in sections:
        out.print(
            f"\n{name}: {r['help_center']['articles']} articles, {r['questions']['in_scope']} in-scope and "
            f"{r['questions']['out_of_scope']} out-of-scope questions, ECE {r['calibration']['ece']:.3f}",
            highlight=False,
        )
        out.print(
            "threshold  correct(in)  answered(in)  acc|answered  handover recall(out)  handover precision"
        )
        for p in r["curve"]:
            mark = " <- shipped" if abs(p["threshold"] - d["chosen_threshold"]) < 0.025 else ""
            cells = [
                p["in_scope_correct_rate"],
                p["in_scope_answer_rate"],
                p["in_scope_accuracy_when_answered"],
                p["out_of_scope_handover_recall"],
                p["handover_precision"],
            ]
            widths = (11, 12, 12, 20, 18)
            row = "  ".join(f"{c or 0:{w}.3f}" for c, w in zip(cells, widths, strict=True))
            out.print(f"{p['threshold']:9.2f}  {row}{mark}", highlight=False)
        at = r["at_shipped_default"]
        out.print(
            f"at the shipped default {at['threshold']:.2f}: "
            f"in-scope correct {at['in_scope_correct_rate']:.3f}, "
            f"accuracy when answered {at['in_scope_accuracy_when_answered'] or 0:.3f}, "
            f"hand-over recall {at['out_of_scope_handover_recall'] or 0:.3f}",
            highlight=False,
        )
    out.print(f"\ntargets met on every seed: {d['targets_met']}", highlight=False)


@bench_app.command("frontline")
def bench_frontline(
    articles: Annotated[int, typer.Option(help="Size of the generated help center.")] = 2_000,
    queries: Annotated[int, typer.Option(help="Customer messages to time.")] = 200,
    as_json: Json = False,
) -> None:
    """p50/p95 of one offline front-line reply on a generated help center, search alone beside it."""
    from deskops.harness.bench_frontline import run_frontline_bench

    with _services(None, as_json=as_json) as services:
        _within("--articles", articles, 1, 100_000)
        _within("--queries", queries, 1, 10_000)
        document = run_frontline_bench(
            articles=articles,
            queries=queries,
            log=lambda line: err.print(line, highlight=False),
            embedder=services.search.embedder,
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@eval_app.command("review")
def eval_review(
    split: Annotated[
        str, typer.Option(help="dev (where thresholds are chosen), test (reported) or both.")
    ] = "test",
    conversations: Annotated[int, typer.Option(help="Size of each simulated workspace.")] = 3000,
    replay: Annotated[
        bool, typer.Option(help="Also run the impact reviewer's replay (much slower).")
    ] = False,
    as_json: Json = False,
) -> None:
    """Reviewers on labelled proposals from a simulated workspace: recall, false blocks, review time."""
    import tempfile
    from pathlib import Path

    from deskops.bootstrap import build
    from deskops.harness.eval_review import SPLITS, run

    with reported(as_json=as_json):
        names = list(SPLITS) if split == "both" else [split]
        if any(n not in SPLITS for n in names):
            raise InvalidInput(f"--split must be dev, test or both, not {split!r}")
        _within("--conversations", conversations, 500, 200_000)
        reports = []
        with tempfile.TemporaryDirectory(prefix="deskops-eval-review-") as folder:
            services = build(database_url=f"sqlite:///{folder}/review.db", data_dir=Path(folder))
            try:
                for name in names:
                    reports.append(
                        run(
                            services=services,
                            split=name,
                            conversations=conversations,
                            replay=replay,
                            folder=Path(folder),
                            log=lambda line: err.print(line, highlight=False),
                        )
                    )
            finally:
                services.close()
    document = reports[0] if len(reports) == 1 else {"evaluation": "review", "splits": reports}
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@bench_app.command("changes")
def bench_changes(
    conversations: Annotated[int, typer.Option(help="Size of the simulated workspace.")] = 50_000,
    proposals: Annotated[int, typer.Option(help="One-article proposals reviewed without the replay.")] = 40,
    replayed: Annotated[int, typer.Option(help="One-article proposals reviewed with the replay.")] = 15,
    events: Annotated[int, typer.Option(help="Audit events in the chain that is verified.")] = 1_000_000,
    as_json: Json = False,
) -> None:
    """Review (without and with the replay), apply and audit-verify times on a simulated workspace."""
    from deskops.harness.bench_changes import run_changes_bench

    with _services(None, as_json=as_json) as services:
        _within("--conversations", conversations, 1000, MAX_SIZE)
        _within("--proposals", proposals, 1, 1000)
        _within("--replayed", replayed, 1, 200)
        _within("--events", events, 1, 100_000_000)
        document = run_changes_bench(
            conversations=conversations,
            proposals=proposals,
            replayed=replayed,
            events=events,
            embedder=services.search.embedder,
            log=lambda line: err.print(line, highlight=False),
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))


@eval_app.command("timetravel")
def eval_timetravel(
    seeds: Annotated[int, typer.Option(help="Simulated workspaces, one per seed.")] = 5,
    split: Annotated[
        str,
        typer.Option(
            help="test (seeds from 101, reported) or dev (seeds from 1, where thresholds were chosen)."
        ),
    ] = "test",
    conversations: Annotated[int, typer.Option(help="Size of each simulated workspace.")] = 40_000,
    days: Annotated[int, typer.Option(help="Length of each simulated period in days.")] = 180,
    as_json: Json = False,
) -> None:
    """Ask the Operator about every injected incident and quiet period of simulated workspaces; grade it."""
    from deskops.harness.eval_timetravel import SPLITS, run

    with _services(None, as_json=as_json) as services:
        if split not in SPLITS:
            raise InvalidInput(f"--split must be test or dev, not {split!r}")
        _within("--seeds", seeds, 1, 50)
        _within("--conversations", conversations, 5000, 1_000_000)
        _within("--days", days, 60, 720)
        document = run(
            split=split,
            seeds=seeds,
            conversations=conversations,
            days=days,
            embedder=services.search.embedder,
            log=lambda line: err.print(line, highlight=False),
        )
    _emit(document, as_json=as_json, render=lambda d: out.print_json(json.dumps(d)))
