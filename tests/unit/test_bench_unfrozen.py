"""The unfrozen check compares the same cut of mini with the embeddings frozen and not."""

import pytest

from xstilts import bench_unfrozen, pipeline


def test_check_profiles_differ_only_in_freezing():
    frozen = bench_unfrozen.check_profile("e5-L3", ["english", "translated"], "xnli", True)
    unfrozen = bench_unfrozen.check_profile("e5-L3", ["english", "translated"], "xnli", False)
    assert frozen.intermediate.train.freeze_embeddings and frozen.target.train.freeze_embeddings
    assert not unfrozen.intermediate.train.freeze_embeddings
    assert not unfrozen.target.train.freeze_embeddings
    a, b = pipeline.plan(frozen), pipeline.plan(unfrozen)
    assert a[0].run_id == b[0].run_id  # one shared data run
    cells = [r.cell for r in a if r.phase != "data"]
    assert cells == [r.cell for r in b if r.phase != "data"]
    assert {r.cell["model"] for r in a if r.phase == "target"} == {"e5-L3"}
    assert {r.cell["task"] for r in a if r.phase == "target"} == {"xnli"}


def test_gap_is_mean_non_english_difference():
    def m(mode, scores, setting="mnli"):
        per = {lang: {"score": s} for lang, s in scores.items()}
        return {"status": "ok", "mode": mode, "setting": setting, "per_language": per}

    metrics = [
        m("english", {"en": 80, "de": 50, "zh": 40}),
        m("translated", {"en": 70, "de": 56, "zh": 42}),
        m("english", {"en": 1, "de": 1, "zh": 1}, setting="none"),
    ]
    assert bench_unfrozen.gaps(metrics) == {"translated": pytest.approx(4.0)}
