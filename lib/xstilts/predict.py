"""Predictions of a task head in the form ``xstilts.metrics`` consumes.

``predict`` featurises schema rows exactly as training does (``features.featurize``),
runs the head in length-sorted batches (little padding) and decodes per kind:

| kind | prediction | ``references`` |
|---|---|---|
| classification | label name | label name |
| multiple_choice | choice index (int) | int |
| qa | answer text, ``""`` for no answer | list of gold texts (``[]`` if unanswerable) |
| tagging | list of tags, one per word | list of tags |

QA decoding follows ``utils_qa.postprocess_qa_predictions`` of transformers: over all
doc-stride windows of an example, the best of the ``n_best`` x ``n_best`` (start, end)
pairs inside the context with length <= ``max_answer_len`` tokens; for SQuAD 2.0-style
tasks the empty answer wins when the ``<s>`` score (minimum over windows) beats it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from xstilts.features import (
    TENSOR_COLUMNS,
    Collator,
    featurize,
    join_pieces,
    split_long_sentences,
)
from xstilts.precision import autocast
from xstilts.xtreme import TaskSpec

_LABEL_KEYS = ("labels", "start_positions", "end_positions")


def _run_head(
    model, head, feats, pad_id, batch_size, precision="fp32"
) -> list[dict[str, np.ndarray]]:
    """Return per-feature head outputs (numpy, padded to the batch's length)."""
    lengths = np.asarray(feats["length"])
    order = np.argsort(-lengths, kind="stable")
    cols = [c for c in TENSOR_COLUMNS if c in feats.column_names and c not in _LABEL_KEYS]
    tensors = feats.select_columns(cols)
    collate = Collator(pad_id)
    device = next(model.parameters()).device
    results: list[dict | None] = [None] * len(feats)
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast(precision, device):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size].tolist()
            batch = {k: v.to(device) for k, v in collate(tensors[idx]).items()}
            _, out = model(head, batch)
            out = {k: v.float().cpu().numpy() for k, v in out.items()}
            for row, i in enumerate(idx):
                results[i] = {k: v[row] for k, v in out.items()}
    model.train(was_training)
    return results


def _decode_classification(spec, rows, feats, outs, opts):
    return [spec.labels[int(np.argmax(o["logits"]))] for o in outs]


def _decode_multiple_choice(spec, rows, feats, outs, opts):
    return [int(np.argmax(o["logits"])) for o in outs]


def _best_span(start, end, offsets, n_best, max_len):
    """Best (score, char_start, char_end) of one window, or None."""
    best = None
    starts = np.argsort(start)[::-1][:n_best]
    ends = np.argsort(end)[::-1][:n_best]
    for i in starts:
        if i >= len(offsets) or offsets[i] is None:
            continue
        for j in ends:
            if j >= len(offsets) or offsets[j] is None or j < i or j - i + 1 > max_len:
                continue
            score = float(start[i] + end[j])
            if best is None or score > best[0]:
                best = (score, offsets[i][0], offsets[j][1])
    return best


def _decode_qa(spec, rows, feats, outs, opts):
    by_example = defaultdict(list)
    for i, ex_id in enumerate(feats["example_id"]):
        by_example[ex_id].append(i)
    offsets_all = feats["offset_mapping"]
    preds = []
    for row in rows:
        best, null = None, None
        for i in by_example[row["id"]]:
            n = len(outs[i]["start_logits"])
            s, e = outs[i]["start_logits"][:n], outs[i]["end_logits"][:n]
            window_null = float(s[0] + e[0])
            null = window_null if null is None else min(null, window_null)
            cand = _best_span(s, e, offsets_all[i], opts["n_best"], opts["max_answer_len"])
            if cand is not None and (best is None or cand[0] > best[0]):
                best = cand
        if best is None or (opts["allow_null"] and null is not None and null > best[0]):
            preds.append("")
        else:
            preds.append(row["context"][best[1] : best[2]])
    return preds


def _decode_tagging(spec, rows, feats, outs, opts):
    filler = "O" if "O" in spec.labels else spec.labels[0]
    preds = []
    for row, word_ids, out in zip(rows, feats["word_ids"], outs):
        tags = [filler] * len(row["tokens"])  # words cut off by max_seq_len
        tok_pred = np.argmax(out["logits"][: len(word_ids)], axis=-1)
        prev = -1
        for k, w in enumerate(word_ids):
            if w != -1 and w != prev:
                tags[w] = spec.labels[int(tok_pred[k])]
            prev = w
        preds.append(tags)
    return preds


DECODERS = {
    "classification": _decode_classification,
    "multiple_choice": _decode_multiple_choice,
    "qa": _decode_qa,
    "tagging": _decode_tagging,
}

REFERENCES = {
    "classification": lambda r: r["label"],
    "multiple_choice": lambda r: int(r["label"]),
    "qa": lambda r: list(r["answers"]["text"]),
    "tagging": lambda r: list(r["tags"]),
}


def predict(
    model,
    task_spec: TaskSpec,
    rows: list[dict],
    tokenizer,
    batch_size: int = 32,
    max_seq_len: int | None = None,
    head: str | None = None,
    doc_stride: int | None = None,
    max_answer_len: int = 30,
    n_best: int = 20,
    allow_null: bool | None = None,
    precision: str = "fp32",
) -> list:
    """Predict ``rows`` with the head of ``task_spec`` (see the module table for forms).

    Args:
        model: A ``MultiTaskModel``.
        task_spec: Spec of the evaluated task (kind, labels, metric).
        rows: Schema rows (docs/ARCHITECTURE.md).
        tokenizer: The encoder's fast tokenizer.
        batch_size: Examples per inference batch.
        max_seq_len: Tokens per sequence (default ``task_spec.max_seq_len``).
        head: Head to use (default ``task_spec.name``; e.g. ``"mnli"`` for XNLI).
        doc_stride: Overlap of QA windows (default as in ``featurize``).
        max_answer_len: Longest QA answer in tokens.
        n_best: Start/end candidates per QA window.
        allow_null: Whether QA may answer "" (default: ``task_spec.metric == "squad_v2"``).
        precision: ``fp32`` or ``bf16`` (autocast; outputs are returned as fp32).

    Returns:
        One prediction per row, in row order.
    """
    rows = list(rows)
    if not rows:
        return []
    n_rows, owners = len(rows), None
    if task_spec.kind == "tagging":  # long sentences are scored in pieces (XTREME)
        rows, owners = split_long_sentences(rows, tokenizer, max_seq_len or task_spec.max_seq_len)
    feats = featurize(
        rows, task_spec, tokenizer, max_seq_len, doc_stride=doc_stride, progress=False
    )
    pad_id = tokenizer.pad_token_id
    outs = _run_head(model, head or task_spec.name, feats, pad_id, batch_size, precision)
    opts = {
        "n_best": n_best,
        "max_answer_len": max_answer_len,
        "allow_null": task_spec.metric == "squad_v2" if allow_null is None else allow_null,
    }
    preds = DECODERS[task_spec.kind](task_spec, rows, feats, outs, opts)
    return join_pieces(preds, owners, n_rows) if owners is not None else preds


def references(task_spec: TaskSpec, rows: list[dict]) -> list:
    """Return the gold answers of ``rows`` in the form matching ``predict``."""
    ref = REFERENCES[task_spec.kind]
    return [ref(r) for r in rows]
