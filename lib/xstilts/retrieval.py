"""Sentence retrieval without training data: BUCC 2018 mining and Tatoeba search.

The encoder is used as is, with no target-task fine-tuning (paper §1.9). A sentence
embedding is the masked mean of one layer's hidden states, special tokens included.
This is XTREME's ``run_retrieval.py`` with its default ``pool_type='mean'`` and no
``--pool_skip_special_token``, and jiant's ``MeanPoolerHead`` on ``hidden_states[layer]``
(``xtreme.retrieval_layer`` picks the layer).

Nearest-neighbour search is exact cosine similarity in torch (``chunked_topk``), not
faiss, on the run's device (``compute.device``), in blocks: the similarity matrix of a
BUCC test pair (about 400k x 400k) is never materialised, only blocks of at most
``MAX_BLOCK`` similarities and each sentence's k best; the margin scoring works on those
k neighbours alone. At BUCC/Tatoeba scale, faiss ``IndexFlatIP`` was only 10-30 % faster than a
plain torch matmul + ``topk`` in our measurement (toolchain-measurements §8), which is
not worth the extra dependency.

Usage::

    src = embed_sentences(model, tok, src_sentences, layer=xtreme.retrieval_layer(12))
    trg = embed_sentences(model, tok, trg_sentences, layer=xtreme.retrieval_layer(12))
    tatoeba_accuracy(src, trg)                          # Tatoeba, 0-100
    dev = bucc_mine(src, trg, src_ids, trg_ids, src_texts=..., trg_texts=...)
    tuned = bucc_optimize(dev, gold_dev)                # threshold chosen on dev
    bucc_f1_at(test_candidates, gold_test, tuned["threshold"])
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from xstilts.precision import autocast

Candidate = tuple[float, str, str]  # (margin score, src_id, trg_id)

# Largest similarity block (query chunk x key chunk) materialised at once: 2**26 float32
# values = 256 MiB, on the CPU or the GPU. A 4096-query chunk against up to 16,384 keys
# fits in one block.
MAX_BLOCK = 2**26


# --------------------------------------------------------------------------- embeddings


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average hidden states over the positions where ``attention_mask`` is 1.

    Args:
        hidden: ``[B, T, H]`` hidden states.
        attention_mask: ``[B, T]`` with 1 for real tokens and 0 for padding.

    Returns:
        ``[B, H]``; an all-padding row gives zeros instead of NaN.

    """
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def _pad(batch_ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token ids to the longest row (dynamic padding) and build the mask."""
    width = max(len(ids) for ids in batch_ids)
    input_ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for row, ids in enumerate(batch_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[row, : len(ids)] = 1
    return input_ids, mask


# Model types whose position ids start after the padding index (RoBERTa's
# ``create_position_ids_from_input_ids``): max_position_embeddings counts pad_token_id + 1
# positions that no token can use (XLM-R: 514 positions, 512 usable tokens).
_OFFSET_POSITION_TYPES = ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl")


def model_max_length(model: torch.nn.Module) -> int:
    """Longest input in tokens the encoder accepts (XTREME embeds at this length, 512).

    Args:
        model: A Hugging Face encoder with a ``config``.

    Returns:
        ``config.max_position_embeddings``, minus ``pad_token_id + 1`` for RoBERTa-style
        position ids (XLM-R: 514 - 2 = 512; BERT/mBERT/e5: 512).

    """
    config = model.config
    positions = int(config.max_position_embeddings)
    if getattr(config, "model_type", "") in _OFFSET_POSITION_TYPES:
        positions -= int(config.pad_token_id or 0) + 1
    return positions


def embed_sentences(
    model: torch.nn.Module,
    tokenizer: Callable,
    sentences: Sequence[str],
    layer: int,
    batch_size: int = 64,
    max_length: int = 128,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> torch.Tensor:
    """Embed sentences as the masked mean of ``hidden_states[layer]``.

    Sentences are sorted by token length so that each batch is padded only to its own
    longest sentence; the output rows are put back in input order. Right padding with the
    tokenizer's pad id plus the attention mask makes a sentence's embedding independent of
    its batch (XLM-R derives position ids from the pad id, so the id matters).

    Args:
        model: A Hugging Face encoder (``BertModel``, ``XLMRobertaModel``, ...) already on
            ``device``. It is put in eval mode for the call and restored afterwards.
        tokenizer: Callable like a HF tokenizer: ``tokenizer(list_of_str, truncation=True,
            max_length=n)["input_ids"]`` gives lists of ids with special tokens added;
            ``tokenizer.pad_token_id`` is used for padding (0 if absent).
        sentences: Sentences to embed.
        layer: Index into ``output.hidden_states`` (0 = embedding output).
        batch_size: Sentences per forward pass.
        max_length: Truncation length in tokens, special tokens included.
        device: Where the inputs go.
        precision: ``fp32`` or ``bf16`` (autocast of the encoder; the mean is taken and
            returned in fp32).

    Returns:
        ``float32`` tensor ``[len(sentences), hidden_size]`` on the CPU.

    Raises:
        ValueError: If ``layer`` is outside the model's ``hidden_states``.

    """
    return embed_sentences_layers(
        model, tokenizer, sentences, [layer], batch_size, max_length, device, precision
    )[layer]


def embed_sentences_layers(
    model: torch.nn.Module,
    tokenizer: Callable,
    sentences: Sequence[str],
    layers: Sequence[int],
    batch_size: int = 64,
    max_length: int = 128,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> dict[int, torch.Tensor]:
    """Embed sentences at several layers with one forward pass per batch.

    As ``embed_sentences`` (length-sorted batches, dynamic padding, masked mean), for each
    index in ``layers``; used to score retrieval at every depth and choose one on dev.

    Returns:
        ``{layer: float32 tensor [len(sentences), hidden_size]}`` on the CPU.
    """
    layers = list(dict.fromkeys(layers))
    if not sentences:
        return {k: torch.empty((0, model.config.hidden_size), dtype=torch.float32) for k in layers}
    ids = tokenizer(list(sentences), truncation=True, max_length=max_length)["input_ids"]
    pad_id = getattr(tokenizer, "pad_token_id", None)
    pad_id = 0 if pad_id is None else pad_id
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = {
        k: torch.empty((len(ids), model.config.hidden_size), dtype=torch.float32) for k in layers
    }
    was_training = model.training
    model.eval()
    # A model whose weights are already bf16 (retrieval runs cast once, phases.target.setup)
    # needs no autocast; autocast would only add per-op dispatch.
    weights_bf16 = next(model.parameters()).dtype == torch.bfloat16
    run_precision = "fp32" if weights_bf16 else precision
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                input_ids, mask = _pad([ids[i] for i in rows], pad_id)
                mask = mask.to(device)
                with autocast(run_precision, device):
                    states = _layer_outputs(model, input_ids.to(device), mask, layers)
                for k, hidden in states.items():
                    out[k][rows] = mean_pool(hidden.float(), mask).cpu()
    finally:
        model.train(was_training)
    return out


def _layer_outputs(
    model: torch.nn.Module, input_ids: torch.Tensor, mask: torch.Tensor, layers: Sequence[int]
) -> dict[int, torch.Tensor]:
    states = model(
        input_ids=input_ids, attention_mask=mask, output_hidden_states=True
    ).hidden_states
    for layer in layers:
        if not 0 <= layer < len(states):
            raise ValueError(
                f"layer {layer} out of range: the model has hidden_states[0..{len(states) - 1}]"
            )
    return {layer: states[layer] for layer in layers}


# --------------------------------------------------------------------------- search


def _similarities(q: torch.Tensor, block: torch.Tensor) -> torch.Tensor:
    """One block of cosines (both sides normalised); the only place similarities are built."""
    return q @ block.T


def _topk_block(q: torch.Tensor, keys: torch.Tensor, k: int, key_chunk: int):
    """Top-k of ``q @ keys.T`` for one query chunk, chunking keys when there are many."""
    if keys.shape[0] <= key_chunk:
        return torch.topk(_similarities(q, keys), k, dim=1)
    # Top-k of each key chunk, then top-k of the union: the global top-k of a row is
    # always among the per-chunk top-k (same idea as XTREME's knnGPU batching).
    parts_s, parts_i = [], []
    for start in range(0, keys.shape[0], key_chunk):
        block = keys[start : start + key_chunk]
        s, i = torch.topk(_similarities(q, block), min(k, block.shape[0]), dim=1)
        parts_s.append(s)
        parts_i.append(i + start)
    scores, pos = torch.topk(torch.cat(parts_s, dim=1), k, dim=1)
    return scores, torch.gather(torch.cat(parts_i, dim=1), 1, pos)


def chunked_topk(
    queries: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    chunk_size: int = 4096,
    key_chunk_size: int | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact cosine k-nearest neighbours of each query among ``keys``, in bounded blocks.

    Both sides are L2-normalised, so the inner product is the cosine (XTREME normalises
    and uses faiss ``IndexFlatIP``). Queries are processed ``chunk_size`` at a time, and
    keys are chunked too, so no block holds more than ``MAX_BLOCK`` (2**26) similarities:
    memory is O(chunk_size x key chunk + M x D), and 400k x 400k runs in 256 MiB blocks.
    The keys are moved to ``device`` once, each query chunk when its turn comes; the
    results come back to the CPU.

    Args:
        queries: ``[N, D]``.
        keys: ``[M, D]``.
        k: Neighbours per query; clamped to ``M`` (as XTREME's ``min(k, y.shape[0])``).
        chunk_size: Queries per block, at most ``MAX_BLOCK // k``.
        key_chunk_size: Keys per block; default and upper bound
            ``MAX_BLOCK // chunk_size`` (never below ``k``).
        device: Where the similarities are computed (the run's device).

    Returns:
        ``(scores, indices)``, both ``[N, min(k, M)]`` on the CPU, best first; scores are
        cosines (float32) and indices index rows of ``keys``.

    Raises:
        ValueError: No keys, or a chunk size outside ``[1, MAX_BLOCK // k]``.
    """
    if keys.shape[0] == 0:
        raise ValueError("no keys to search")
    k = min(k, keys.shape[0])
    if not 1 <= chunk_size <= MAX_BLOCK // k:
        raise ValueError(f"chunk_size must be in [1, {MAX_BLOCK // k}], got {chunk_size}")
    keys = F.normalize(keys.float().to(device), dim=1)
    key_chunk = max(k, min(key_chunk_size or MAX_BLOCK, MAX_BLOCK // chunk_size))
    scores, indices = [], []
    for start in range(0, queries.shape[0], chunk_size):
        q = F.normalize(queries[start : start + chunk_size].float().to(device), dim=1)
        s, i = _topk_block(q, keys, k, key_chunk)
        scores.append(s.cpu())
        indices.append(i.cpu())
    if not scores:
        return torch.empty((0, k)), torch.empty((0, k), dtype=torch.long)
    return torch.cat(scores), torch.cat(indices)


# --------------------------------------------------------------------------- Tatoeba

# Which side is searched for which. XTREME's ``similarity_search(x=src, y=trg)`` indexes
# the non-English side and searches it with each English sentence; jiant does the same
# (paper-facts §6.1). "src" is the reverse direction, kept for analysis only.
_TATOEBA_SIDES = {"trg": lambda src, trg: (trg, src), "src": lambda src, trg: (src, trg)}


def tatoeba_predict(
    src_emb: torch.Tensor, trg_emb: torch.Tensor, query_side: str = "trg", device="cpu"
) -> torch.Tensor:
    """Return, for each query sentence, the row index of its cosine-nearest candidate.

    Args:
        src_emb: ``[N, D]`` non-English embeddings; row i translates ``trg_emb`` row i.
        trg_emb: ``[N, D]`` English embeddings.
        query_side: ``"trg"`` (XTREME/jiant: each English sentence searches the foreign
            ones) or ``"src"`` (each foreign sentence searches the English ones).
        device: Where the search runs.

    Returns:
        ``[N]`` long tensor of predicted indices (gold is ``arange(N)``).

    """
    if query_side not in _TATOEBA_SIDES:
        raise ValueError(f"query_side must be one of {sorted(_TATOEBA_SIDES)}, got {query_side!r}")
    if src_emb.shape[0] != trg_emb.shape[0]:
        raise ValueError(
            f"Tatoeba needs aligned rows: {src_emb.shape[0]} src vs {trg_emb.shape[0]} trg"
        )
    queries, keys = _TATOEBA_SIDES[query_side](src_emb, trg_emb)
    return chunked_topk(queries, keys, k=1, device=device)[1][:, 0]


def tatoeba_accuracy(
    src_emb: torch.Tensor, trg_emb: torch.Tensor, query_side: str = "trg", device="cpu"
) -> float:
    """Return Tatoeba accuracy (0-100): how often the nearest neighbour is the aligned row.

    By default each English sentence (``trg``) retrieves its nearest non-English sentence
    (``src``), as XTREME and jiant do; see ``tatoeba_predict``.
    """
    pred = tatoeba_predict(src_emb, trg_emb, query_side, device)
    if pred.numel() == 0:
        raise ValueError("no sentence pairs to score")
    return 100.0 * (pred == torch.arange(pred.shape[0])).double().mean().item()


# --------------------------------------------------------------------------- BUCC


def _unique_rows(texts: Sequence[str] | None, n: int) -> tuple[list[int], list[list[int]]]:
    """Map rows to unique sentences: (first row of each unique text, rows per unique text)."""
    if texts is None:
        return list(range(n)), [[i] for i in range(n)]
    if len(texts) != n:
        raise ValueError(f"{len(texts)} texts for {n} embeddings")
    groups: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        groups.setdefault(text.strip(), []).append(row)
    rows = list(groups.values())
    return [r[0] for r in rows], rows


def _knn(
    queries: torch.Tensor, keys: torch.Tensor, k: int, device="cpu", chunk_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine k-NN (on ``device``, in blocks) as numpy arrays: float64 sims, int64 indices."""
    # float64 because XTREME's score_candidates divides into a float64 array.
    sims, inds = chunked_topk(queries.detach(), keys.detach(), k, chunk_size, device=device)
    return sims.double().numpy(), inds.numpy()


def _margin_scores(sims, inds, own_mean, other_mean) -> np.ndarray:
    # Ratio margin (Artetxe & Schwenk 2019), XTREME utils_retrieve.score:
    # cos(x, y) / ((mean_k cos(x, NN_k(x)) + mean_k cos(y, NN_k(y))) / 2).
    return sims / ((own_mean[:, None] + other_mean[inds]) / 2)


def _greedy_max(fwd, bwd, min_score: float) -> list[tuple[float, int, int]]:
    """XTREME ``retrieval='max'``: union of both directions' best, one-to-one, best first."""
    (f_score, f_best), (b_score, b_best) = fwd, bwd
    src = np.concatenate([np.arange(len(f_best)), b_best])
    trg = np.concatenate([f_best, np.arange(len(b_best))])
    scores = np.concatenate([f_score, b_score])
    seen_src, seen_trg, out = set(), set(), []
    for i in np.argsort(-scores, kind="stable"):
        s, t = int(src[i]), int(trg[i])
        if s in seen_src or t in seen_trg:
            continue
        seen_src.add(s)
        seen_trg.add(t)
        if scores[i] > min_score:
            out.append((float(scores[i]), s, t))
    return out


def _expand(src_ids, trg_ids) -> list[tuple[str, str]]:
    # jiant (bucc2018 evaluation): a duplicated sentence stands for all of its ids.
    return list(itertools.product(src_ids, trg_ids))


def _drop(src_ids, trg_ids) -> list[tuple[str, str]]:
    # XTREME utils_retrieve.read_sent2id: a sentence that occurs with several ids is
    # dropped, so no pair involving it is ever extracted.
    return [(src_ids[0], trg_ids[0])] if len(src_ids) == len(trg_ids) == 1 else []


_DUPLICATE_POLICIES = {"expand": _expand, "drop": _drop}


def bucc_mine(
    src_emb: torch.Tensor,
    trg_emb: torch.Tensor,
    src_ids: Sequence[str],
    trg_ids: Sequence[str],
    k: int = 4,
    src_texts: Sequence[str] | None = None,
    trg_texts: Sequence[str] | None = None,
    duplicates: str = "expand",
    min_score: float = 0.0,
    device: str | torch.device = "cpu",
    chunk_size: int = 4096,
) -> list[Candidate]:
    """Mine candidate translation pairs with ratio-margin scoring (XTREME ``mine_bitext``).

    Defaults are XTREME's: ``mode='mine'``, ``retrieval='max'``, ``margin='ratio'``,
    ``neighborhood=4``, cosine distance, threshold 0. Steps: L2-normalise; k-NN in both
    directions; score each of a sentence's k neighbours with the ratio margin and keep the
    best; take the union of forward and backward bests, assign greedily one-to-one in
    descending score, and keep scores above ``min_score``.

    Args:
        src_emb: ``[N, D]`` non-English sentence embeddings.
        trg_emb: ``[M, D]`` English sentence embeddings.
        src_ids: N sentence ids (``de-000001`` ...).
        trg_ids: M sentence ids.
        k: Neighbourhood size of the margin (XTREME/jiant: 4).
        src_texts: Optional source sentences; when given, identical source sentences
            are mined once (XTREME ``text_load_unify``, jiant SHA-1 de-dup).
        trg_texts: Optional target sentences, de-duplicated the same way.
        duplicates: What a pair with a de-duplicated sentence becomes: ``"expand"`` to all
            of its ids (jiant, which the paper ran) or ``"drop"`` (XTREME's
            ``read_sent2id``).
        min_score: Keep candidates scoring strictly above this (XTREME ``threshold=0``).
        device: Where the k-NN runs (``chunked_topk``); the margins use its k neighbours.
        chunk_size: Queries per k-NN block (``chunked_topk``).

    Returns:
        ``(score, src_id, trg_id)`` tuples sorted by score, highest first.

    """
    if len(src_ids) != src_emb.shape[0] or len(trg_ids) != trg_emb.shape[0]:
        raise ValueError("one id per embedding row is required on both sides")
    if duplicates not in _DUPLICATE_POLICIES:
        raise ValueError(
            f"duplicates must be one of {sorted(_DUPLICATE_POLICIES)}, got {duplicates!r}"
        )
    src_first, src_rows = _unique_rows(src_texts, len(src_ids))
    trg_first, trg_rows = _unique_rows(trg_texts, len(trg_ids))
    x, y = src_emb[src_first], trg_emb[trg_first]

    f_sim, f_ind = _knn(x, y, k, device, chunk_size)
    b_sim, b_ind = _knn(y, x, k, device, chunk_size)
    f_mean, b_mean = f_sim.mean(axis=1), b_sim.mean(axis=1)
    f_scores = _margin_scores(f_sim, f_ind, f_mean, b_mean)
    b_scores = _margin_scores(b_sim, b_ind, b_mean, f_mean)
    rows_x, rows_y = np.arange(len(x)), np.arange(len(y))
    fwd = (f_scores.max(axis=1), f_ind[rows_x, f_scores.argmax(axis=1)])
    bwd = (b_scores.max(axis=1), b_ind[rows_y, b_scores.argmax(axis=1)])

    to_pairs = _DUPLICATE_POLICIES[duplicates]
    out: list[Candidate] = []
    for score, s, t in _greedy_max(fwd, bwd, min_score):
        s_ids = [src_ids[r] for r in src_rows[s]]
        t_ids = [trg_ids[r] for r in trg_rows[t]]
        out.extend((score, si, ti) for si, ti in to_pairs(s_ids, t_ids))
    return out


def _candidate_scores(candidates: Sequence[Candidate]) -> dict[tuple[str, str], float]:
    """Best score per (src_id, trg_id) pair (XTREME ``read_candidate2score``)."""
    best: dict[tuple[str, str], float] = {}
    for score, src, trg in candidates:
        pair = (src, trg)
        best[pair] = max(score, best.get(pair, score))
    return best


def _prf(n_correct: int, n_extracted: int, n_gold: int) -> dict[str, float]:
    if n_correct == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    p, r = n_correct / n_extracted, n_correct / n_gold
    return {"precision": 100.0 * p, "recall": 100.0 * r, "f1": 100.0 * 2 * p * r / (p + r)}


def bucc_f1_at(
    candidates: Sequence[Candidate], gold: set[tuple[str, str]], threshold: float
) -> dict[str, float]:
    """Extract candidates scoring ``>= threshold`` and score them against gold pairs.

    This is XTREME ``bucc_extract`` + ``bucc_eval`` with a given threshold, used to apply
    the dev-tuned threshold to test.

    Returns:
        ``{"precision", "recall", "f1"}`` in [0, 100].

    Raises:
        ValueError: If ``gold`` is empty.

    """
    if not gold:
        raise ValueError("no gold pairs to score against")
    extracted = {pair for pair, s in _candidate_scores(candidates).items() if s >= threshold}
    return _prf(len(extracted & gold), len(extracted), len(gold))


def bucc_optimize(candidates: Sequence[Candidate], gold: set[tuple[str, str]]) -> dict[str, float]:
    """Choose the score threshold that maximises F1 against gold pairs (dev split).

    XTREME ``bucc_optimize``: walk the candidates from the highest score down; after each,
    compute F1 of "extract everything so far"; at a strictly better F1, set the threshold
    to the midpoint between this candidate's score and the next one's. Ties keep the
    earlier (higher) threshold. Deviation: when the best F1 is reached at the last
    candidate, XTREME indexes past the end (IndexError); we use that candidate's score,
    which extracts the same set.

    Returns:
        ``{"threshold", "precision", "recall", "f1"}``; P/R/F1 in [0, 100] at the chosen
        threshold, threshold 0 when no candidate is correct.

    Raises:
        ValueError: If ``gold`` is empty.

    """
    if not gold:
        raise ValueError("no gold pairs to tune the threshold on")
    items = sorted(_candidate_scores(candidates).items(), key=lambda item: -item[1])
    threshold, best_f1, n_correct = 0.0, 0.0, 0
    for n_extracted, (pair, score) in enumerate(items, start=1):
        n_correct += pair in gold
        f1 = _prf(n_correct, n_extracted, len(gold))["f1"]
        if f1 > best_f1:
            best_f1 = f1
            following = items[n_extracted][1] if n_extracted < len(items) else score
            threshold = (score + following) / 2
    return {"threshold": threshold, **bucc_f1_at(candidates, gold, threshold)}


# --------------------------------------------------------------------------- benchmark


def benchmark(
    n: int = 10000, d: int = 256, k: int = 4, chunk_size: int = 4096, seed: int = 0
) -> dict:
    """Time ``chunked_topk`` against a bare ``q @ k.T`` + ``topk`` on the same vectors.

    Measurement only (used by ``invoke bench``); nothing is asserted. faiss is not
    compared because it was only 10-30 % faster than bare torch at this scale in the
    reference measurement (toolchain-measurements §8).

    Args:
        n: Number of queries and of keys.
        d: Embedding dimension.
        k: Neighbours per query.
        chunk_size: Query chunk of ``chunked_topk``.
        seed: Seed of the random vectors.

    Returns:
        Sizes, seconds and sentences/s of both methods, ``ratio`` (chunked over bare
        throughput) and ``agree`` (fraction of equal top-1 indices).

    """
    gen = torch.Generator().manual_seed(seed)
    q = F.normalize(torch.randn(n, d, generator=gen), dim=1)
    keys = F.normalize(torch.randn(n, d, generator=gen), dim=1)

    # Warm-up on a slice so that neither method pays the first-call overhead (thread
    # pool start, allocator) inside its timing.
    torch.topk(q[:64] @ keys.T, k, dim=1)

    t0 = time.perf_counter()
    _, chunked_idx = chunked_topk(q, keys, k, chunk_size=chunk_size)
    chunked_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    _, bare_idx = torch.topk(q @ keys.T, k, dim=1)
    bare_s = time.perf_counter() - t0

    return {
        "n": n,
        "d": d,
        "k": k,
        "chunk_size": chunk_size,
        "chunked_s": chunked_s,
        "bare_s": bare_s,
        "chunked_sentences_per_s": n / chunked_s,
        "bare_sentences_per_s": n / bare_s,
        "ratio": bare_s / chunked_s,
        "agree": (chunked_idx[:, 0] == bare_idx[:, 0]).double().mean().item(),
    }
