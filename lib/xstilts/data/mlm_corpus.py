"""Multilingual MLM co-training corpus: exponent-smoothed sampling across languages.

Phang et al. (2020, v1 §3.3) co-train with MLM on "2 million sentences sampled across all
languages according to the sampling ratio of Conneau and Lample (2019) with α = 0.3". That
ratio is

    q_i = p_i^α / Σ_j p_j^α,   p_i = n_i / Σ_j n_j,

where n_i is the number of sentences available in language i: α < 1 flattens the
distribution, so low-resource languages are sampled more often than their share of the data.

Input is one sentence per line per language (Wikipedia / CC-100 extractions), laid out as
``<root>/<lang>.txt``; output rows are in the ``mlm`` schema ``{"id", "lang", "text"}``.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from xstilts import io
from xstilts.data.loaders import DataSourceError

DEFAULT_ALPHA = 0.3  # Conneau & Lample (2019); the paper's MLM co-training value


def sampling_probs(counts: Mapping[str, int], alpha: float = DEFAULT_ALPHA) -> dict[str, float]:
    """Return the exponent-smoothed sampling probability of each language.

    Args:
        counts: Sentences available per language (``n_i``).
        alpha: Smoothing exponent; 1 keeps the data proportions, 0 samples uniformly.

    Returns:
        ``{lang: q_i}`` summing to 1 (languages with no sentences get 0).

    Raises:
        ValueError: No language has any sentence, or a count is negative.

    """
    if any(n < 0 for n in counts.values()):
        raise ValueError(f"negative sentence count in {dict(counts)}")
    total = sum(counts.values())
    if total == 0:
        raise ValueError("no sentences in any language")
    weights = {lang: (n / total) ** alpha if n else 0.0 for lang, n in counts.items()}
    z = sum(weights.values())
    return {lang: w / z for lang, w in weights.items()}


def allocate(counts: Mapping[str, int], total: int, alpha: float = DEFAULT_ALPHA) -> dict[str, int]:
    """Split ``total`` sentences across languages in proportion to ``sampling_probs``.

    Uses largest remainders, so the parts are integers that sum to exactly ``total``;
    ties go to the language listed first in ``counts``.
    """
    q = sampling_probs(counts, alpha)
    exact = {lang: total * p for lang, p in q.items()}
    out = {lang: math.floor(x) for lang, x in exact.items()}
    order = sorted(q, key=lambda lang: -(exact[lang] - out[lang]))
    for lang in order[: total - sum(out.values())]:
        out[lang] += 1
    return out


def sample_corpus(
    sentences_by_lang: Mapping[str, list[str]],
    total: int,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> list[dict]:
    """Sample an MLM corpus of ``total`` sentences with the α-smoothed language ratio.

    A language whose quota exceeds its sentences is sampled with replacement (every sentence
    first, then random repeats), as smoothing up-samples low-resource languages by design.

    Args:
        sentences_by_lang: Sentences per language.
        total: Corpus size (the paper: 2,000,000).
        alpha: Smoothing exponent.
        seed: Seed of the sampler (deterministic per seed).

    Returns:
        Rows ``{"id", "lang", "text"}`` in a seeded random order across languages.

    """
    counts = {lang: len(s) for lang, s in sentences_by_lang.items()}
    quota = allocate(counts, total, alpha)
    rng = random.Random(seed)
    rows = []
    for lang in sorted(quota):
        pool, k = sentences_by_lang[lang], quota[lang]
        if k <= len(pool):
            picked = rng.sample(range(len(pool)), k)
        else:
            picked = list(range(len(pool))) + rng.choices(range(len(pool)), k=k - len(pool))
        rows += [
            {"id": f"mlm-{lang}-{j}", "lang": lang, "text": pool[i]} for j, i in enumerate(picked)
        ]
    rng.shuffle(rows)
    return rows


def read_text_corpus(
    root: str | os.PathLike, langs: Iterable[str], max_lines: int | None = None
) -> dict[str, list[str]]:
    """Read ``<root>/<lang>.txt`` (one sentence per line) for each language.

    Args:
        root: Folder of per-language text files.
        langs: Languages to read.
        max_lines: Read at most this many non-blank lines per language (None = all).
            Note that this cap changes ``n_i`` and hence the sampling ratio.

    Returns:
        ``{lang: [sentence, ...]}``.

    Raises:
        DataSourceError: A language file is missing (one line, naming the path).

    """
    return {lang: list(_nonblank_stream(_corpus_file(root, lang), max_lines)) for lang in langs}


def _corpus_file(root: str | os.PathLike, lang: str) -> Path:
    path = Path(root) / f"{lang}.txt"
    if not path.is_file():
        raise DataSourceError(
            f"MLM corpus ({lang}) not found: looked in {path}; extract one sentence per "
            "line from a Wikipedia or CC-100 dump on a connected machine and set "
            "data.sources.mlm in params to its folder"
        )
    return path


def _nonblank_stream(path: Path, limit: int | None) -> Iterator[str]:
    """Stripped non-blank lines of ``path``, read lazily (at most ``limit``)."""
    with open(path, encoding="utf-8") as f:
        yielded = 0
        for line in f:
            text = line.strip()
            if text:
                yield text
                yielded += 1
                if limit is not None and yielded >= limit:
                    return


def count_sentences(
    root: str | os.PathLike, langs: Iterable[str], max_lines: int | None = None
) -> dict[str, int]:
    """Count the non-blank lines of ``<root>/<lang>.txt`` without holding them (``n_i``)."""
    return {
        lang: sum(1 for _ in _nonblank_stream(_corpus_file(root, lang), max_lines))
        for lang in langs
    }


def _picked_indices(n: int, k: int, rng: random.Random) -> list[int]:
    """``k`` line indices out of ``n``: without replacement while possible (as ``sample_corpus``)."""
    if k <= n:
        return rng.sample(range(n), k)  # sampling from a range holds only the k picks
    return list(range(n)) + rng.choices(range(n), k=k - n)


def stream_sample_language(
    path: Path, n: int, k: int, rng: random.Random, max_lines: int | None = None
) -> list[str]:
    """Pick ``k`` of the ``n`` sentences of one file in one streaming pass.

    Memory is O(k) (the picked sentences), not O(n): a Wikipedia dump of a large language
    is never read into memory. Repeated picks (``k > n``) repeat the sentence.
    """
    picks = _picked_indices(n, k, rng)
    wanted: dict[int, int] = {}
    for i in picks:
        wanted[i] = wanted.get(i, 0) + 1
    out: list[str] = []
    for i, text in enumerate(_nonblank_stream(path, max_lines)):
        out.extend([text] * wanted.get(i, 0))
    return out


def materialize_mlm(
    root: str | os.PathLike,
    langs: Iterable[str],
    total: int,
    out_dir: str | os.PathLike,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
    max_lines: int | None = None,
) -> dict:
    """Sample the corpus from ``<root>/<lang>.txt`` and write ``<out>/mlm/train/<lang>.jsonl``.

    Two streaming passes per language (count, then pick), so memory holds only the sampled
    sentences of one language at a time: the paper's 2M sentences over 40 Wikipedia dumps fit
    on any machine. The row order within a language is seeded random.

    Returns:
        A data card: source, licence, real, languages, sizes, the available counts ``n_i``
        and the sampling probabilities ``q_i``.

    """
    langs = list(langs)
    counts = count_sentences(root, langs, max_lines)
    quota = allocate(counts, total, alpha)
    rng = random.Random(seed)
    sizes = {}
    for lang in sorted(quota):
        picked = stream_sample_language(
            _corpus_file(root, lang), counts[lang], quota[lang], rng, max_lines
        )
        rng.shuffle(picked)
        rows = ({"id": f"mlm-{lang}-{j}", "lang": lang, "text": t} for j, t in enumerate(picked))
        io.write_jsonl(Path(out_dir) / "mlm" / "train" / f"{lang}.jsonl", rows)
        sizes[lang] = len(picked)
    return {
        "task": "mlm",
        "split": "train",
        "kind": "mlm",
        "source": str(root),
        "licence": "Wikipedia text CC BY-SA 3.0 / CC-100 (Common Crawl terms)",
        "real": True,
        "languages": langs,
        "sizes": {lang: sizes[lang] for lang in langs},
        "available": counts,
        "sampling_probs": {k: round(v, 6) for k, v in sampling_probs(counts, alpha).items()},
        "alpha": alpha,
        "seed": seed,
        "sampling": "streamed: two passes per language file, memory O(sampled sentences)",
    }
