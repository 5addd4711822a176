"""The deskops CLI with ``tests/hashing_embedder.HashingEmbedder`` in place of the embedding model.

Used to capture the goldens from a checkout in a subprocess:
``python tests/contracts/fake_cli.py ARGS...``. It swaps the class the composition
root instantiates, so it works on code from before ``build(embedder=...)`` existed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import deskops.search.dense
import hashing_embedder

deskops.search.dense.SentenceTransformerEmbedder = lambda *args, **kwargs: hashing_embedder.HashingEmbedder()  # type: ignore[assignment,misc]

from deskops.cli import main  # noqa: E402

main()
