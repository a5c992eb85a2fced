"""Phase 0 (``00_data.ipynb``): materialise every dataset the profile needs, with data cards.

Two sources behind one schema (``docs/ARCHITECTURE.md``):

- ``mini``: the deterministic mini-XTREME generator (``data.synthetic``) for task formats no
  package ships, real human-translated parallel sentences (``data.parallel_text``) for
  Tatoeba and BUCC, and real annotated test sets (``data.annotated``: Turkish POS,
  Japanese NER) as extra evaluation languages.
- ``real``: the official XTREME / intermediate-task files (``data.loaders``), from local
  copies or the Hugging Face datasets cache.
"""

from __future__ import annotations

import time
from pathlib import Path

from xstilts import xtreme
from xstilts.data import store
from xstilts.run_params import DataRunParams

# Split offsets keep dev/test items of one task disjoint from each other and from train.
SPLITS = ("train", "dev", "test")


def plan_files(p: DataRunParams) -> list[tuple[str, str, str]]:
    """Every (task, split, lang) file the profile needs."""
    d = p.data
    files: list[tuple[str, str, str]] = []
    eval_langs = set(d["languages"]) | {"en"}
    for task in p.tasks:
        spec = xtreme.task(task)
        if spec.kind == "mlm":
            files += [(task, "train", lang) for lang in p.mlm_languages]
        elif spec.kind == "bitext_retrieval":
            files += [
                (task, "test", lang) for lang in spec.languages if lang in d["retrieval_languages"]
            ]
        elif spec.kind == "bitext_mining":
            files += [
                (task, split, lang)
                for split in ("dev", "test")
                for lang in spec.languages
                if lang in d["retrieval_languages"]
            ]
        else:
            if spec.role == "intermediate" or task in xtreme.TARGET_TRAIN_TASKS:
                files += [(task, "train", "en"), (task, "dev", "en")]
            if spec.role == "intermediate":
                files += [(task, "train", lang) for lang in p.translated_languages]
            if spec.role == "target":
                langs = [lang for lang in spec.languages if lang in eval_langs]
                files += [(task, split, lang) for split in ("dev", "test") for lang in langs]
                # Real annotated sets are test-only: nothing is tuned on them.
                files += [
                    (task, "test", lang) for lang in d.get("real_test_sets", {}).get(task, [])
                ]
    return list(dict.fromkeys(files))


def _size(p: DataRunParams, task: str, split: str) -> int:
    d = p.data
    return {"train": d["train_size"], "dev": d["dev_size"], "test": d["test_size"]}[split]


def build_mini(p: DataRunParams, root: Path) -> dict:
    """Write the mini-XTREME dataset folder; return data cards keyed by task."""
    from xstilts.data import annotated, parallel_text, synthetic
    from xstilts.data.mlm_corpus import sample_corpus

    cards: dict = {}
    files = plan_files(p)
    real_sets = p.data.get("real_test_sets", {})
    for task, split, lang in files:
        spec = xtreme.task(task)
        if spec.kind == "mlm":
            continue
        if lang in real_sets.get(task, []):
            rows = annotated.test_rows(task, lang, p.data["test_size"], seed=p.seed)
            store.write_split(root, task, split, lang, rows)
        elif spec.kind == "bitext_retrieval":
            rows = parallel_text.tatoeba_pairs(lang, p.data["retrieval_size"], seed=p.seed)
            store.write_split(root, task, split, lang, rows)
        elif spec.kind == "bitext_mining":
            n = p.data["retrieval_size"]
            rows, gold = parallel_text.bucc_split(
                lang, split, n_gold=n // 2, n_distractors=n // 2, seed=p.seed
            )
            store.write_split(root, task, split, lang, rows)
            store.write_gold(root, task, split, lang, gold)
        else:
            rows = synthetic.generate(task, split, lang, _size(p, task, split), seed=p.seed)
            store.write_split(root, task, split, lang, rows)
    mlm_langs = [lang for t, _, lang in files if t == "mlm"]
    if mlm_langs:
        by_lang = {
            lang: [
                r["text"] for r in synthetic.generate("mlm", "train", lang, p.mlm_size, seed=p.seed)
            ]
            for lang in mlm_langs
        }
        rows = sample_corpus(by_lang, total=p.mlm_size, alpha=0.3, seed=p.seed)
        for lang in mlm_langs:
            store.write_split(root, "mlm", "train", lang, [r for r in rows if r["lang"] == lang])
    for task in p.tasks:
        spec = xtreme.task(task)
        if spec.kind in ("bitext_retrieval", "bitext_mining"):
            langs = sorted({lang for t, _, lang in files if t == task})
            cards[task] = {
                "task": task,
                "real": True,
                "languages": {lang: parallel_text.card(lang) for lang in langs},
                "source": "human translations from package-shipped catalogues",
            }
        else:
            cards[task] = synthetic.card(task)
            real = {
                lang: annotated.card(task, lang, store.read_split(root, task, "test", lang))
                for lang in real_sets.get(task, [])
            }
            if real:
                cards[task]["real_test_sets"] = real
    return cards


def build_real(p: DataRunParams, root: Path) -> dict:
    """Materialise the official datasets into the dataset folder; return data cards."""
    from xstilts.data import loaders

    cards: dict = {}
    by_task_split: dict[tuple[str, str], list[str]] = {}
    for task, split, lang in plan_files(p):
        by_task_split.setdefault((task, split), []).append(lang)
    for (task, split), langs in by_task_split.items():
        source = p.data["sources"].get(task) or p.data["root"]
        card = loaders.materialize(
            task, split, langs, source, root, mlm_total=p.mlm_size, seed=p.seed
        )
        cards.setdefault(task, {}).update({split: card})
    return cards


SOURCES = {"mini": build_mini, "real": build_real}


def check_sources(p: DataRunParams) -> None:
    """Fail before any work when a requested language is outside what the source can make."""
    if p.data["source"] == "mini":
        from xstilts.data import annotated, parallel_text, synthetic

        real_sets = p.data.get("real_test_sets", {})
        for task, _split, lang in plan_files(p):
            kind = xtreme.task(task).kind
            if lang in real_sets.get(task, []):
                annotated.require(task, lang)  # one line naming the package and how to get it
                continue
            if kind in ("bitext_retrieval", "bitext_mining"):
                ok = lang in parallel_text.available_languages()
            else:
                ok = lang in synthetic.LANGUAGES
            if not ok:
                raise ValueError(
                    f"the mini data source cannot produce {task} in '{lang}'; available: "
                    + ", ".join(
                        parallel_text.available_languages()
                        if "bitext" in kind
                        else synthetic.LANGUAGES
                    )
                )


def build(p: DataRunParams) -> dict:
    """Build the dataset folder of a data run and return a summary for the report."""
    t0 = time.time()
    root = store.dataset_dir(p.run_dir)
    check_sources(p)
    cards = SOURCES[p.data["source"]](p, root)
    store.write_cards(root, cards)
    # Some official splits do not exist (e.g. UD-POS dev for kk/th/tl/yo); the loaders list
    # them in the card's "missing" and the phases skip them.
    counts = [
        {"task": t, "split": s, "lang": lang, "n": len(store.read_split(root, t, s, lang))}
        for t, s, lang in plan_files(p)
        if store.split_path(root, t, s, lang).exists()
    ]
    return {
        "dataset_dir": str(root),
        "cards": cards,
        "files": counts,
        "wall_s": round(time.time() - t0, 2),
    }
