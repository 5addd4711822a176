"""`deskops bench simulate`: generation + storage throughput and peak memory per size.

Each size runs `deskops simulate` in a fresh child process on a fresh SQLite file,
so the peak resident memory reported is that run's own (from wait4's rusage).
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
from typing import Any


def run_simulate_bench(sizes: list[int], *, days: int, log: Callable[[str], None]) -> dict[str, Any]:
    runs = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="deskops-bench-") as folder:
            db = Path(folder) / "bench.db"
            command = [
                sys.executable,
                "-m",
                "deskops.cli",
                "simulate",
                "--db",
                f"sqlite:///{db}",
                "--conversations",
                str(size),
                "--days",
                str(days),
                "--truth",
                str(Path(folder) / "truth.json"),
                "--json",
            ]
            log(f"simulating {size:,} conversations over {days} days ...")
            began = time.perf_counter()
            # Output goes to files, not pipes: a child never blocks on a full pipe while we wait4
            # for it (which is how its own peak memory is read), and nothing is left open.
            out_path, err_path = Path(folder) / "stdout", Path(folder) / "stderr"
            with open(out_path, "w") as out, open(err_path, "w") as err:
                child = subprocess.Popen(command, stdout=out, stderr=err)
                _, status, usage = os.wait4(child.pid, 0)
                child.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - began
            stdout, stderr = out_path.read_text(), err_path.read_text()
            if child.returncode != 0:
                raise RuntimeError(f"simulate failed for {size}: {stderr.strip() or stdout.strip()}")
            report = json.loads(stdout)
            db_bytes = sum(p.stat().st_size for p in Path(folder).glob("bench.db*"))
            runs.append(
                {
                    "conversations": size,
                    "messages": report["messages"],
                    "days": days,
                    "seconds_total": round(wall, 2),
                    "seconds_simulate": report["seconds"],
                    "seconds_writing": report["write_seconds"],
                    "conversations_per_second": round(size / report["seconds"]),
                    "messages_per_second": round(report["messages"] / report["seconds"]),
                    "peak_rss_mb": round(usage.ru_maxrss / 1024),
                    "database_mb": round(db_bytes / 2**20),
                }
            )
            log(f"  {runs[-1]}")
    return {
        "benchmark": "simulate",
        "targets": {"seconds_for_1m": 300, "peak_rss_mb": 4096},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": runs,
    }
