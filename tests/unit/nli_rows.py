"""English NLI rows for trainer tests, from the bench's synthetic sentence pairs."""

from xstilts.bench_training import synthetic_pairs
from xstilts.xtreme import NLI_LABELS


def nli_rows(n: int, seed: int = 0) -> list[dict]:
    """``n`` labelled pairs in the intermediate-task row schema (labels cycle e/n/c)."""
    return [
        {"id": str(i), "lang": "en", "text_a": a, "text_b": b, "label": NLI_LABELS[i % 3]}
        for i, (a, b) in enumerate(synthetic_pairs(n, seed))
    ]
