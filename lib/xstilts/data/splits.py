"""Split hygiene of a dataset folder: held-out dev splits and no test text in training data.

Two rules of the evaluation protocol, applied by the data phase to every source alike:

- **Held-out dev** (``heldout_split``): a task whose labelled dev set is the reported test
  set (TyDiQA-GoldP, ``xtreme.HELDOUT_DEV``) selects its checkpoints on a part of its
  English train split, chosen by a seeded hash of the row ids and recorded in the data card.
- **No leakage** (``leaking_ids``): no test item, nor a translation of one, may appear in
  a training or dev split. Texts are compared after ``normalise`` (Unicode NFKC, case
  folding, punctuation removed, whitespace collapsed), field by field (``text_units``), in
  the same language. A training row that matches is dropped in *every* language, since
  rows of one id are translations of each other.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Comparison form of a text: NFKC, case-folded, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return _SPACE.sub(" ", text).strip()


def item_units(row: Mapping) -> list[str]:
    """Normalised texts that identify a (test) item.

    A premise, a sentence pair, a context, a tagged sentence, an MLM line or a side of a
    translation pair is the item; a hypothesis or a question alone is a template and is
    not. Multiple-choice rows without a context (CommonsenseQA) are identified by question
    and choices together.
    """
    units = [row[f] for f in ("text_a", "context", "text", "src", "trg") if row.get(f)]
    if row.get("text_a") and row.get("text_b"):
        units.append(row["text_a"] + "\t" + row["text_b"])  # normalise keeps the tab as space
    if "tokens" in row:
        units.append(" ".join(row["tokens"]))
    if "choices" in row and not row.get("context"):
        units.append(" | ".join([row.get("question", ""), *row["choices"]]))
    return [u for u in (normalise(x) for x in units) if u]


def text_units(row: Mapping) -> list[str]:
    """Every normalised text of a (training) row: its item units plus a hypothesis."""
    extra = [normalise(row["text_b"])] if row.get("text_b") else []
    return item_units(row) + [u for u in extra if u]


def units_by_language(rows_by_lang: Mapping[str, Iterable[Mapping]]) -> dict[str, set[str]]:
    """All item units of test rows, per language."""
    return {lang: {u for r in rows for u in item_units(r)} for lang, rows in rows_by_lang.items()}


def leaking_ids(
    rows_by_lang: Mapping[str, Iterable[Mapping]], test_units: Mapping[str, set[str]]
) -> set[str]:
    """Ids of rows (in any language) that contain a test item's normalised text.

    Args:
        rows_by_lang: Training or dev rows of one (task, split), per language.
        test_units: ``units_by_language`` of every test split of the dataset.

    Returns:
        Row ids to drop from every language of the (task, split).

    """
    found = set()
    for lang, rows in rows_by_lang.items():
        units = test_units.get(lang, set())
        found |= {r["id"] for r in rows if any(u in units for u in text_units(r))}
    return found


def heldout_split(rows: list[dict], fraction: float, seed: int) -> tuple[list, list, dict]:
    """Split rows into (train, held-out dev) by a seeded hash of their ids.

    The rows whose ``sha256(f"{seed}:{id}")`` ranks lowest form the held-out part, so the
    choice is the same in any process and does not depend on row order.

    Args:
        rows: English training rows.
        fraction: Share of rows held out (at least one row when there are two or more).
        seed: The data seed.

    Returns:
        ``(train_rows, dev_rows, record)``; both keep the input order; ``record`` is what
        the data card stores (rule, seed, fraction, sizes, held-out ids' digest).

    """
    n_dev = min(len(rows) - 1, max(1, round(fraction * len(rows)))) if len(rows) > 1 else 0

    def rank(r):
        return hashlib.sha256(f"{seed}:{r['id']}".encode()).hexdigest()

    held = {r["id"] for r in sorted(rows, key=rank)[:n_dev]}
    dev = [r for r in rows if r["id"] in held]
    train = [r for r in rows if r["id"] not in held]
    digest = hashlib.sha256("\n".join(sorted(held)).encode()).hexdigest()[:16]
    record = {
        "rule": "rows with the lowest sha256(f'{seed}:{id}') held out of the English train",
        "seed": seed,
        "fraction": fraction,
        "n_dev": len(dev),
        "n_train": len(train),
        "dev_ids_sha256": digest,
    }
    return train, dev, record
