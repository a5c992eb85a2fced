"""Trainer: bf16 autocast runs and resumes exactly; checkpoints leave frozen weights out."""

import pytest
import torch
from safetensors.torch import load_file

from xstilts.bench_training import synthetic_pairs, tiny_model_factory
from xstilts.features import featurize
from xstilts.heads import MultiTaskModel
from xstilts.train import TrainConfig, load_best, load_weights, train
from xstilts.xtreme import NLI_LABELS, TaskSpec

CLS = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
MLM = TaskSpec("mlm", "mlm", "auxiliary", "perplexity")


def _data():
    _, tok = tiny_model_factory()
    rows = [
        {"id": str(i), "lang": "en", "text_a": a, "text_b": b, "label": NLI_LABELS[i % 3]}
        for i, (a, b) in enumerate(synthetic_pairs(24, 0))
    ]
    mlm = [
        {"id": str(i), "lang": "en", "text": f"{a} {b}"}
        for i, (a, b) in enumerate(synthetic_pairs(12, 1))
    ]
    return {
        "nli": featurize(rows, CLS, tok, 48, progress=False),
        "mlm": featurize(mlm, MLM, tok, 48, progress=False),
    }, rows


def _model():
    torch.manual_seed(0)
    enc, tok = tiny_model_factory(hidden_size=16, intermediate_size=32)
    return MultiTaskModel(enc, {"nli": CLS, "mlm": MLM}, tokenizer=tok, seed=0)


def _cfg(**kw):
    base = dict(lr=1e-3, max_steps=6, batch_size=4, seed=0, progress=False, log_every=0)
    return TrainConfig(**{**base, "freeze_embeddings": True, **kw})


class _Kill(Exception):
    pass


def _stop_at(step):
    def hook(s):
        if s["step"] == step:
            raise _Kill

    return hook


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_is_exact_per_precision(tmp_path, precision):
    sets, _ = _data()
    full = train(_model(), sets, None, _cfg(precision=precision), tmp_path / "full")
    with pytest.raises(_Kill):
        train(
            _model(),
            sets,
            None,
            _cfg(precision=precision, checkpoint_every=2),
            tmp_path / "k",
            on_step=_stop_at(3),
        )
    resumed = train(
        _model(), sets, None, _cfg(precision=precision, checkpoint_every=2), tmp_path / "k"
    )
    assert resumed.loss_trace == full.loss_trace
    assert all(torch.isfinite(torch.tensor(full.loss_trace)))


def test_bf16_and_fp32_losses_are_close_but_not_identical(tmp_path):
    sets, _ = _data()
    a = train(_model(), sets, None, _cfg(precision="fp32"), tmp_path / "a").loss_trace
    b = train(_model(), sets, None, _cfg(precision="bf16"), tmp_path / "b").loss_trace
    assert a != b  # autocast did change the arithmetic
    assert max(abs(x - y) for x, y in zip(a, b)) < 0.1


def test_checkpoint_leaves_frozen_embeddings_out(tmp_path):
    sets, rows = _data()
    model = _model()
    evaluate = lambda m, task, lang, r: 1.0  # noqa: E731 - any score: a best/ is written
    dev = {"nli": {"en": rows[:4]}}
    train(model, {"nli": sets["nli"]}, dev, _cfg(), tmp_path, evaluate_fn=evaluate)
    emb = "encoder.embeddings.word_embeddings.weight"
    for f in ("checkpoint/model.safetensors", "best/model.safetensors"):
        saved = load_file(str(tmp_path / f))
        assert emb not in saved and "encoder.embeddings.position_embeddings.weight" in saved
    fresh = _model()
    fresh.encoder.get_input_embeddings().weight.requires_grad_(False)
    assert load_best(fresh, tmp_path) is not None
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        assert torch.equal(p, q), name
    # Loading into a model where the embeddings are trainable must fail loudly.
    with pytest.raises(RuntimeError, match="missing"):
        load_weights(_model(), tmp_path / "best" / "model.safetensors")
