"""Phase 0 (``00_data.ipynb``): materialise every dataset the profile needs, with data cards.

Two sources behind one schema (``docs/ARCHITECTURE.md``):

- ``mini``: the deterministic mini-XTREME generator (``data.synthetic``) for task formats no
  package ships, real human-translated parallel sentences (``data.parallel_text``) for
  Tatoeba and BUCC, and real annotated test sets (``data.annotated``: Turkish POS,
  Japanese NER) as extra evaluation languages.
- ``real``: the official XTREME / intermediate-task files (``data.loaders``), from local
  copies or the Hugging Face datasets cache.
- ``real-split``: real files of a local XTREME download only (``data.real_splits``): labelled
  dev sets split by seeded item-id rules into training, dev and test parts.
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
    absent = d.get("missing_languages", {})
    for task in p.tasks:
        spec = xtreme.task(task)
        gone = set(absent.get(task, []))  # real-split: labelled file not in the download
        if spec.kind == "mlm":
            files += [(task, "train", lang) for lang in p.mlm_languages]
        elif spec.kind == "bitext_retrieval":
            # The official Tatoeba has one split (test); the mini source adds a disjoint dev
            # slice of its parallel text, on which the read-out layer can be chosen.
            splits_ = ("dev", "test") if d["source"] in ("mini", "real-split") else ("test",)
            files += [
                (task, split, lang)
                for split in splits_
                for lang in spec.languages
                if lang in d["retrieval_languages"] and lang not in gone
            ]
        elif spec.kind == "bitext_mining":
            files += [
                (task, split, lang)
                for split in ("dev", "test")
                for lang in spec.languages
                if lang in d["retrieval_languages"] and lang not in gone
            ]
        else:
            if spec.role == "intermediate" or task in xtreme.TARGET_TRAIN_TASKS:
                files += [(task, "train", "en"), (task, "dev", "en")]
            if spec.role == "intermediate" and task in p.translated_tasks:
                # Only tasks with translations (xstilts.grid): XTREME's translate-train has
                # MNLI and SQuAD v1.1; others only where the user supplies them.
                files += [(task, "train", lang) for lang in p.translated_languages]
            if spec.role == "target":
                langs = [lang for lang in spec.languages if lang in eval_langs - gone]
                # Dev only where the task has one (XQuAD: none; TyDiQA: held-out English).
                files += [(task, "dev", lang) for lang in langs if xtreme.has_dev(task, lang)]
                files += [(task, "test", lang) for lang in langs]
                # Real annotated sets are test-only: nothing is tuned on them.
                files += [
                    (task, "test", lang) for lang in d.get("real_test_sets", {}).get(task, [])
                ]
    return list(dict.fromkeys(files))


def _size(p: DataRunParams, task: str, split: str) -> int:
    d = p.data
    return {"train": d["train_size"], "dev": d["dev_size"], "test": d["test_size"]}[split]


def guarded_tests(task: str, split: str) -> set[str] | None:
    """Test sets whose text a (task, split) must not contain; None = every test set.

    Training splits must not contain any test item (of any task, in any language). A dev
    split must be disjoint from the test sets it selects for: its own task's and those of
    the targets it trains or selects (MNLI dev -> XNLI, SQuAD v1.1 dev -> XQuAD and MLQA).
    """
    if split == "train":
        return None
    related = {
        name
        for name, spec in xtreme.TARGET_TASKS.items()
        if spec.train_task == task or xtreme.SELECTION_TASK.get(name) == task
    }
    return {task} | related


def guarded_units(root: Path, files, tasks: set[str] | None) -> dict[str, set[str]]:
    """Normalised item texts of the test splits of ``tasks`` (None: all), per language."""
    from xstilts.data.splits import units_by_language

    tests: dict[str, list] = {}
    for task, split, lang in files:
        if split == "test" and (tasks is None or task in tasks):
            tests.setdefault(lang, []).extend(store.read_split(root, task, split, lang))
    return units_by_language(tests)


def _is_derived(task: str, split: str, lang: str) -> bool:
    """A held-out dev split, carved from the train split after the sources are written."""
    return split == "dev" and lang == "en" and task in xtreme.HELDOUT_DEV


def _write_mini_test(p: DataRunParams, root: Path, task: str, lang: str) -> None:
    from xstilts.data import annotated, parallel_text, synthetic

    spec = xtreme.task(task)
    if lang in p.data.get("real_test_sets", {}).get(task, []):
        rows = annotated.test_rows(task, lang, p.data["test_size"], seed=p.seed)
    elif spec.kind == "bitext_retrieval":
        rows = parallel_text.tatoeba_pairs(lang, p.data["retrieval_size"], seed=p.seed)
    elif spec.kind == "bitext_mining":
        n = p.data["retrieval_size"]
        rows, gold = parallel_text.bucc_split(
            lang, "test", n_gold=n // 2, n_distractors=n // 2, seed=p.seed
        )
        store.write_gold(root, task, "test", lang, gold)
    else:
        rows = synthetic.generate(task, "test", lang, _size(p, task, "test"), seed=p.seed)
    store.write_split(root, task, "test", lang, rows)


def _clean_items(task: str, split: str, langs: list, n: int, seed: int, units: dict):
    """The first ``n`` generated items whose text is in no test set, in every language.

    Returns:
        ``(rows_by_lang, skipped)``: rows keep their item index in the id; ``skipped``
        counts the items left out because they contain a test item's text.

    Raises:
        ValueError: The generator cannot find ``n`` clean items in ``20 * n`` draws.
    """
    from xstilts.data import splits, synthetic

    kept: dict[str, list] = {lang: [] for lang in langs}
    start, skipped, bad = 0, 0, set()
    while len(kept[langs[0]]) < n:
        if start > 20 * max(n, 10):
            raise ValueError(f"synthetic {task}/{split}: cannot find {n} items outside the tests")
        batch = range(start, start + 2 * (n - len(kept[langs[0]])) + 8)
        rows = {lang: synthetic.generate_at(task, split, lang, batch, seed) for lang in langs}
        bad = splits.leaking_ids(rows, units)
        skipped += len(bad)
        for lang in langs:
            kept[lang] += [r for r in rows[lang] if r["id"] not in bad]
        start = batch.stop
    trimmed = {lang: rows[:n] for lang, rows in kept.items()}
    last = trimmed[langs[0]][-1]["id"] if n else None
    skipped -= sum(1 for i in bad if last is not None and _index(i) > _index(last))
    return trimmed, skipped


def _index(row_id: str) -> int:
    return int(row_id.rsplit("-", 1)[1])


def _write_mini_dev_retrieval(p: DataRunParams, root: Path, task: str, lang: str, units) -> int:
    """Tatoeba/BUCC dev splits; returns how many Tatoeba dev pairs were dropped as test text."""
    from xstilts.data import parallel_text, splits

    n = p.data["retrieval_size"]
    if xtreme.task(task).kind == "bitext_mining":  # dev and test pools are disjoint by hash
        rows, gold = parallel_text.bucc_split(
            lang, "dev", n_gold=n // 2, n_distractors=n // 2, seed=p.seed
        )
        store.write_split(root, task, "dev", lang, rows)
        store.write_gold(root, task, "dev", lang, gold)
        return 0
    # A third of the test size: enough to rank the layers, and it keeps the embedding cost
    # of every retrieval run (one per model, setting and mode) within the 2-core budget.
    n_dev = max(20, n // 3)
    rows = parallel_text.tatoeba_dev_pairs(lang, n_dev, test_size=n, seed=p.seed)
    bad = splits.leaking_ids({lang: rows}, units)
    store.write_split(root, task, "dev", lang, [r for r in rows if r["id"] not in bad])
    return len(bad)


def build_mini(p: DataRunParams, root: Path) -> dict:
    """Write the mini-XTREME dataset folder; return data cards keyed by task.

    Test splits are written first; every generated training and dev item that contains a
    test item's text (``data.splits``) is skipped, so the files hold their configured sizes
    and no test text, in any language.
    """
    from xstilts.data import annotated, parallel_text, synthetic
    from xstilts.data.mlm_corpus import sample_corpus

    cards: dict = {}
    files = plan_files(p)
    real_sets = p.data.get("real_test_sets", {})
    for task, split, lang in files:
        if split == "test":
            _write_mini_test(p, root, task, lang)
    skipped: dict = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for task, split, lang in files:
        if split != "test" and not _is_derived(task, split, lang):
            groups.setdefault((task, split), []).append(lang)
    for (task, split), langs in groups.items():
        units = guarded_units(root, files, guarded_tests(task, split))
        if "bitext" in xtreme.task(task).kind:
            n_bad = sum(_write_mini_dev_retrieval(p, root, task, lang, units) for lang in langs)
            skipped.setdefault(task, {})[split] = n_bad
            continue
        n = p.mlm_size if task == "mlm" else _size(p, task, split)
        rows, n_bad = _clean_items(task, split, langs, n, p.seed, units)
        skipped.setdefault(task, {})[split] = n_bad
        if task == "mlm":
            texts = {lang: [r["text"] for r in rows[lang]] for lang in langs}
            mixed = sample_corpus(texts, total=p.mlm_size, alpha=0.3, seed=p.seed)
            rows = {lang: [r for r in mixed if r["lang"] == lang] for lang in langs}
        for lang in langs:
            store.write_split(root, task, split, lang, rows[lang])
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
        if task in skipped:
            cards[task]["skipped_as_test_text"] = skipped[task]
    return cards


def build_real(p: DataRunParams, root: Path) -> dict:
    """Materialise the official datasets into the dataset folder; return data cards."""
    from xstilts.data import loaders

    cards: dict = {}
    by_task_split: dict[tuple[str, str], list[str]] = {}
    for task, split, lang in plan_files(p):
        if not _is_derived(task, split, lang):
            by_task_split.setdefault((task, split), []).append(lang)
    roots = [r for r in (p.data["root"], p.data.get("fallback_root", "")) if r]
    for (task, split), langs in by_task_split.items():
        # A fallback root is searched file by file after the real one (the rehearsal).
        source = p.data["sources"].get(task) or (roots if len(roots) > 1 else p.data["root"])
        card = loaders.materialize(
            task, split, langs, source, root, mlm_total=p.mlm_size, seed=p.seed,
            limit=p.data.get("subsample", {}).get(split, 0),
        )  # fmt: skip
        cards.setdefault(task, {}).update({split: card})
    return cards


def build_real_split(p: DataRunParams, root: Path) -> dict:
    """Split real files of ``data.root`` by seeded item rules (``data.real_splits``)."""
    from xstilts.data import real_splits

    return real_splits.build(p, root)


SOURCES = {"mini": build_mini, "real": build_real, "real-split": build_real_split}


def check_sources(p: DataRunParams) -> None:
    """Fail before any work when a requested language is outside what the source can make."""
    if p.data["source"] == "real-split":
        from xstilts.data import real_files, real_splits

        # One line naming the first absent file, before any file is read.
        real_files.require(p.data["root"], real_splits.slots(plan_files(p)))
        return
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


def carve_heldout_dev(p: DataRunParams, root: Path) -> dict:
    """Hold out a seeded part of the English train as dev (``xtreme.HELDOUT_DEV``).

    Returns:
        ``{task: record}`` for the data card (rule, seed, fraction, sizes, ids' digest).
    """
    from xstilts.data.splits import heldout_split

    records = {}
    for task, split, lang in plan_files(p):
        if not _is_derived(task, split, lang):
            continue
        rows = store.read_split(root, task, "train", "en")
        train, dev, record = heldout_split(rows, xtreme.HELDOUT_DEV[task], p.seed)
        store.write_split(root, task, "train", "en", train)
        store.write_split(root, task, "dev", "en", dev)
        records[task] = record
    return records


def overlap_with_tests(p: DataRunParams, root: Path) -> dict:
    """Count training and dev rows that contain a test item's normalised text.

    The mini source skips such items when it generates them, so its counts are 0 (a test
    checks it); official splits are kept as the paper used them and the count is recorded.

    Returns:
        ``{task: {split: rows}}`` over every non-test split in the dataset folder.
    """
    from xstilts.data.splits import leaking_ids

    files = [f for f in plan_files(p) if store.split_path(root, *f).exists()]
    out: dict = {}
    cache: dict = {}  # reading every test split once per guarded set, not once per file
    for task, split, lang in files:
        if split != "test":
            guarded = guarded_tests(task, split)
            key = None if guarded is None else frozenset(guarded)
            if key not in cache:
                cache[key] = guarded_units(root, files, guarded)
            units = cache[key]
            rows = store.read_split(root, task, split, lang)
            n = len(leaking_ids({lang: rows}, units))
            out.setdefault(task, {}).setdefault(split, 0)
            out[task][split] += n
    return out


def build(p: DataRunParams) -> dict:
    """Build the dataset folder of a data run and return a summary for the report."""
    t0 = time.time()
    root = store.dataset_dir(p.run_dir)
    check_sources(p)
    cards = SOURCES[p.data["source"]](p, root)
    for task, record in carve_heldout_dev(p, root).items():
        cards.setdefault(task, {})["heldout_dev"] = record
    for task, counts in overlap_with_tests(p, root).items():
        cards.setdefault(task, {})["test_overlap"] = counts
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
