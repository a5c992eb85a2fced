"""The unfrozen check compares the same cut of mini with the embeddings frozen and not."""

import pytest

from xstilts import bench_unfrozen, params, pipeline


def test_check_profiles_differ_only_in_freezing():
    frozen = bench_unfrozen.check_profile("e5-L3", "xnli", True)
    unfrozen = bench_unfrozen.check_profile("e5-L3", "xnli", False)
    assert frozen.intermediate.train.freeze_embeddings and frozen.target.train.freeze_embeddings
    assert not unfrozen.intermediate.train.freeze_embeddings
    assert not unfrozen.target.train.freeze_embeddings
    modes = ["english", "translated"]
    a, b = bench_unfrozen.check_plan(frozen, modes), bench_unfrozen.check_plan(unfrozen, modes)
    assert a[0].run_id == b[0].run_id  # one shared data run
    cells = [r.cell for r in a if r.phase != "data"]
    assert cells == [r.cell for r in b if r.phase != "data"]
    assert {r.cell["model"] for r in a if r.phase == "target"} == {"e5-L3"}
    trained = [r for r in a if r.phase == "target" and r.cell["setting"] != "none"]
    assert {r.cell["task"] for r in trained} == {"xnli"}
    assert {r.cell["mode"] for r in a if r.phase == "intermediate"} == set(modes)


def test_frozen_variant_reuses_the_mini_sweeps_runs():
    frozen = bench_unfrozen.check_profile("e5-L12", "xnli", True)
    mini = {r.run_id for r in pipeline.plan(params.load_profile("mini"))}
    check = bench_unfrozen.check_plan(frozen, ["english", "translated"])
    # data; per seed 2 phase-(ii) runs, 3 XNLI runs, and the 4 other targets' baselines
    assert len(check) == 1 + 3 * (2 + 3 + 4)
    assert {r.run_id for r in check} <= mini  # nothing to recompute after `make reproduce`


def _m(mode, scores, setting="mnli", seed=0):
    per = {lang: {"score": s} for lang, s in scores.items()}
    return {"status": "ok", "mode": mode, "setting": setting, "seed": seed, "per_language": per}


def test_gap_is_mean_non_english_difference_paired_by_seed():
    metrics = [
        _m("english", {"en": 80, "de": 50, "zh": 40}),
        _m("translated", {"en": 70, "de": 56, "zh": 42}),
        _m("english", {"en": 80, "de": 60, "zh": 60}, seed=1),
        _m("translated", {"en": 70, "de": 50, "zh": 50}, seed=1),
        _m("translated", {"en": 70, "de": 99, "zh": 99}, seed=2),  # no English run: left out
        _m("english", {"en": 1, "de": 1, "zh": 1}, setting="none"),
    ]
    assert bench_unfrozen.gaps(metrics) == {"translated": {0: pytest.approx(4.0), 1: -10.0}}


def test_effect_is_paired_and_tested_over_seeds():
    frozen = bench_unfrozen.summarise({0: 1.0, 1: 2.0, 2: 3.0})
    unfrozen = bench_unfrozen.summarise({0: 11.0, 1: 12.5, 2: 13.0})
    effect = bench_unfrozen.summarise(bench_unfrozen._paired_effect(frozen, unfrozen))
    assert effect["per_seed"] == {"0": 10.0, "1": 10.5, "2": 10.0}
    lo, hi = effect["ci95"]
    assert lo < effect["mean"] < hi and lo > 0  # a consistent +10 is significant
    assert "raises the gap" in effect["sentence"]
    one_seed = bench_unfrozen.summarise({0: 10.0})
    assert one_seed["ci95"] is None and "no inference" in one_seed["sentence"]


def test_report_sentence_only_for_frozen_mini(tmp_path):
    from xstilts import codehash, io, paths

    frozen = {"translated": bench_unfrozen.summarise({0: 1.0, 1: 2.0, 2: 3.0})}
    unfrozen = {"translated": bench_unfrozen.summarise({0: 1.5, 1: 1.0, 2: 3.5})}
    effect = bench_unfrozen._paired_effect(frozen["translated"], unfrozen["translated"])
    result = {
        "model": "e5-L12",
        "task": "xnli",
        "seeds": [0, 1, 2],
        "variants": {"frozen": {"gap": frozen}, "unfrozen": {"gap": unfrozen}},
        "effect_of_unfreezing": {"translated": bench_unfrozen.summarise(effect)},
        "code_version": codehash.code_version(paths.NOTEBOOKS / "20_target.ipynb"),
    }
    path = tmp_path / "unfrozen_check.json"
    io.atomic_write_json(path, result)
    frozen_note = ["The word-embedding matrix is frozen in phase (ii) training."]
    text = bench_unfrozen.for_report("mini", frozen_note, path)
    assert "+2.0 points frozen and +2.0 unfrozen" in text
    assert "does not change the gap significantly" in text and "earlier version" not in text
    assert bench_unfrozen.for_report("full", frozen_note, path) is None
    assert bench_unfrozen.for_report("mini", [], path) is None  # nothing frozen, nothing to say
    io.atomic_write_json(path, {**result, "code_version": "0" * 16})
    assert "earlier version" in bench_unfrozen.for_report("mini", frozen_note, path)
