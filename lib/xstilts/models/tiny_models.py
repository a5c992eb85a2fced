"""Tiny randomly initialised encoders of the three real architectures (the rehearsal).

The ``rehearsal`` profile runs ``full``'s grid with one tiny model per architecture of the
scale axis, so every code path of mBERT, XLM-R base and XLM-R large runs on a CPU:

- ``tiny-mbert``: ``BertModel`` with a cased WordPiece tokenizer (``BertTokenizerFast``), as
  mBERT. The vocabulary is built locally from the mini generator's text in its eight
  languages (``wordpiece_vocab``), so nothing is downloaded.
- ``tiny-xlmr-base`` / ``tiny-xlmr-large``: ``XLMRobertaModel`` with the real XLM-R
  tokenizer (the one the smoke model uses); "large" has twice the layers and width of
  "base", as XLM-R large has relative to base (24 vs 12 layers, 1024 vs 768 wide).

Weights are random (seeded): the numbers mean nothing; the runs test the plumbing. Each
folder is built once into the xstilts model cache, atomically and under a file lock
(``mini_encoder.ensure_built``), never into the repository.
"""

from __future__ import annotations

from pathlib import Path

from xstilts import paths
from xstilts.models import mini_encoder

MAX_POSITIONS = 512  # the reference models' limit, so retrieval embeds at the same length
WORDPIECE_VOCAB = 4000
# name -> (architecture, layers, hidden, heads, feed-forward)
SHAPES: dict[str, tuple[str, int, int, int, int]] = {
    "tiny-mbert": ("bert", 2, 32, 2, 64),
    "tiny-xlmr-base": ("xlm-roberta", 2, 32, 2, 64),
    "tiny-xlmr-large": ("xlm-roberta", 4, 64, 4, 128),
}


def _corpus(n_per_task: int = 200) -> list[str]:
    """Text for the WordPiece vocabulary: generated items of several tasks, all languages."""
    from xstilts.data import lexicon, synthetic

    texts: list[str] = []
    for lang in lexicon.LANGUAGES:
        for task in ("mnli", "squad_v1", "hellaswag", "qqp"):
            for r in synthetic.generate(task, "train", lang, n_per_task, seed=7):
                texts += [v for k, v in r.items() if k in ("text_a", "text_b", "context",
                                                           "question")]  # fmt: skip
                texts += [c for c in r.get("choices", []) if isinstance(c, str)]
    return texts


def wordpiece_vocab(texts: list[str], normalizer, pre, size: int) -> dict[str, int]:
    """A deterministic WordPiece vocabulary of ``size`` entries at most.

    Specials, every character (also as ``##c``), then the most frequent words (ties by
    spelling). ``tokenizers``' WordPiece trainer breaks frequency ties in hash order, so two builds
    differ; this rule gives the same vocabulary, hence the same random model, everywhere.
    Greedy longest-match (WordPiece) then splits unseen words into characters.
    """
    from collections import Counter

    words: Counter = Counter()
    for text in texts:
        words.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    frequent = sorted((w for w in words if len(w) > 1), key=lambda w: (-words[w], w))
    vocab += frequent[: max(0, size - len(vocab))]
    return {w: i for i, w in enumerate(vocab)}


def build_wordpiece_tokenizer(out_dir: Path, vocab_size: int = WORDPIECE_VOCAB):
    """Train a cased WordPiece vocabulary (BERT's pipeline) and save a ``BertTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    # mBERT is cased: no lower-casing, no accent stripping; CJK characters split one by one.
    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    pre = pre_tokenizers.BertPreTokenizer()
    tok = Tokenizer(models.WordPiece(wordpiece_vocab(_corpus(), normalizer, pre, vocab_size),
                                     unk_token="[UNK]"))  # fmt: skip
    tok.normalizer, tok.pre_tokenizer = normalizer, pre
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece()
    fast = BertTokenizerFast(
        tokenizer_object=tok,
        do_lower_case=False,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_POSITIONS,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast


def _config(name: str, vocab_size: int):
    from transformers import BertConfig, XLMRobertaConfig

    arch, layers, hidden, heads, ffn = SHAPES[name]
    common = dict(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        type_vocab_size=2 if arch == "bert" else 1,
    )
    if arch == "bert":
        return BertConfig(max_position_embeddings=MAX_POSITIONS, pad_token_id=0, **common)
    # XLM-R's positions start after the padding index (1): 514 rows for 512 tokens.
    return XLMRobertaConfig(
        max_position_embeddings=MAX_POSITIONS + 2,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        **common,
    )


def build_tiny_model(name: str, out_dir: Path, seed: int = 0) -> Path:
    """Write the tiny random model ``name`` (a key of ``SHAPES``) into ``out_dir`` atomically."""
    import tempfile

    import torch
    from transformers import BertModel, XLMRobertaModel

    arch = SHAPES[name][0]
    info = {
        "name": name,
        "source": {"package": "xstilts", "model": "random initialisation", "seed": seed},
        "licence": "MIT",
        "real": False,
        "num_layers": SHAPES[name][1],
        "architecture": "BertModel" if arch == "bert" else "XLMRobertaModel",
        "note": "random weights in the shape family of the reference model, for the rehearsal",
    }
    if arch == "bert":
        with tempfile.TemporaryDirectory() as tmp:
            vocab = len(build_wordpiece_tokenizer(Path(tmp)))
            torch.manual_seed(seed)
            model = BertModel(_config(name, vocab), add_pooling_layer=False)
            return _write(model, Path(out_dir), info, tokenizer_from=Path(tmp))
    torch.manual_seed(seed)
    model = XLMRobertaModel(_config(name, 250037), add_pooling_layer=False)
    return _write(model, Path(out_dir), info, tokenizer_from=None)


def _write(model, final: Path, info: dict, tokenizer_from: Path | None) -> Path:
    """Save through ``mini_encoder._write_model_folder``; a WordPiece tokenizer is copied in."""
    if tokenizer_from is None:
        return mini_encoder._write_model_folder(model, final, info)
    import shutil

    def save_wordpiece(out_dir: Path) -> None:
        for f in tokenizer_from.iterdir():
            shutil.copy2(f, Path(out_dir) / f.name)

    return mini_encoder._write_model_folder(model, final, info, save_tok=save_wordpiece)


def ensure_tiny_model(name: str) -> Path:
    """Return the cached folder of tiny model ``name``, building it once (locked, atomic)."""
    return mini_encoder.ensure_built(
        paths.models_cache() / name, lambda out: build_tiny_model(name, out)
    )
