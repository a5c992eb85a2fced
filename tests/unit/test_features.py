import numpy as np
import pytest
import torch

from xstilts.bench_training import tiny_tokenizer
from xstilts.features import (
    IGNORE_INDEX,
    Collator,
    LengthGroupedSampler,
    featurize,
    mask_tokens,
    with_labels,
)
from xstilts.xtreme import NLI_LABELS, TaskSpec

QA = TaskSpec("qa", "qa", "intermediate", "squad_v2")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _span_text(tok, feat, ctx):
    s, e = feat["start_positions"], feat["end_positions"]
    offs = feat["offset_mapping"]
    return ctx[offs[s][0] : offs[e][1]]


def test_qa_answer_span_maps_to_tokens(tok):
    ctx = "the man walks in the park with the dog ."
    row = {
        "id": "q1",
        "lang": "en",
        "context": ctx,
        "question": "where does the man walk ?",
        "answers": {"text": ["the park"], "answer_start": [17]},
    }
    feats = featurize([row], QA, tok, 64, progress=False)
    assert len(feats) == 1
    f = feats[0]
    assert f["example_id"] == "q1"
    assert _span_text(tok, f, ctx) == "the park"
    toks = tok.convert_ids_to_tokens(f["input_ids"][f["start_positions"] : f["end_positions"] + 1])
    assert toks == ["the", "park"]
    # Question tokens carry no offsets (decoding can only pick context tokens).
    assert f["offset_mapping"][1] is None


def test_qa_doc_stride_windows(tok):
    words = ("the man walks in the park " * 6).split() + ["with", "the", "dog", "."]
    ctx = " ".join(words)
    start = ctx.index("with the dog")
    row = {
        "id": "q2",
        "lang": "en",
        "context": ctx,
        "question": "with whom ?",
        "answers": {"text": ["the dog"], "answer_start": [start + 5]},
    }
    feats = featurize([row], QA, tok, 24, doc_stride=6, progress=False)
    assert len(feats) > 2
    assert set(feats["example_id"]) == {"q2"}
    hits = [f for f in feats if f["start_positions"] != 0]
    misses = [f for f in feats if f["start_positions"] == 0]
    assert hits and misses
    for f in hits:
        assert _span_text(tok, f, ctx) == "the dog"
    for f in misses:
        assert f["end_positions"] == 0
    # Windows overlap by the stride: consecutive windows share context offsets.
    ctx_offsets = [[o for o in f["offset_mapping"] if o is not None] for f in feats]
    assert ctx_offsets[1][0][0] < ctx_offsets[0][-1][1]


def test_qa_impossible_points_at_cls(tok):
    row = {
        "id": "q3",
        "lang": "en",
        "context": "the dog sleeps .",
        "question": "who ?",
        "answers": {"text": [], "answer_start": []},
    }
    f = featurize([row], QA, tok, 32, progress=False)[0]
    assert (f["start_positions"], f["end_positions"]) == (0, 0)


def test_tagging_first_subtoken_alignment(tok):
    spec = TaskSpec("pos", "tagging", "target", "f1", labels=("D", "N", "V"))
    row = {"id": "t", "lang": "en", "tokens": ["the", "players", "walked"], "tags": ["D", "N", "V"]}
    f = featurize([row], spec, tok, 32, progress=False)[0]
    pieces = tok.convert_ids_to_tokens(f["input_ids"])
    assert pieces == ["<s>", "the", "player", "##s", "<unk>", "</s>"] or pieces[:4] == [
        "<s>",
        "the",
        "player",
        "##s",
    ]
    assert f["word_ids"][:4] == [-1, 0, 1, 1]
    assert f["labels"][:4] == [IGNORE_INDEX, 0, 1, IGNORE_INDEX]
    assert f["labels"][-1] == IGNORE_INDEX


def test_tagging_labels_from_rows():
    spec = TaskSpec("ccg", "tagging", "intermediate", "token_accuracy")
    out = with_labels(spec, [{"tokens": ["a"], "tags": ["Z"]}, {"tokens": ["b"], "tags": ["A"]}])
    assert out.labels == ("A", "Z")


def test_classification_and_multiple_choice(tok):
    spec = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
    rows = [
        {
            "id": "0",
            "lang": "en",
            "text_a": "the man",
            "text_b": "a dog runs",
            "label": "contradiction",
        }
    ]
    f = featurize(rows, spec, tok, 32, progress=False)[0]
    assert f["labels"] == 2 and f["length"] == len(f["input_ids"])
    assert tok.convert_ids_to_tokens(f["input_ids"])[:4] == ["<s>", "the", "man", "</s>"]
    mc = TaskSpec("mc", "multiple_choice", "intermediate", "accuracy", num_choices=3)
    rows = [
        {
            "id": "0",
            "lang": "en",
            "context": "the man",
            "question": "he",
            "choices": ["runs", "sits down", "eats"],
            "label": 1,
        }
    ]
    feats = featurize(rows, mc, tok, 32, progress=False)
    b = Collator(tok.pad_token_id)(feats[:])
    assert b["input_ids"].shape[:2] == (1, 3) and b["labels"].tolist() == [1]
    assert (b["attention_mask"].sum(-1) > 0).all()


def test_mlm_masking_is_seeded_and_80_10_10(tok):
    spec = TaskSpec("mlm", "mlm", "auxiliary", "perplexity")
    rows = [
        {"id": str(i), "lang": "en", "text": "the man walks in the park with the dog ."}
        for i in range(4)
    ]
    a = featurize(rows, spec, tok, 32, seed=3, progress=False)
    b = featurize(rows, spec, tok, 32, seed=3, progress=False)
    c = featurize(rows, spec, tok, 32, seed=4, progress=False)
    assert a["input_ids"][:] == b["input_ids"][:] and a["labels"][:] == b["labels"][:]
    assert a["labels"][:] != c["labels"][:]
    for f in a:
        assert f["labels"][0] == IGNORE_INDEX and f["labels"][-1] == IGNORE_INDEX  # specials
        assert any(x != IGNORE_INDEX for x in f["labels"])
    rng = np.random.default_rng(0)
    ids = list(range(10, 110)) * 200
    new, labels = mask_tokens(ids, [False] * len(ids), 120, 4, rng)
    chosen = np.array(labels) != IGNORE_INDEX
    assert abs(chosen.mean() - 0.15) < 0.01
    new = np.array(new)
    masked = (new == 4) & chosen
    kept = (new == np.array(ids)) & chosen
    assert abs(masked.sum() / chosen.sum() - 0.8) < 0.03
    assert abs(kept.sum() / chosen.sum() - 0.1) < 0.03


def test_collator_dynamic_padding():
    c = Collator(pad_token_id=1)
    b = c(
        [
            {"input_ids": [0, 5, 2], "attention_mask": [1, 1, 1], "labels": [3, 4, 5]},
            {"input_ids": [0, 2], "attention_mask": [1, 1], "labels": [7, 8], "word_ids": [0, 1]},
        ]
    )
    assert b["input_ids"].tolist() == [[0, 5, 2], [0, 2, 1]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert b["labels"].tolist() == [[3, 4, 5], [7, 8, IGNORE_INDEX]]
    assert set(b) == {"input_ids", "attention_mask", "labels"}
    assert Collator(1, pad_to_multiple_of=8)({"input_ids": [[0, 2]], "attention_mask": [[1, 1]]})[
        "input_ids"
    ].shape == (1, 8)


def test_sampler_state_restores_order():
    lengths = np.random.default_rng(0).integers(3, 100, size=103)
    s = LengthGroupedSampler(lengths, 8, seed=5, mega_batch_mult=4)
    first = [s.next_batch() for _ in range(7)]
    state = s.state_dict()
    rest = [s.next_batch() for _ in range(20)]  # crosses an epoch boundary (14 per epoch)
    s2 = LengthGroupedSampler(lengths, 8, seed=0, mega_batch_mult=4)
    s2.load_state_dict(state)
    assert [s2.next_batch() for _ in range(20)] == rest
    # One epoch covers every example once; epochs differ.
    epoch0 = first + rest[: len(s) - 7]
    assert sorted(i for b in epoch0 for i in b) == list(range(103))
    assert s.batches(0) != s.batches(1)
    # Batches are length-grouped: less padding than random batches.
    pad = sum(max(lengths[b]) * len(b) for b in s.batches(0))
    rnd = np.random.default_rng(1).permutation(103)
    pad_rnd = sum(max(lengths[rnd[i : i + 8]]) * len(rnd[i : i + 8]) for i in range(0, 103, 8))
    assert pad < pad_rnd


def test_featurize_cache_reuses_file(tok, tmp_path):
    spec = TaskSpec("nli", "classification", "intermediate", "accuracy", labels=NLI_LABELS)
    rows = [{"id": "0", "lang": "en", "text_a": "the man", "text_b": "a dog", "label": "neutral"}]
    a = featurize(rows, spec, tok, 32, cache_dir=tmp_path, progress=False)
    files = sorted(tmp_path.glob("*.arrow"))
    assert len(files) == 1
    b = featurize(rows, spec, tok, 32, cache_dir=tmp_path, progress=False)
    assert sorted(tmp_path.glob("*.arrow")) == files and a[:] == b[:]
    featurize(rows, spec, tok, 16, cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.arrow"))) == 2
    assert torch.is_tensor(Collator(1)(b[:])["input_ids"])


# --------------------------------------------------------------------------- protocol (issue 14)


def test_long_tagging_sentences_are_split_into_pieces_that_fit(tok):
    from xstilts.features import join_pieces, split_long_sentences

    words = [f"w{i}" for i in range(40)]
    rows = [{"id": "a", "lang": "en", "tokens": words, "tags": ["O"] * 40},
            {"id": "b", "lang": "en", "tokens": ["short"], "tags": ["O"]}]  # fmt: skip
    pieces, owners = split_long_sentences(rows, tok, 16)
    assert owners[-1] == 1 and owners.count(0) > 1
    assert [w for pc, o in zip(pieces, owners) if o == 0 for w in pc["tokens"]] == words
    budget = 16 - tok.num_special_tokens_to_add()
    for pc in pieces:
        n = len(tok(pc["tokens"], is_split_into_words=True, add_special_tokens=False)["input_ids"])
        assert n <= budget
    assert join_pieces([pc["tokens"] for pc in pieces], owners, 2) == [words, ["short"]]


def test_tagging_prediction_scores_every_word_of_a_long_sentence():
    from xstilts.bench_training import tiny_model_factory
    from xstilts.heads import MultiTaskModel
    from xstilts.predict import predict
    from xstilts.xtreme import PANX_TAGS

    torch.manual_seed(0)
    encoder, tk = tiny_model_factory()
    spec = TaskSpec("panx", "tagging", "target", "seqeval_f1", labels=PANX_TAGS)
    model = MultiTaskModel(encoder, {"panx": spec}, tokenizer=tk)
    head = model.heads["panx"].out
    with torch.no_grad():  # a head that tags every scored word B-PER
        head.weight.zero_()
        head.bias.fill_(-10.0)
        head.bias[PANX_TAGS.index("B-PER")] = 10.0
    words = [f"w{i}" for i in range(60)]
    row = {"id": "x", "lang": "en", "tokens": words, "tags": ["O"] * 60}
    (pred,) = predict(model, spec, [row], tk, max_seq_len=16)
    # Before: words past the 16-token truncation got the default "O".
    assert pred == ["B-PER"] * 60


def test_long_questions_are_cut_to_the_query_budget(tok):
    # XTREME's max_query_length: a question longer than the budget must not leave the
    # context less room than the window stride (the tokenizer refuses that)
    ctx = "Marie lives in Paris and works in Berlin. " * 6
    question = "Where does the woman who lives in Paris and travels a lot work? " * 8
    row = {"id": "q", "lang": "en", "context": ctx, "question": question,
           "answers": {"text": ["Berlin"], "answer_start": [ctx.index("Berlin")]}}  # fmt: skip
    feats = featurize([row], QA, tok, 64, progress=False)  # raised before the cut
    assert len(feats) > 1 and all(len(f["input_ids"]) <= 64 for f in feats)
    found = [_span_text(tok, f, ctx) for f in feats if f["start_positions"] > 0]
    assert found and set(found) == {"Berlin"}
