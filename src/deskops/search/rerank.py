"""Optional cross-encoder re-ranking from a local model folder (no hub access)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deskops.errors import Unavailable


class CrossEncoderScorer:
    """Scores (query, passage) pairs with a sentence-transformers CrossEncoder stored at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: Any = None
        self._lock = threading.Lock()

    def __call__(self, query: str, passages: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._model is None:
                if not (self.path / "config.json").exists():
                    raise Unavailable(
                        f"DESKOPS_CROSS_ENCODER_PATH={self.path} is not a cross-encoder model folder"
                    )
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(str(self.path), device="cpu")
        scores = self._model.predict([(query, p) for p in passages], show_progress_bar=False)
        return np.asarray(scores, dtype=float)
