"""Retrieval: pooling, exact top-k, Tatoeba direction, BUCC margin mining and thresholds."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from xstilts import retrieval

# --------------------------------------------------------------------------- embeddings


class CharTokenizer:
    """Minimal HF-like tokenizer: one id per character, CLS/SEP added, truncation."""

    cls_token_id, sep_token_id = 2, 3

    def __init__(self, pad_token_id: int = 0):
        self.pad_token_id = pad_token_id

    def __call__(self, texts, truncation=True, max_length=128):
        ids = [[5 + ord(c) % 90 for c in text] for text in texts]
        if truncation:
            ids = [row[: max_length - 2] for row in ids]
        return {"input_ids": [[self.cls_token_id, *row, self.sep_token_id] for row in ids]}


def _bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
    )
    return BertModel(config), CharTokenizer(pad_token_id=0)


def _xlmr():
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        pad_token_id=1,  # XLM-R derives position ids from the pad id
        max_position_embeddings=64,
    )
    return XLMRobertaModel(config), CharTokenizer(pad_token_id=1)


SENTENCES = ["a much longer sentence than the others", "hi", "medium one", "x", "another mid one"]


def test_mean_pool_ignores_padding():
    # row 0: mean of [1, 2] and [3, 4] = [2, 3] (the padded [100, 100] is masked out)
    # row 1: all padding -> zeros, not NaN
    hidden = torch.tensor(
        [[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]], [[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]]
    )
    mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    assert torch.equal(retrieval.mean_pool(hidden, mask), torch.tensor([[2.0, 3.0], [0.0, 0.0]]))


@pytest.mark.parametrize("make", [_bert, _xlmr], ids=["bert", "xlmr"])
def test_embed_sentences_order_and_padding_invariance(make):
    model, tok = make()
    batched = retrieval.embed_sentences(model, tok, SENTENCES, layer=2, batch_size=2)
    assert batched.shape == (5, 16) and batched.dtype == torch.float32
    # Each sentence alone (no padding at all) must give its row of the batched result:
    # this checks both the length-sort order restoration and the padding mask.
    for i, sentence in enumerate(SENTENCES):
        alone = retrieval.embed_sentences(model, tok, [sentence], layer=2)
        torch.testing.assert_close(batched[i], alone[0], atol=1e-5, rtol=0)
    # rows differ from each other, so a permutation would have been caught
    assert not torch.allclose(batched[0], batched[1])
    assert model.training  # the caller's mode is restored


def test_embed_sentences_layer_selection_and_errors():
    model, tok = _bert()
    emb0 = retrieval.embed_sentences(model, tok, ["hi"], layer=0)
    emb2 = retrieval.embed_sentences(model, tok, ["hi"], layer=2)
    assert not torch.allclose(emb0, emb2)
    with pytest.raises(ValueError, match="layer 3"):
        retrieval.embed_sentences(model, tok, ["hi"], layer=3)
    assert retrieval.embed_sentences(model, tok, [], layer=1).shape == (0, 16)


def test_bf16_weights_embed_like_bf16_autocast():
    """A retrieval run casts its encoder to bf16 once (phases.target.setup): the embeddings
    then match bf16 autocast of the fp32 encoder, and the fp32 encoder is left untouched."""
    import copy

    model, tok = _bert()
    texts = ["a short one", "a somewhat longer sentence here", "mid size text"]
    auto = retrieval.embed_sentences_layers(model, tok, texts, [1, 2], precision="bf16")
    cast = copy.deepcopy(model).to(torch.bfloat16)
    once = retrieval.embed_sentences_layers(cast, tok, texts, [1, 2], precision="bf16")
    full = retrieval.embed_sentences_layers(model, tok, texts, [1, 2], precision="fp32")
    for k in (1, 2):
        assert once[k].dtype == torch.float32 and once[k].shape == auto[k].shape
        assert F.cosine_similarity(once[k], auto[k]).min() > 0.999
        assert F.cosine_similarity(once[k], full[k]).min() > 0.99
    assert next(model.parameters()).dtype == torch.float32


def test_embed_sentences_with_a_tokenizers_built_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = "the cat sat on a mat dog ran far away".split()
    vocab = {
        "[PAD]": 0,
        "[UNK]": 1,
        "[CLS]": 2,
        "[SEP]": 3,
        **{w: i + 4 for i, w in enumerate(words)},
    }
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]")
    model, _ = _bert()
    texts = ["the cat sat on a mat", "dog", "a dog ran far away"]
    batched = retrieval.embed_sentences(model, tok, texts, layer=1, batch_size=3)
    alone = torch.cat([retrieval.embed_sentences(model, tok, [t], layer=1) for t in texts])
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)


# --------------------------------------------------------------------------- search


def test_chunked_topk_equals_unchunked():
    gen = torch.Generator().manual_seed(0)
    q, keys = torch.randn(50, 8, generator=gen), torch.randn(70, 8, generator=gen)
    expected = torch.topk(F.normalize(q, dim=1) @ F.normalize(keys, dim=1).T, 5, dim=1)
    # query chunks of 7 and key chunks of 9 (top-k per key chunk, then merged)
    scores, idx = retrieval.chunked_topk(q, keys, k=5, chunk_size=7, key_chunk_size=9)
    torch.testing.assert_close(scores, expected.values)
    assert torch.equal(idx, expected.indices)
    scores, idx = retrieval.chunked_topk(q, keys, k=5, chunk_size=7)  # keys in one block
    assert torch.equal(idx, expected.indices)


def test_chunked_topk_clamps_k_to_keys():
    # 2 keys: k = 4 becomes 2 (XTREME: min(k, y.shape[0])); cosines of (1,0) with
    # (2,0) -> 1 and (0,3) -> 0
    scores, idx = retrieval.chunked_topk(
        torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 3.0], [2.0, 0.0]]), k=4
    )
    assert idx.tolist() == [[1, 0]]
    torch.testing.assert_close(scores, torch.tensor([[1.0, 0.0]]))


# --------------------------------------------------------------------------- Tatoeba

# src = foreign s0..s2, trg = English t0..t2; row i of each is a translation pair.
# cos(t_i, s_j):     s0        s1   s2
#   t0 = (1,0,0)     1         0    0
#   t1 = (0,1,0)     0         1    0
#   t2 = (2,0,1)     2/√5=.894 0    1/√5=.447
TATOEBA_SRC = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
TATOEBA_TRG = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [2.0, 0.0, 1.0]])


def test_tatoeba_english_queries_search_foreign_sentences():
    # XTREME/jiant: each English t_i takes the row argmax: t0->s0, t1->s1, t2->s0 (wrong)
    # -> 2 / 3 = 66.67
    assert retrieval.tatoeba_predict(TATOEBA_SRC, TATOEBA_TRG).tolist() == [0, 1, 0]
    assert retrieval.tatoeba_accuracy(TATOEBA_SRC, TATOEBA_TRG) == pytest.approx(200 / 3)


def test_tatoeba_reverse_direction_differs():
    # column argmax: s0->t0 (1 > .894), s1->t1, s2->t2 (.447 > 0) -> 100
    assert retrieval.tatoeba_accuracy(TATOEBA_SRC, TATOEBA_TRG, query_side="src") == 100.0


def test_tatoeba_rejects_unaligned():
    with pytest.raises(ValueError, match="aligned"):
        retrieval.tatoeba_accuracy(TATOEBA_SRC, TATOEBA_TRG[:2])


# --------------------------------------------------------------------------- BUCC

# x0 = (1,0), x1 = (0,1); y0 = (1,0), y1 = (0.6,0.8)
# cos: x0.y0 = 1, x0.y1 = 0.6, x1.y0 = 0, x1.y1 = 0.8
# k = 4 is clamped to 2, so each neighbourhood mean is over both candidates:
#   fwd mean x0 = (1 + 0.6)/2 = 0.8, x1 = (0 + 0.8)/2 = 0.4
#   bwd mean y0 = (1 + 0)/2 = 0.5,   y1 = (0.6 + 0.8)/2 = 0.7
# ratio margin = cos / ((fwd + bwd)/2):
#   (x0,y0) = 1 / 0.65 = 20/13 = 1.5385   (x0,y1) = 0.6 / 0.75 = 0.8
#   (x1,y0) = 0 / 0.45 = 0                (x1,y1) = 0.8 / 0.55 = 16/11 = 1.4545
# fwd best: x0->y0, x1->y1; bwd best: y0->x0, y1->x1 (1.4545 > 0.8)
BUCC_X = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
BUCC_Y = torch.tensor([[1.0, 0.0], [0.6, 0.8]])


def test_bucc_mine_ratio_margin():
    got = retrieval.bucc_mine(BUCC_X, BUCC_Y, ["de-0", "de-1"], ["en-0", "en-1"], k=4)
    assert [(s, t) for _, s, t in got] == [("de-0", "en-0"), ("de-1", "en-1")]
    assert [score for score, _, _ in got] == pytest.approx([20 / 13, 16 / 11], abs=1e-6)


def test_bucc_mine_deduplicates_identical_sentences():
    # "a" occurs twice (de-0, de-2): mined once, so the scores are those above.
    x = torch.cat([BUCC_X, BUCC_X[:1]])
    ids, texts = ["de-0", "de-1", "de-2"], ["a", "b", "a"]
    kw = {"src_texts": texts, "trg_texts": ["A", "B"]}
    expanded = retrieval.bucc_mine(x, BUCC_Y, ids, ["en-0", "en-1"], **kw)
    # jiant: the duplicated sentence stands for both of its ids
    assert [(s, t) for _, s, t in expanded] == [
        ("de-0", "en-0"),
        ("de-2", "en-0"),
        ("de-1", "en-1"),
    ]
    assert expanded[1][0] == pytest.approx(20 / 13, abs=1e-6)
    # XTREME read_sent2id: sentences with several ids are dropped
    dropped = retrieval.bucc_mine(x, BUCC_Y, ids, ["en-0", "en-1"], duplicates="drop", **kw)
    assert [(s, t) for _, s, t in dropped] == [("de-1", "en-1")]


# dev candidates, best first; gold has 4 pairs, (f, F) is never proposed.
DEV = [(0.9, "a", "A"), (0.8, "b", "B"), (0.7, "c", "X"), (0.6, "d", "D"), (0.5, "e", "Y")]
DEV_GOLD = {("a", "A"), ("b", "B"), ("d", "D"), ("f", "F")}


def test_bucc_optimize_threshold_by_hand():
    # extract top n:  n=1 P 1,   R 1/4 -> F1 .4    thr (.9+.8)/2
    #                 n=2 P 1,   R 2/4 -> F1 .667  thr (.8+.7)/2
    #                 n=3 P 2/3, R 2/4 -> F1 4/7 = .571
    #                 n=4 P 3/4, R 3/4 -> F1 .75   thr (.6+.5)/2 = .55  <- best
    #                 n=5 P 3/5, R 3/4 -> F1 .667
    got = retrieval.bucc_optimize(DEV, DEV_GOLD)
    assert got == pytest.approx({"threshold": 0.55, "precision": 75.0, "recall": 75.0, "f1": 75.0})


def test_bucc_threshold_applied_to_test():
    # >= 0.55 extracts p, q, r: 2 correct of 3; 2 of 3 gold found -> P = R = F1 = 66.67
    test = [(0.95, "p", "P"), (0.6, "q", "Q"), (0.56, "r", "Z"), (0.5, "s", "S")]
    gold = {("p", "P"), ("q", "Q"), ("s", "S")}
    got = retrieval.bucc_f1_at(test, gold, threshold=0.55)
    assert got == pytest.approx({"precision": 200 / 3, "recall": 200 / 3, "f1": 200 / 3})
    # the comparison is >=: threshold 0.5 also extracts s -> P 3/4, R 1, F1 = 1.5/1.75
    assert retrieval.bucc_f1_at(test, gold, threshold=0.5)["f1"] == pytest.approx(600 / 7)


def test_bucc_optimize_best_at_last_candidate():
    # Both candidates are right: F1 peaks at the last one, where XTREME would index past
    # the end; we use its score (0.8) as the threshold, which extracts the same pairs.
    got = retrieval.bucc_optimize([(0.9, "a", "A"), (0.8, "b", "B")], {("a", "A"), ("b", "B")})
    assert got == pytest.approx(
        {"threshold": 0.8, "precision": 100.0, "recall": 100.0, "f1": 100.0}
    )


def test_bucc_optimize_no_correct_candidate():
    got = retrieval.bucc_optimize([(0.9, "a", "B")], {("a", "A")})
    assert got == {"threshold": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_bucc_end_to_end_on_mined_candidates():
    cands = retrieval.bucc_mine(BUCC_X, BUCC_Y, ["de-0", "de-1"], ["en-0", "en-1"])
    # only (de-0, en-0) is gold: best to stop after the first candidate, threshold
    # between 20/13 and 16/11
    got = retrieval.bucc_optimize(cands, {("de-0", "en-0")})
    assert got["f1"] == 100.0
    assert got["threshold"] == pytest.approx((20 / 13 + 16 / 11) / 2, abs=1e-6)


# --------------------------------------------------------------------------- benchmark


def test_benchmark_reports_both_methods():
    out = retrieval.benchmark(n=300, d=16, k=4, chunk_size=64)
    assert out["agree"] == 1.0
    assert out["ratio"] > 0 and math.isfinite(out["chunked_sentences_per_s"])


# --------------------------------------------------------------------------- protocol (issue 14)


def test_model_max_length_is_the_position_table_minus_the_roberta_offset():
    from transformers import BertConfig, XLMRobertaConfig

    class M:
        def __init__(self, config):
            self.config = config

    # XLM-R: 514 positions, position ids start at pad_token_id + 1 = 2 -> 512 tokens.
    xlmr = XLMRobertaConfig(max_position_embeddings=514, pad_token_id=1)
    assert retrieval.model_max_length(M(xlmr)) == 512
    assert retrieval.model_max_length(M(BertConfig(max_position_embeddings=512))) == 512
    model, tok = _xlmr()  # 64 positions, pad 1 -> 62 usable
    assert retrieval.model_max_length(model) == 62
    long = ["x" * 200]
    emb = retrieval.embed_sentences(model, tok, long, 1, max_length=62)  # no index error
    assert emb.shape == (1, 16)


@pytest.mark.parametrize(
    ("name", "layers", "index"),
    [
        ("bert-base-multilingual-cased", 12, 8),
        ("xlm-roberta-base", 12, 8),
        ("/cache/models/xlm-roberta-large", 24, 14),
        ("some-12-layer-model", 12, 8),
        (None, 24, 14),
        (None, 3, 2),
    ],
)
def test_retrieval_layer_from_the_reference_table(name, layers, index):
    from xstilts import xtreme

    assert xtreme.retrieval_layer(layers, name) == index


def test_hidden_states_index_k_is_the_output_of_block_k():
    # The convention behind "block 8 of 12 = hidden_states[8]": index 0 is the embeddings.
    model, _ = _bert()
    seen = []
    model.encoder.layer[0].register_forward_hook(lambda m, i, o: seen.append(o[0]))
    ids = torch.tensor([[2, 10, 11, 3]])
    with torch.no_grad():
        states = model(input_ids=ids, output_hidden_states=True).hidden_states
    assert len(states) == 3
    assert torch.allclose(states[1], seen[0])
