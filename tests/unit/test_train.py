import json

import pytest
import torch

from tests.unit.nli_rows import nli_rows
from xstilts.bench_training import synthetic_pairs, tiny_model_factory
from xstilts.features import featurize
from xstilts.heads import MultiTaskModel
from xstilts.train import TrainConfig, plan_steps, task_probabilities, train
from xstilts.xtreme import NLI_LABELS, TaskSpec

CLS = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
MLM = TaskSpec("mlm", "mlm", "auxiliary", "perplexity")


@pytest.fixture(scope="module")
def data():
    _, tok = tiny_model_factory()
    rows = nli_rows(24)
    mlm_rows = [
        {"id": str(i), "lang": "en", "text": f"{a} {b}"}
        for i, (a, b) in enumerate(synthetic_pairs(12, 1))
    ]
    return (
        tok,
        {
            "nli": featurize(rows, CLS, tok, 48, progress=False),
            "mlm": featurize(mlm_rows, MLM, tok, 48, progress=False),
        },
        rows,
    )


def _model(tasks=("nli",), seed=0):
    torch.manual_seed(seed)
    enc, tok = tiny_model_factory(hidden_size=16, intermediate_size=32)
    specs = {"nli": CLS, "mlm": MLM}
    return MultiTaskModel(enc, {t: specs[t] for t in tasks}, tokenizer=tok)


def _cfg(**kw):
    base = dict(lr=1e-3, max_steps=6, batch_size=4, seed=0, progress=False, log_every=0)
    return TrainConfig(**{**base, **kw})


def test_task_probabilities_match_formula():
    p = task_probabilities({"a": 2**18, "b": 1000}, cap=2**17)
    assert p["a"] == 131072 / 132072 and p["b"] == 1000 / 132072
    assert task_probabilities({"a": 10}) == {"a": 1.0}


def test_plan_steps_caps_only_mixtures():
    cfg = TrainConfig(epochs=2, multitask_cap=100)
    assert plan_steps(cfg, {"a": 1000}, {"a": 10}) == 200
    assert plan_steps(cfg, {"a": 1000, "b": 50}, {"a": 10, "b": 10}) == 2 * (10 + 5)
    assert plan_steps(TrainConfig(max_steps=7), {"a": 1}, {"a": 1}) == 7


def test_same_seed_same_loss_trace(data, tmp_path):
    tok, sets, _ = data
    r1 = train(_model(("nli", "mlm")), sets, None, _cfg(), tmp_path / "a")
    r2 = train(_model(("nli", "mlm")), sets, None, _cfg(), tmp_path / "b")
    assert r1.status == "completed" and r1.steps == 6
    assert r1.loss_trace == r2.loss_trace
    r3 = train(_model(("nli", "mlm")), sets, None, _cfg(seed=1), tmp_path / "c")
    assert r3.loss_trace != r1.loss_trace


def test_multitask_draws_follow_probabilities(data, tmp_path):
    tok, sets, _ = data
    res = train(_model(("nli", "mlm")), sets, None, _cfg(max_steps=1, grad_accum=1), tmp_path)
    assert res.task_probabilities == pytest.approx({"nli": 24 / 36, "mlm": 12 / 36})
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert sum(state["task_counts"].values()) == 1


def test_nan_loss_stops_with_diverged(data, tmp_path):
    tok, sets, _ = data
    model = _model()
    calls = {"n": 0}

    def poison(module, args, output):
        calls["n"] += 1
        return output * float("nan") if calls["n"] >= 3 else output

    model.heads["nli"].out.register_forward_hook(poison)
    res = train(model, {"nli": sets["nli"]}, None, _cfg(), tmp_path)
    assert res.status == "diverged" and res.steps == 2
    assert "step 3" in res.reason and "nli" in res.reason
    assert len(res.loss_trace) == 2


def test_huge_lr_diverges(data, tmp_path):
    tok, sets, _ = data
    res = train(
        _model(),
        {"nli": sets["nli"]},
        None,
        _cfg(lr=1e30, warmup_ratio=0.0, max_grad_norm=0.0),
        tmp_path,
    )
    assert res.status == "diverged"


def test_checkpoint_is_safetensors_and_json_only(data, tmp_path):
    tok, sets, rows = data
    res = train(
        _model(),
        {"nli": sets["nli"]},
        {"nli": {"en": rows}},
        _cfg(checkpoint_every=2, eval_every=3),
        tmp_path,
        lambda m, t, lang, r: 0.5,
    )
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(p.suffix in (".safetensors", ".json") for p in files)
    # The run finished, so its last checkpoint leaves out the optimizer state (mid-run
    # checkpoints hold it: test_resume_after_crash_equals_uninterrupted resumes from one).
    assert {p.name for p in (tmp_path / "checkpoint").iterdir()} == {
        "model.safetensors",
        "rng.safetensors",
        "trainer_state.json",
    }
    assert not (tmp_path / "checkpoint.tmp").exists()
    assert res.best_step == 3 and res.best_dev == 0.5


def test_resume_after_crash_equals_uninterrupted(data, tmp_path):
    tok, sets, rows = data
    cfg = _cfg(max_steps=8, checkpoint_every=3, eval_every=4)

    def ev(m, t, lang, r):
        return 0.1 * len(r)

    full = train(
        _model(("nli", "mlm")),
        sets,
        {"nli": {"en": rows, "de": rows[:5]}},
        cfg,
        tmp_path / "full",
        ev,
    )

    class Crash(Exception):
        pass

    def crash(info):
        if info["step"] == 5:
            raise Crash

    with pytest.raises(Crash):
        train(
            _model(("nli", "mlm")),
            sets,
            {"nli": {"en": rows, "de": rows[:5]}},
            cfg,
            tmp_path / "r",
            ev,
            on_step=crash,
        )
    assert json.loads((tmp_path / "r/checkpoint/trainer_state.json").read_text())["step"] == 3
    # A different initialisation proves the weights come from the checkpoint.
    resumed = train(
        _model(("nli", "mlm"), seed=9),
        sets,
        {"nli": {"en": rows, "de": rows[:5]}},
        cfg,
        tmp_path / "r",
        ev,
    )
    assert resumed.loss_trace == full.loss_trace
    assert resumed.dev_curves == full.dev_curves
    assert {p["lang"] for p in full.dev_curves} == {"en", "de"}
    # A finished run returns its stored result without training again.
    again = train(_model(("nli", "mlm")), sets, None, cfg, tmp_path / "r", ev)
    assert again.loss_trace == full.loss_trace and again.status == "completed"
    # Its last checkpoint holds no optimizer state (it never steps again), but the weights.
    final = tmp_path / "r" / "checkpoint"
    assert not (final / "optimizer.safetensors").exists()
    assert (final / "model.safetensors").exists()


def test_early_stopping_keeps_best(data, tmp_path):
    tok, sets, rows = data
    scores = iter([0.5, 0.4, 0.3, 0.2, 0.1])
    model = _model()
    res = train(
        model,
        {"nli": sets["nli"]},
        {"nli": {"en": rows}},
        _cfg(max_steps=10, eval_every=2, early_stopping_patience=2),
        tmp_path,
        lambda m, t, lang, r: next(scores),
    )
    assert res.status == "early_stopped" and res.steps == 6
    assert res.best_step == 2 and res.best_dev == 0.5
    assert "first 500 English dev examples" in res.selection_rule
    # The model ends with the best (step 2) weights.
    from safetensors.torch import load_file

    best = load_file(str(tmp_path / "best" / "model.safetensors"))
    torch.testing.assert_close(
        model.state_dict()["heads.nli.out.weight"], best["heads.nli.out.weight"]
    )


def test_shared_task_draws_same_batches_with_or_without_mlm(data):
    """Paired runs (English vs English+MLM) see identical batches of the shared task."""
    from xstilts.train import _Batches

    _, sets, _ = data
    cfg = _cfg(seed=3)
    # "mlm" sorts before "mnli": seeding by list position gave MNLI another order with MLM.
    alone = _Batches({"mnli": sets["nli"]}, {"mnli": 4}, cfg, 1)
    mixed = _Batches({"mnli": sets["nli"], "mlm": sets["mlm"]}, {"mnli": 4, "mlm": 4}, cfg, 1)
    for _ in range(10):  # more than one epoch of 6 batches
        a, _ = alone.next("mnli")
        mixed.next("mlm")
        b, _ = mixed.next("mnli")
        assert torch.equal(a["input_ids"], b["input_ids"])
    other = _Batches({"mnli": sets["nli"]}, {"mnli": 4}, _cfg(seed=4), 1)
    orders = [other.samplers["mnli"].batches(0), alone.samplers["mnli"].batches(0)]
    assert orders[0] != orders[1]  # the run seed still changes the order


def test_examples_seen_per_task_recorded(data, tmp_path):
    _, sets, _ = data
    res = train(_model(("nli", "mlm")), sets, None, _cfg(max_steps=5), tmp_path)
    assert set(res.examples_seen) <= {"nli", "mlm"}
    assert sum(res.examples_seen.values()) == 5 * 4  # 24 and 12 rows: every batch is full
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["result"]["examples_seen"] == res.examples_seen
    draws = state["task_counts"]
    for task, n in res.examples_seen.items():
        assert draws[task] <= n <= 4 * draws[task]


def test_mlm_cotraining_shrinks_primary_task_as_jiant_counts():
    """jiant's capped step count: MNLI sees ~1/3 of its alone budget with MLM, ANLI+ ~1/8."""
    from xstilts.train import planned_examples

    cfg = TrainConfig(epochs=2, multitask_cap=2**17)
    for task, n, ratio in (("mnli", 392_702, 1 / 3), ("anli", 1_104_934, 1 / 8.43)):
        alone = planned_examples(cfg, {task: n}, {task: 24})[task]
        mixed = planned_examples(cfg, {task: n, "mlm": 2_000_000}, {task: 24, "mlm": 24})
        assert alone == pytest.approx(2 * n, rel=1e-3)
        assert mixed[task] == pytest.approx(2 * 2**17, rel=1e-3)
        assert mixed["mlm"] == pytest.approx(mixed[task], rel=1e-3)
        assert mixed[task] / alone == pytest.approx(ratio, rel=0.01)


def test_planned_examples_match_epochs_times_size_for_one_task():
    from xstilts.train import planned_examples

    assert planned_examples(TrainConfig(epochs=2), {"a": 600}, {"a": 16}) == {"a": 1200}
    assert planned_examples(TrainConfig(epochs=1), {"a": 10}, {"a": 4}) == {"a": 10}
