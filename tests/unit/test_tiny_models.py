"""The rehearsal's tiny random encoders: one per real architecture, built offline into the cache."""

import pytest

from xstilts.models import encoder, tiny_models


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path))
    return tmp_path


def test_three_architectures_with_their_tokenizers(cache):
    loaded = {name: encoder.load_encoder(name) for name in tiny_models.SHAPES}
    bert, wordpiece = loaded["tiny-mbert"]
    assert type(bert).__name__ == "BertModel"
    # WordPiece trained locally on the generator's text: cased, continuation pieces "##"
    pieces = wordpiece.tokenize("Laura kocht Essen in Madrid.")
    assert "[UNK]" not in pieces and pieces[0] == "Laura"
    assert any(v.startswith("##") for v in wordpiece.get_vocab())
    for name in ("tiny-xlmr-base", "tiny-xlmr-large"):
        model, tok = loaded[name]
        assert type(model).__name__ == "XLMRobertaModel"
        assert tok.tokenize("Hallo Welt")[0].startswith("▁")  # XLM-R's SentencePiece
    base, large = (loaded[n][0].config for n in ("tiny-xlmr-base", "tiny-xlmr-large"))
    assert large.num_hidden_layers > base.num_hidden_layers
    assert large.hidden_size > base.hidden_size <= 64
    # built once into the xstilts cache, never into the repository
    assert all((cache / "models" / name / "xstilts_model.json").is_file() for name in loaded)
    assert encoder.max_sequence_length("tiny-xlmr-large") == 512
    assert encoder.resolve("tiny-mbert") == cache / "models" / "tiny-mbert"


def test_wordpiece_vocabulary_is_deterministic(tmp_path):
    a = tiny_models.build_wordpiece_tokenizer(tmp_path / "a").get_vocab()
    b = tiny_models.build_wordpiece_tokenizer(tmp_path / "b").get_vocab()
    assert a == b and len(a) > 1000
