"""Featurisation of schema rows per task kind, batching and the data-order sampler.

- ``featurize(rows, spec, tokenizer, ...)`` turns normalised rows (docs/ARCHITECTURE.md)
  into a ``datasets.Dataset`` of token ids through the ``FEATURIZERS`` dispatch table.
  With ``cache_dir`` the result is written to an Arrow file named by a content hash of
  rows, tokenizer and settings, so a second call loads it instead of tokenising again.
- ``Collator`` pads each batch to its own longest sequence (dynamic padding).
- ``LengthGroupedSampler`` groups examples of similar length into batches (less
  padding, fewer wasted FLOPs) and has an exact, JSON-serialisable state so that a
  resumed run sees the same data order as an uninterrupted one.

QA featurisation follows ``run_qa.py`` of transformers: question first, context
second, ``truncation="only_second"`` with overlapping windows (``doc_stride``); an answer
not fully inside a window, or no answer (SQuAD 2.0), points at token 0 (``<s>``).
Tagging puts each word's label on its first sub-token (paper A.1, as for CCG/POS/NER).
MLM masking is static (drawn once at featurisation from ``seed``), 15% of non-special
tokens with BERT's 80/10/10 mask/random/keep split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import datasets.utils as dsets_tqdm
import numpy as np
import torch
from datasets import Dataset

from xstilts.xtreme import TaskSpec

IGNORE_INDEX = -100
# Columns the collator turns into tensors; every other column (ids, offsets) is metadata.
TENSOR_COLUMNS = (
    "input_ids",
    "attention_mask",
    "token_type_ids",
    "labels",
    "start_positions",
    "end_positions",
)
_PAD_VALUES = {"attention_mask": 0, "token_type_ids": 0, "labels": IGNORE_INDEX}


def with_labels(spec: TaskSpec, rows: Sequence[Mapping]) -> TaskSpec:
    """Return ``spec`` with ``labels`` filled from ``rows`` when the spec has none.

    Tasks such as CCG have an open tag set (``labels=None`` in the registry): the
    sorted set of tags of the training rows becomes the label list.
    """
    if spec.labels or spec.kind not in ("classification", "tagging"):
        return spec
    if spec.kind == "tagging":
        found = {t for r in rows for t in r["tags"]}
    else:
        found = {r["label"] for r in rows}
    return dataclasses.replace(spec, labels=tuple(sorted(found)))


# --------------------------------------------------------------------------- per kind


def _classification(batch, idx, tok, spec, max_len, opts):
    enc = tok(batch["text_a"], batch["text_b"], truncation=True, max_length=max_len)
    label_id = {name: i for i, name in enumerate(spec.labels)}
    enc = dict(enc)
    enc["labels"] = [label_id[x] for x in batch["label"]]
    enc["length"] = [len(x) for x in enc["input_ids"]]
    return enc


def _multiple_choice(batch, idx, tok, spec, max_len, opts):
    firsts, seconds, sizes = [], [], []
    for ctx, q, choices in zip(batch["context"], batch["question"], batch["choices"]):
        prompt = f"{ctx} {q}".strip() if q else ctx
        firsts += [prompt] * len(choices)
        seconds += list(choices)
        sizes.append(len(choices))
    # Truncate the context side first (the choice is the short, informative part).
    enc = tok(firsts, seconds, truncation="longest_first", max_length=max_len)
    out = {k: [] for k in enc}
    start = 0
    for n in sizes:
        for k in enc:
            out[k].append(enc[k][start : start + n])
        start += n
    out["labels"] = [int(x) for x in batch["label"]]
    out["length"] = [max(len(c) for c in ids) for ids in out["input_ids"]]
    return out


def _char_span_to_tokens(offsets, seq_ids, start_char, end_char):
    """Return (start, end) token indices of a char span inside one window, or (0, 0)."""
    ctx = [i for i, s in enumerate(seq_ids) if s == 1]
    first, last = ctx[0], ctx[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0  # answer not (fully) inside this window
    s = first
    while s <= last and offsets[s][0] <= start_char:
        s += 1
    e = last
    while e >= first and offsets[e][1] >= end_char:
        e -= 1
    return s - 1, e + 1


MAX_QUERY_LENGTH = 64  # XTREME's run_squad.py --max_query_length


def _truncate_questions(tok, questions: list[str], max_len: int) -> list[str]:
    """Cut questions to ``min(64, max_len // 2)`` tokens, as XTREME's ``max_query_length``.

    Without it a long question (or a small vocabulary that splits it into characters)
    leaves the context less room than the window stride, and the tokenizer refuses.
    """
    limit = min(MAX_QUERY_LENGTH, max_len // 2)
    enc = tok(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [
        q if len(offs) <= limit else q[: offs[limit - 1][1]]
        for q, offs in zip(questions, enc["offset_mapping"])
    ]


def _qa(batch, idx, tok, spec, max_len, opts):
    questions = _truncate_questions(tok, [q.lstrip() for q in batch["question"]], max_len)
    enc = tok(
        questions,
        batch["context"],
        truncation="only_second",
        max_length=max_len,
        stride=opts["doc_stride"] or min(128, max_len // 3),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    sample_map = enc.pop("overflow_to_sample_mapping")
    offsets_all = enc.pop("offset_mapping")
    out = {k: list(v) for k, v in enc.items()}
    out.update(start_positions=[], end_positions=[], example_id=[], offset_mapping=[])
    for i, offsets in enumerate(offsets_all):
        row = sample_map[i]
        seq_ids = enc.sequence_ids(i)
        answers = batch["answers"][row]
        if answers["text"]:
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            s, e = _char_span_to_tokens(offsets, seq_ids, start_char, end_char)
        else:
            s, e = 0, 0  # SQuAD 2.0 "no answer" -> <s>
        out["start_positions"].append(s)
        out["end_positions"].append(e)
        out["example_id"].append(batch["id"][row])
        # Keep offsets only for context tokens: decoding may pick only those.
        out["offset_mapping"].append(
            [list(o) if seq_ids[k] == 1 else None for k, o in enumerate(offsets)]
        )
    out["length"] = [len(x) for x in out["input_ids"]]
    return out


def _tagging(batch, idx, tok, spec, max_len, opts):
    enc = tok(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_len)
    label_id = {name: i for i, name in enumerate(spec.labels)}
    out = {k: list(v) for k, v in enc.items()}
    out["labels"], out["word_ids"] = [], []
    for i, tags in enumerate(batch["tags"]):
        word_ids = enc.word_ids(i)
        labels, prev = [], None
        for w in word_ids:
            # Only the first sub-token of a word is scored (paper A.1, jiant/XTREME).
            labels.append(label_id[tags[w]] if w is not None and w != prev else IGNORE_INDEX)
            prev = w
        out["labels"].append(labels)
        out["word_ids"].append([-1 if w is None else w for w in word_ids])
    out["length"] = [len(x) for x in out["input_ids"]]
    return out


def split_long_sentences(
    rows: Sequence[Mapping], tokenizer, max_len: int
) -> tuple[list[dict], list[int]]:
    """Split tagging rows whose sub-tokens exceed ``max_len`` into consecutive pieces.

    XTREME's ``utils_preprocess.py`` does this before tagging evaluation: words are added
    to a piece while its sub-token count stays within ``max_len`` minus the special tokens;
    the next word starts a new piece. Every word is then scored, instead of the words past
    the truncation point getting a default tag. A single word longer than the budget forms
    a piece of its own (its first sub-token, the one scored, survives truncation).

    Args:
        rows: Tagging rows (``tokens``, ``tags``).
        tokenizer: The fast tokenizer ``featurize`` uses.
        max_len: Maximum sequence length, special tokens included.

    Returns:
        ``(pieces, owners)``: rows of at most ``max_len`` tokens each, and for each piece
        the index of the row it came from (pieces of one row are consecutive, in order).

    """
    budget = max(1, max_len - tokenizer.num_special_tokens_to_add())
    pieces, owners = [], []
    for i, row in enumerate(rows):
        words = list(row["tokens"])
        if not words:
            pieces.append(dict(row))
            owners.append(i)
            continue
        enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        counts = [0] * len(words)
        for w in enc.word_ids():
            if w is not None:
                counts[w] += 1
        start, used = 0, 0
        for k, c in enumerate(counts + [None]):
            if c is None or (used + c > budget and k > start):
                tags = list(row["tags"][start:k]) if "tags" in row else None
                piece = {**row, "tokens": words[start:k]}
                if tags is not None:
                    piece["tags"] = tags
                pieces.append(piece)
                owners.append(i)
                start, used = k, 0
            if c is not None:
                used += c
    return pieces, owners


def join_pieces(piece_preds: Sequence[list], owners: Sequence[int], n_rows: int) -> list[list]:
    """Concatenate per-piece tag predictions back into one list per original row."""
    out: list[list] = [[] for _ in range(n_rows)]
    for preds, owner in zip(piece_preds, owners):
        out[owner].extend(preds)
    return out


def mask_tokens(ids, special, vocab_size, mask_id, rng, prob=0.15):
    """Apply BERT masking to one sequence.

    At least one non-special token is always selected, so no sequence contributes an
    empty MLM target (a deviation that matters only for very short lines).

    Args:
        ids: Token ids.
        special: Boolean list, True at special tokens (never masked).
        vocab_size: Size of the vocabulary (random replacements are drawn from it).
        mask_id: Id of ``<mask>``.
        rng: ``numpy.random.Generator``.
        prob: Selection probability.

    Returns:
        ``(input_ids, labels)`` with -100 at unselected positions.
    """
    ids = np.asarray(ids)
    candidates = ~np.asarray(special, dtype=bool)
    chosen = (rng.random(len(ids)) < prob) & candidates
    if not chosen.any() and candidates.any():
        chosen[rng.choice(np.flatnonzero(candidates))] = True
    labels = np.where(chosen, ids, IGNORE_INDEX)
    action = rng.random(len(ids))
    new = ids.copy()
    new[chosen & (action < 0.8)] = mask_id
    rand = chosen & (action >= 0.8) & (action < 0.9)
    new[rand] = rng.integers(0, vocab_size, size=int(rand.sum()))
    return new.tolist(), labels.tolist()


def _mlm(batch, idx, tok, spec, max_len, opts):
    enc = tok(batch["text"], truncation=True, max_length=max_len, return_special_tokens_mask=True)
    out = {k: list(v) for k, v in enc.items() if k != "special_tokens_mask"}
    seed = opts.get("seed", 0)
    out["input_ids"], out["labels"] = [], []
    for i, ids in enumerate(enc["input_ids"]):
        # One generator per example, keyed by (seed, row index): independent of batching.
        rng = np.random.default_rng([seed, idx[i]])
        new, labels = mask_tokens(
            ids,
            enc["special_tokens_mask"][i],
            len(tok),
            tok.mask_token_id,
            rng,
            opts.get("mlm_probability", 0.15),
        )
        out["input_ids"].append(new)
        out["labels"].append(labels)
    out["length"] = [len(x) for x in out["input_ids"]]
    return out


# kind -> fn(batch columns, row indices, tokenizer, spec, max_len, options) -> columns
FEATURIZERS = {
    "classification": _classification,
    "multiple_choice": _multiple_choice,
    "qa": _qa,
    "tagging": _tagging,
    "mlm": _mlm,
}


def _fingerprint(rows: Dataset, spec, tokenizer, max_len, opts) -> str:
    # Content hash: the same rows, tokenizer and settings always map to the same file.
    h = hashlib.sha256()
    h.update(rows._fingerprint.encode())
    h.update(json.dumps(tokenizer.backend_tokenizer.to_str(), sort_keys=True).encode())
    h.update(repr((dataclasses.astuple(spec), max_len, sorted(opts.items()))).encode())
    return h.hexdigest()[:24]


def _memory_fingerprint(rows: Dataset, spec, tokenizer, max_len, opts) -> str:
    # Identity, not content, of the tokenizer: an in-memory map is never cached to disk.
    key = (rows._fingerprint, dataclasses.astuple(spec), max_len, sorted(opts.items()))
    key += (tokenizer.name_or_path, len(tokenizer), type(tokenizer).__name__)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:24]


def _as_dataset(rows) -> Dataset:
    if isinstance(rows, Dataset):
        return rows
    rows = list(rows)
    ds = Dataset.from_list(rows)
    # from_list gives a random fingerprint; derive one from the content instead.
    digest = hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:24]
    ds._fingerprint = digest
    return ds


def featurize(
    rows,
    spec: TaskSpec,
    tokenizer,
    max_seq_len: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    doc_stride: int | None = None,
    seed: int = 0,
    mlm_probability: float = 0.15,
    progress: bool = True,
) -> Dataset:
    """Tokenise schema rows for ``spec.kind``.

    Args:
        rows: List of schema rows or a ``datasets.Dataset`` of them.
        spec: Task spec (kind, labels; ``max_seq_len`` when not given).
        tokenizer: A Hugging Face fast tokenizer.
        max_seq_len: Maximum tokens per sequence (default ``spec.max_seq_len``).
        cache_dir: Folder for the tokenised Arrow file; ``None`` keeps it in memory.
        doc_stride: Token overlap between QA windows (default ``min(128, max_len // 3)``,
            i.e. XTREME's 128 at 384 tokens).
        seed: Seed of the MLM masking.
        mlm_probability: Fraction of tokens selected for MLM.
        progress: Show the ``datasets`` progress bar.

    Returns:
        A ``Dataset`` with ``input_ids``, ``attention_mask``, label columns, ``length``
        and per-kind metadata (QA: ``example_id``, ``offset_mapping``; tagging:
        ``word_ids``). QA rows may yield several features (one per window).
    """
    max_len = max_seq_len or spec.max_seq_len
    opts = {"doc_stride": doc_stride, "seed": seed, "mlm_probability": mlm_probability}
    ds = _as_dataset(rows)
    kwargs = {}
    if cache_dir is not None:
        fp = _fingerprint(ds, spec, tokenizer, max_len, opts)
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        kwargs = {
            "cache_file_name": str(Path(cache_dir) / f"{spec.name}-{fp}.arrow"),
            "load_from_cache_file": True,
            "new_fingerprint": fp,
        }
    else:
        # Without a fingerprint, datasets hashes the mapped function with dill, tokenizer
        # included: ~0.06 s a call, a third of a tiny rehearsal run. Nothing in memory is
        # looked up by it, so a cheap digest of the inputs' identity does.
        kwargs = {
            "keep_in_memory": True,
            "new_fingerprint": _memory_fingerprint(ds, spec, tokenizer, max_len, opts),
        }
    fn = FEATURIZERS[spec.kind]
    was_enabled = not dsets_tqdm.are_progress_bars_disabled()
    if not progress:
        dsets_tqdm.disable_progress_bars()
    try:
        return ds.map(
            lambda batch, idx: fn(batch, idx, tokenizer, spec, max_len, opts),
            batched=True,
            with_indices=True,
            remove_columns=ds.column_names,
            desc=f"featurize {spec.name}",
            **kwargs,
        )
    finally:
        if was_enabled:
            dsets_tqdm.enable_progress_bars()


# --------------------------------------------------------------------------- batching


def _pad_2d(seqs, value, multiple):
    width = max(len(s) for s in seqs)
    if multiple:
        width = -(-width // multiple) * multiple
    out = torch.full((len(seqs), width), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


class Collator:
    """Pad a batch to its longest sequence and build tensors.

    Accepts a list of feature dicts (HF convention) or the column dict that
    ``Dataset.__getitem__(list_of_indices)`` returns. Multiple-choice inputs
    (``input_ids`` as choices × tokens) become ``(batch, choices, length)`` tensors.

    Args:
        pad_token_id: Id used to pad ``input_ids``.
        pad_to_multiple_of: Round the padded length up (8 suits tensor cores on GPU).
    """

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None):
        self.pad_token_id = pad_token_id
        self.multiple = pad_to_multiple_of

    def __call__(self, features) -> dict[str, torch.Tensor]:
        """Collate ``features`` into a dict of tensors (metadata columns are dropped)."""
        if isinstance(features, Mapping):
            columns = features
        else:
            columns = {k: [f[k] for f in features] for k in features[0]}
        batch = {}
        for key in TENSOR_COLUMNS:
            if key not in columns:
                continue
            values = columns[key]
            pad = self.pad_token_id if key == "input_ids" else _PAD_VALUES.get(key, 0)
            first = values[0]
            if not isinstance(first, list):
                batch[key] = torch.as_tensor(values, dtype=torch.long)
            elif first and isinstance(first[0], list):  # multiple choice
                n_choices = len(first)
                flat = _pad_2d([c for v in values for c in v], pad, self.multiple)
                batch[key] = flat.view(len(values), n_choices, -1)
            else:
                batch[key] = _pad_2d(values, pad, self.multiple)
        return batch


class LengthGroupedSampler:
    """Batches of similar-length examples in a seeded, resumable order.

    Each epoch: permute all indices with a generator seeded by ``(seed, epoch)``, cut
    the permutation into mega-batches of ``mega_batch_mult * batch_size``, sort each by
    length (longest first), cut into batches, and shuffle the batches. Randomness stays
    (which examples share a mega-batch, batch order) while padding shrinks to the
    length spread inside a batch. The order of an epoch is a pure function of
    ``(seed, epoch)``, so the state is just ``{seed, epoch, position}``.

    Args:
        lengths: Length of each example (the ``length`` column).
        batch_size: Examples per batch.
        seed: Base seed.
        mega_batch_mult: Mega-batch size in batches (50 as in transformers).
        shuffle: False gives the natural order (evaluation).
        drop_last: Drop a final short batch.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int = 0,
        mega_batch_mult: int = 50,
        shuffle: bool = True,
        drop_last: bool = False,
    ):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.mega = max(1, mega_batch_mult) * batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0
        self.position = 0  # batches of the current epoch already handed out
        self._cache: tuple[int, list[list[int]]] | None = None

    def batches(self, epoch: int) -> list[list[int]]:
        """Return the list of batches (index lists) of ``epoch``."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        n = len(self.lengths)
        if not self.shuffle:
            order = np.arange(n)
            groups = [order]
        else:
            rng = np.random.default_rng([self.seed, epoch])
            order = rng.permutation(n)
            groups = [order[i : i + self.mega] for i in range(0, n, self.mega)]
        batches = []
        for g in groups:
            if self.shuffle:
                # Stable sort keeps ties in permutation order: deterministic.
                g = g[np.argsort(-self.lengths[g], kind="stable")]
            batches += [
                g[i : i + self.batch_size].tolist() for i in range(0, len(g), self.batch_size)
            ]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle:
            perm = rng.permutation(len(batches))
            batches = [batches[i] for i in perm]
        self._cache = (epoch, batches)
        return batches

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.batches(self.epoch))

    def next_batch(self) -> list[int]:
        """Return the next batch, moving to the next epoch when one is used up."""
        batches = self.batches(self.epoch)
        if self.position >= len(batches):
            self.epoch, self.position = self.epoch + 1, 0
            batches = self.batches(self.epoch)
        batch = batches[self.position]
        self.position += 1
        return batch

    def __iter__(self):
        """Yield the remaining batches of the current epoch, then advance the epoch."""
        while self.position < len(self.batches(self.epoch)):
            yield self.next_batch()
        self.epoch, self.position = self.epoch + 1, 0

    def state_dict(self) -> dict:
        """Return the JSON-serialisable position in the data order."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore a position saved by ``state_dict``."""
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._cache = None
