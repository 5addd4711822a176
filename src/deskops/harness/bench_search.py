"""`deskops bench search`: index build throughput, query latency and memory at given index sizes.

Each size runs in a fresh child process (`python -m deskops.harness.bench_search SIZE`) so its
memory is its own. Yardsticks measured in the same run on the same chunks: bm25s
alone (its own eager index) and brute-force dense alone (one matrix product).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deskops.domain.types import Latency

if TYPE_CHECKING:
    from deskops.search.dense import Embedder

ARTICLE_CHUNKS_ALLOWANCE = 170  # the simulated help center adds about this many chunks


def run_search_bench(sizes: list[int], *, queries: int, log: Callable[[str], None]) -> dict[str, Any]:
    runs = []
    for size in sizes:
        log(f"search bench at {size:,} chunks (simulating, embedding, querying) ...")
        result = subprocess.run(
            [sys.executable, "-m", "deskops.harness.bench_search", str(size), str(queries)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"search bench failed at {size}: {result.stderr.strip()[-2000:]}")
        runs.append(json.loads(result.stdout))
        log(f"  {runs[-1]}")
    return {
        "benchmark": "search",
        "targets": {"p95_ms_at_100k_chunks": 50},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": runs,
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentiles(samples_s: list[float]) -> dict[str, float | None]:
    latency = Latency.of([s * 1000 for s in samples_s], digits=2)
    return {"p50_ms": latency.p50_ms, "p95_ms": latency.p95_ms}


def measure(size: int, query_count: int, *, embedder: Embedder | None = None) -> dict[str, Any]:
    """One size, in this process (``embedder``: the bundled model unless another is given)."""
    import bm25s
    import Stemmer

    from deskops.bootstrap import build
    from deskops.simulate.workspace import SimulationConfig, simulate_workspace

    with tempfile.TemporaryDirectory(prefix="deskops-search-bench-") as folder:
        conversations = max(1, size - ARTICLE_CHUNKS_ALLOWANCE)
        services = build(
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            search_conversations=conversations,
            data_dir=Path(folder),
            embedder=embedder,
        )
        with services.uow() as uow:
            simulate_workspace(
                uow=uow,
                config=SimulationConfig(conversations=conversations, days=120),
                truth_path=Path(folder) / "truth.json",
            )
        truth = json.loads((Path(folder) / "truth.json").read_text())
        queries = [q["query"] for q in truth["search_queries"]][:query_count]
        search = services.search
        search.embedder.encode(["warm up"])
        rss_before = _rss_mb()

        started = time.perf_counter()
        index = search.sync("demo")
        build_seconds = time.perf_counter() - started
        chunks = index.live_chunks
        started = time.perf_counter()
        search.rebuild("demo")  # every embedding now comes from the cache
        cached_seconds = time.perf_counter() - started
        index = search.sync("demo")
        rss_index = _rss_mb()

        end_to_end, encode_only, index_only = [], [], []
        for query in queries:
            t0 = time.perf_counter()
            search.search("demo", query, k=10)
            end_to_end.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            vector = search.embedder.encode([query])[0]
            encode_only.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            index.search(query, vector, k=10, config=search.config)
            index_only.append(time.perf_counter() - t0)

        texts = [c.text for s in index.segments for c, alive in zip(s.chunks, s.live, strict=True) if alive]
        stemmer = Stemmer.Stemmer("english")
        reference = bm25s.BM25(method="lucene")
        reference.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
        )
        bm25s_alone = []
        for query in queries:
            tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
            t0 = time.perf_counter()
            reference.retrieve(tokens, k=10, show_progress=False)
            bm25s_alone.append(time.perf_counter() - t0)
        ours_bm25 = []
        for query in queries:
            t0 = time.perf_counter()
            index.search(query, None, k=10, method="bm25")
            ours_bm25.append(time.perf_counter() - t0)
        matrix = np.concatenate([s.vectors[s.live] for s in index.segments])
        brute = []
        for query in queries:
            vector = search.embedder.encode([query])[0]
            t0 = time.perf_counter()
            scores = matrix @ vector
            np.argpartition(-scores, 10)[:10]
            brute.append(time.perf_counter() - t0)
        services.close()

    latency = _percentiles(end_to_end)
    return {
        "chunks": chunks,
        "queries": len(queries),
        "build_seconds": round(build_seconds, 2),
        "build_chunks_per_second": round(chunks / build_seconds),
        "rebuild_from_cache_seconds": round(cached_seconds, 2),
        "query": latency,
        "query_encoding": _percentiles(encode_only),
        "index_search": _percentiles(index_only),
        "bm25_only_ours": _percentiles(ours_bm25),
        "yardstick_bm25s_alone": _percentiles(bm25s_alone),
        "yardstick_dense_brute_force": _percentiles(brute),
        "rss_mb": {"model_loaded": round(rss_before), "with_index": round(rss_index)},
        "meets_p95_target": (latency["p95_ms"] or 0) <= 50 if size >= 100_000 else None,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
