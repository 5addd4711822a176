"""Crash-safe files: what the caches on disk (search index, analytics snapshot) are written with.

A reader must only ever see a whole old version or a whole new one, so a manifest is
written to a temporary file beside its final name, flushed to disk, and renamed over
it (``os.replace`` is atomic on POSIX); the folder is flushed too, so the rename
survives a power cut.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's) contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(path: Path, text: str) -> None:
    """Make ``path`` hold ``text``: written beside it, flushed, then renamed over it in one step."""
    staged = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    staged.write_text(text)
    fsync(staged)
    os.replace(staged, path)
    fsync(path.parent)


def write_lines_atomically(path: Path, lines: Iterable[str]) -> int:
    """Make ``path`` hold ``lines`` (one per line), all or nothing; returns how many were written."""
    staged = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    count = 0
    try:
        with staged.open("w") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
        fsync(staged)
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)
    fsync(path.parent)
    return count
