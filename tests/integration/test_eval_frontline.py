"""`deskops eval frontline`: the shipped confidence model and threshold on held-out Banking77 intents.

The targets of docs/frontline.md hold at the shipped default on every seed (``slow``: every test
question of three help centers, run by ``make bench``). Refitting the default on the development
data reproduces the shipped model — it came from there and nowhere else (``slow`` too: nine
development help centers).
"""

from __future__ import annotations

from typing import Any

import pytest

from deskops.frontline.confidence import shipped
from deskops.harness.datasets import shared_data_dir
from deskops.harness.eval_frontline import development_episodes, fit_default, run_frontline_eval

pytestmark = pytest.mark.skipif(
    not (shared_data_dir() / "banking77").exists(), reason="shared data set Banking77 not found"
)


@pytest.mark.slow
def test_the_shipped_default_meets_the_targets_on_every_seed(real_embedder: Any) -> None:
    report = run_frontline_eval(embedder=real_embedder)
    assert [r["seed"] for r in report["seeds"]] == [0, 1, 2] and report["targets_met"]
    for seed in report["seeds"]:
        at = seed["at_shipped_default"]
        assert seed["questions"] == {"in_scope": 2000, "out_of_scope": 1080}
        assert at["threshold"] == shipped().threshold
        assert at["in_scope_correct_rate"] >= 0.80 and at["out_of_scope_handover_recall"] >= 0.70
        assert at["in_scope_accuracy_when_answered"] >= 0.93
        assert seed["calibration"]["ece"] < 0.05
    assert report["simulated"]["questions"]["out_of_scope"] > 0


@pytest.mark.slow
def test_refitting_on_the_development_data_reproduces_the_shipped_default(real_embedder: Any) -> None:
    refit = fit_default(development_episodes(embedder=real_embedder))
    default = shipped()
    assert refit.model.sources == default.model.sources and refit.model.features == default.model.features
    assert refit.model.weights == pytest.approx(default.model.weights, abs=0.05)
    assert refit.model.intercept == pytest.approx(default.model.intercept, abs=0.1)
    assert refit.threshold == pytest.approx(default.threshold, abs=0.011)
