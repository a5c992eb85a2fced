import pytest
import torch
from transformers import AutoModel, PreTrainedTokenizerFast

from xstilts.bench_training import tiny_model_factory
from xstilts.features import Collator, featurize
from xstilts.heads import IGNORE_INDEX, MultiTaskModel, freeze_embeddings
from xstilts.xtreme import NLI_LABELS, TaskSpec

SPECS = {
    "cls": TaskSpec("cls", "classification", "intermediate", "accuracy", labels=NLI_LABELS),
    "mc": TaskSpec("mc", "multiple_choice", "intermediate", "accuracy", num_choices=3),
    "qa": TaskSpec("qa", "qa", "intermediate", "squad_v2"),
    "tag": TaskSpec("tag", "tagging", "intermediate", "token_accuracy", labels=("D", "N", "V")),
    "mlm": TaskSpec("mlm", "mlm", "auxiliary", "perplexity"),
}
ROWS = {
    "cls": [
        {
            "id": "0",
            "lang": "en",
            "text_a": "the man walks",
            "text_b": "a man runs",
            "label": "neutral",
        },
        {
            "id": "1",
            "lang": "en",
            "text_a": "the dog",
            "text_b": "a cat sleeps now",
            "label": "entailment",
        },
    ],
    "mc": [
        {
            "id": "0",
            "lang": "en",
            "context": "the man walks",
            "question": "then he",
            "choices": ["runs", "sits down", "eats"],
            "label": 1,
        },
        {
            "id": "1",
            "lang": "en",
            "context": "a dog",
            "question": "",
            "choices": ["runs", "sits", "eats the book"],
            "label": 2,
        },
    ],
    "qa": [
        {
            "id": "0",
            "lang": "en",
            "context": "the man walks in the park .",
            "question": "where ?",
            "answers": {"text": ["the park"], "answer_start": [17]},
        },
        {
            "id": "1",
            "lang": "en",
            "context": "the dog sleeps .",
            "question": "who ?",
            "answers": {"text": [], "answer_start": []},
        },
    ],
    "tag": [
        {"id": "0", "lang": "en", "tokens": ["the", "players", "walking"], "tags": ["D", "N", "V"]},
        {"id": "1", "lang": "en", "tokens": ["a", "dog"], "tags": ["D", "N"]},
    ],
    "mlm": [
        {"id": "0", "lang": "en", "text": "the man walks in the park with the dog ."},
        {"id": "1", "lang": "en", "text": "a cat sleeps ."},
    ],
}


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    encoder, tok = tiny_model_factory()
    model = MultiTaskModel(encoder, SPECS, tokenizer=tok)
    batches = {
        t: Collator(tok.pad_token_id)(featurize(ROWS[t], SPECS[t], tok, 32, progress=False)[:])
        for t in SPECS
    }
    return model, tok, batches


@pytest.mark.parametrize(
    "task,key,shape",
    [
        ("cls", "logits", (2, 3)),
        ("mc", "logits", (2, 3)),
        ("qa", "start_logits", (2, None)),
        ("tag", "logits", (2, None, 3)),
    ],
)
def test_output_shapes_and_losses(setup, task, key, shape):
    model, _, batches = setup
    batch = batches[task]
    loss, out = model(task, batch)
    assert torch.isfinite(loss) and loss.ndim == 0
    seq = batch["input_ids"].shape[-1]
    assert tuple(out[key].shape) == tuple(seq if s is None else s for s in shape)
    no_label = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask")}
    loss2, out2 = model.eval()(task, no_label)
    model.train()
    assert loss2 is None and out2[key].shape == out[key].shape


def test_loss_backpropagates_into_encoder(setup):
    model, _, batches = setup
    model.zero_grad()
    model("cls", batches["cls"])[0].backward()
    assert model.encoder.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0


def test_mlm_logits_only_at_masked_positions(setup):
    model, tok, batches = setup
    batch = batches["mlm"]
    n_masked = int((batch["labels"] != IGNORE_INDEX).sum())
    model.eval()
    loss, out = model("mlm", batch)
    assert out["logits"].shape == (n_masked, len(tok))
    # Same numbers as the full-vocabulary head applied everywhere, then selected.
    _, full = model("mlm", {k: v for k, v in batch.items() if k != "labels"})
    model.train()
    torch.testing.assert_close(out["logits"], full["logits"][batch["labels"] != IGNORE_INDEX])
    # The decoder is the input embedding matrix (tied, stored once).
    assert not any("decoder" in k for k in model.state_dict())
    expected = torch.nn.functional.cross_entropy(
        out["logits"], batch["labels"][batch["labels"] != IGNORE_INDEX]
    )
    torch.testing.assert_close(loss, expected)


def test_mlm_without_masked_tokens_gives_zero_loss(setup):
    model, _, batches = setup
    batch = dict(batches["mlm"])
    batch["labels"] = torch.full_like(batch["labels"], IGNORE_INDEX)
    loss, _ = model("mlm", batch)
    assert loss.item() == 0.0


def test_qa_no_answer_is_cls_and_out_of_range_ignored(setup):
    _, _, batches = setup
    b = batches["qa"]
    assert b["start_positions"][1].item() == 0 and b["end_positions"][1].item() == 0
    model = setup[0].eval()
    far = dict(b, start_positions=torch.tensor([999, 0]), end_positions=torch.tensor([999, 0]))
    loss, out = model("qa", far)
    model.train()
    ce = torch.nn.functional.cross_entropy
    zero = torch.tensor([0])
    expected = (ce(out["start_logits"][1:], zero) + ce(out["end_logits"][1:], zero)) / 2
    torch.testing.assert_close(loss, expected)


def test_save_encoder_roundtrip_safetensors_only(setup, tmp_path):
    model, tok, batches = setup
    model.save_encoder(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    reloaded = AutoModel.from_pretrained(tmp_path, add_pooling_layer=False)
    ref = model.encoder_state_dict()
    got = reloaded.state_dict()
    assert set(got) == set(ref)
    for k, v in got.items():
        torch.testing.assert_close(v, ref[k])
    assert not any(k.startswith("heads") for k in ref)
    tok2 = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    assert tok2("the man walks")["input_ids"] == tok("the man walks")["input_ids"]
    # Phase (iii) starts from the encoder with freshly initialised heads.
    fresh = MultiTaskModel(reloaded, {"cls": SPECS["cls"]})
    reloaded.eval(), model.eval()
    h1 = fresh.encode(batches["cls"])
    h2 = model.encode(batches["cls"])
    model.train()
    torch.testing.assert_close(h1, h2)


def test_freeze_embeddings():
    torch.manual_seed(0)
    encoder, tok = tiny_model_factory()
    model = MultiTaskModel(encoder, {"cls": SPECS["cls"]})
    n = freeze_embeddings(model)
    emb = model.encoder.get_input_embeddings().weight
    assert n == emb.numel() and not emb.requires_grad
    trainable = [k for k, p in model.named_parameters() if p.requires_grad]
    assert any("position_embeddings" in k for k in trainable)
    assert any(k.startswith("heads.cls") for k in trainable)


def test_missing_labels_raise():
    encoder, _ = tiny_model_factory()
    with pytest.raises(ValueError, match="with_labels"):
        MultiTaskModel(encoder, {"ccg": TaskSpec("ccg", "tagging", "intermediate", "x")})


# ----------------------------------------------------------------------------- predict


def test_predict_forms_for_every_kind(setup):
    from xstilts.predict import predict, references

    model, tok, _ = setup
    for t in ("cls", "mc", "qa", "tag"):
        preds = predict(model, SPECS[t], ROWS[t], tok, batch_size=1, max_seq_len=32)
        refs = references(SPECS[t], ROWS[t])
        assert len(preds) == len(refs) == 2
        if t == "cls":
            assert all(p in NLI_LABELS for p in preds) and refs == ["neutral", "entailment"]
        if t == "mc":
            assert all(isinstance(p, int) and 0 <= p < 3 for p in preds) and refs == [1, 2]
        if t == "qa":
            assert all(isinstance(p, str) for p in preds) and refs == [["the park"], []]
        if t == "tag":
            assert [len(p) for p in preds] == [3, 2] and refs[0] == ["D", "N", "V"]


def test_qa_decoding_over_windows_and_null():
    import numpy as np

    from xstilts.bench_training import tiny_tokenizer
    from xstilts.predict import _decode_qa

    tok = tiny_tokenizer()
    ctx = " ".join(("the man walks in the park " * 6).split() + ["with", "the", "dog", "."])
    row = {
        "id": "q",
        "lang": "en",
        "context": ctx,
        "question": "who ?",
        "answers": {"text": [], "answer_start": []},
    }
    feats = featurize([row], SPECS["qa"], tok, 24, doc_stride=6, progress=False)
    last = len(feats) - 1
    offsets = feats["offset_mapping"][last]
    dog = max(i for i, o in enumerate(offsets) if o is not None and ctx[o[0] : o[1]] == "dog")
    outs = []
    for i in range(len(feats)):
        s, e = np.zeros(24), np.zeros(24)
        s[0] = e[0] = 1.0  # null score 2 in every window
        if i == last:
            s[dog - 1], e[dog] = 3.0, 3.0  # "the dog", score 6
            s[1] = 50.0  # a question token: never a valid start
        outs.append({"start_logits": s, "end_logits": e})
    opts = {"n_best": 20, "max_answer_len": 30, "allow_null": True}
    assert _decode_qa(SPECS["qa"], [row], feats, outs, opts) == ["the dog"]
    outs[0]["start_logits"][0] = 10.0  # null is the minimum over windows: still 2
    assert _decode_qa(SPECS["qa"], [row], feats, outs, opts) == ["the dog"]
    for o in outs:
        o["start_logits"][0] = 10.0  # null now beats the span in every window
    assert _decode_qa(SPECS["qa"], [row], feats, outs, opts) == [""]
    assert _decode_qa(SPECS["qa"], [row], feats, outs, dict(opts, allow_null=False)) == ["the dog"]
    assert _decode_qa(
        SPECS["qa"], [row], feats, outs, dict(opts, allow_null=False, max_answer_len=1)
    ) != ["the dog"]


def test_seeded_heads_do_not_depend_on_the_global_rng():
    """A run's heads are a function of its seed alone (so two processes agree)."""
    from transformers import BertConfig, BertModel

    from xstilts import xtreme
    from xstilts.heads import MultiTaskModel

    cfg = BertConfig(
        vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16,
    )  # fmt: skip
    enc = BertModel(cfg, add_pooling_layer=False)
    specs = {"xnli": xtreme.task("xnli")}

    def heads(global_seed, seed):
        torch.manual_seed(global_seed)
        m = MultiTaskModel(enc, specs, seed=seed)
        after = torch.rand(1)  # the global stream must be untouched by a seeded build
        return [p.detach().clone() for p in m.heads.parameters()], after

    (a, after_a), (b, after_b) = heads(1, seed=3), heads(2, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    for global_seed, after in ((1, after_a), (2, after_b)):
        torch.manual_seed(global_seed)
        assert torch.equal(after, torch.rand(1))
    (c, _), (d, _) = heads(1, seed=None), heads(2, seed=None)
    assert not all(torch.equal(x, y) for x, y in zip(c, d))
    (e, _) = heads(1, seed=4)
    assert not all(torch.equal(x, y) for x, y in zip(a, e))


@pytest.mark.parametrize("task", ["cls", "mc"])
def test_mean_pooling_ignores_padding_and_first_token_pooling_does_not_average(task):
    """`pooling="mean"` scores an example the same however much padding its batch adds.

    The same rows are collated alone and next to a longer row; mean-pooled logits must not
    move, and first-token logits must differ from mean-pooled ones (the switch is live).
    """
    torch.manual_seed(0)
    encoder, tok = tiny_model_factory()
    encoder.eval()
    means = MultiTaskModel(encoder, {task: SPECS[task]}, tokenizer=tok, seed=0, pooling="mean")
    firsts = MultiTaskModel(encoder, {task: SPECS[task]}, tokenizer=tok, seed=0)
    means.eval(), firsts.eval()
    longer = dict(ROWS[task][0], id="9")
    longer.update(
        {"text_a": "the man walks in the park with the dog"}
        if task == "cls"
        else {"context": "the man walks in the park with the dog today"}
    )
    feats = featurize([longer, ROWS[task][1]], SPECS[task], tok, 32, progress=False)
    collate = Collator(tok.pad_token_id)
    alone = collate(feats[1:2])
    padded = collate(feats[:2])  # row 0 is longer: row 1 gains padding
    assert padded["input_ids"].shape[-1] > alone["input_ids"].shape[-1]
    with torch.no_grad():
        a = means(task, alone)[1]["logits"][0]
        b = means(task, padded)[1]["logits"][1]
        f = firsts(task, alone)[1]["logits"][0]
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(a, f)


def test_unknown_pooling_is_refused():
    encoder, tok = tiny_model_factory()
    with pytest.raises(ValueError, match="pooling"):
        MultiTaskModel(encoder, {"cls": SPECS["cls"]}, pooling="max")
