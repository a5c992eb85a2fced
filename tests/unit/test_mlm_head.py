"""MLM co-training starts from the checkpoint's pretrained MLM head where it has one."""

from __future__ import annotations

import pytest
import torch

from xstilts.heads import MultiTaskModel
from xstilts.models import encoder
from xstilts.xtreme import task


def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder.resolve("tiny-random"), local_files_only=True)


def _save_tiny_mlm(kind: str, folder, vocab_size: int):
    """A tiny randomly initialised *ForMaskedLM checkpoint (no hub), head weights non-trivial."""
    from transformers import BertConfig, BertForMaskedLM, XLMRobertaConfig, XLMRobertaForMaskedLM

    common = dict(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(7)
    if kind == "bert":
        model = BertForMaskedLM(BertConfig(**common))
        head = model.cls.predictions
        norm, bias = head.transform.LayerNorm, head.bias
    else:
        model = XLMRobertaForMaskedLM(XLMRobertaConfig(pad_token_id=1, **common))
        head = model.lm_head
        norm, bias = head.layer_norm, head.bias
    with torch.no_grad():  # pretrained heads are not at their init values
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.normal_(0, 0.1)
        bias.normal_(0, 0.5)
    model.save_pretrained(folder)
    return model.eval()


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_pretrained_mlm_head_is_reused_and_tied(kind, tmp_path):
    tok = _tokenizer()
    ref = _save_tiny_mlm(kind, tmp_path, len(tok))
    tok.save_pretrained(tmp_path)
    enc, _, state, source = encoder.load_encoder_for_mlm(str(tmp_path))
    assert source == encoder.MLM_HEAD_PRETRAINED
    model = MultiTaskModel(enc, {"mlm": task("mlm")}, head_states={"mlm": state}, seed=0).eval()
    assert model.pretrained_heads == ["mlm"]
    ids = torch.tensor([[0, 10, 11, 12, 13, 2]])
    labels = torch.full_like(ids, -100)
    labels[0, 2] = 11
    labels[0, 4] = 13
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    _, out = model("mlm", batch)
    with torch.no_grad():
        expected = ref(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[labels != -100]
    torch.testing.assert_close(out["logits"], expected, rtol=1e-4, atol=1e-4)
    # Tied as in the pretrained model: the decoder is the input embedding matrix.
    with torch.no_grad():
        enc.get_input_embeddings().weight[11] += 1.0
    _, moved = model("mlm", batch)
    assert not torch.allclose(moved["logits"], out["logits"])


def test_checkpoint_without_mlm_head_says_random(tmp_path):
    enc, tok, state, source = encoder.load_encoder_for_mlm("tiny-random")
    assert state is None and source == encoder.MLM_HEAD_RANDOM
    model = MultiTaskModel(enc, {"mlm": task("mlm")}, tokenizer=tok, seed=0)
    assert model.pretrained_heads == []
