"""The ``real-split`` data source: every split carved, by seeded rules, from real files only.

XTREME's download holds few labelled training sets and strips most test labels, so this
source fills each task slot (registry names of ``xstilts.xtreme``) with real, human-written or
human-translated text from ``data.root`` alone (``real_files`` lists the files; no hub, no
fallback), splitting labelled dev sets where they must serve as both training and test data:

- ``mnli`` / ``xnli`` / ``mlm``: the XNLI dev set (2,490 items aligned by row across 15
  languages) is cut by item into part B (the XNLI test, every language) and part A (English
  ``mnli`` train + held-out dev; the human translations of exactly those items are the
  translated mode's data; the MLM text of ``english+mlm``).
- ``pawsx``: the same cut of the PAWS-X dev set (English part A trains, part B tests).
- ``panx``: English train; ``dev-en`` split into selection dev and English test; the other
  languages' dev files as test stand-ins. ``udpos``: train-en, dev-en, labelled tests.
- ``squad_v1``: TyDiQA-GoldP English train, split into train/dev (the XQuAD/MLQA fine-tune).
  ``xquad``: the labelled originals, test only. ``mlqa``: dev files as test stand-ins.
  ``cosmosqa``: ``valid.csv`` split into train/dev; ``commonsenseqa``: the dev jsonl likewise.
- ``bucc2018``: the dev (sample) split cut into a tuning half and a test half, gold pairs
  kept with their sentences. ``tatoeba``: LASER's gold-aligned pairs, a disjoint dev slice.

An *item* is a group of rows sharing a normalised text in any field and any language
(``data.splits.normalise``; XNLI premises come with three hypotheses), so no test item, nor
its translation, can reach a training or dev split. Groups are ranked by
``sha256(f"{task}|{seed}|{key}")``; every rule, seed, size and a digest of the ids is in the
task's data card (``splits``). Training and dev rows that still contain any test text (of
any task, ``phases.data.guarded_tests``) are dropped before subsampling, so the card's
``test_overlap`` is 0.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from xstilts.data import real_files as RF
from xstilts.data import store
from xstilts.data.splits import leaking_ids, normalise, units_by_language

TEST_FRACTION = 0.5  # share of a split set's items that become the test part (part B)
DEV_FRACTION = 0.2  # share of the remaining part A held out as the English dev split
TRANSLATED = ("mnli",)  # slots with human translations of their training items
TASKS = (
    "mnli", "cosmosqa", "commonsenseqa", "squad_v1", "mlm",
    "xnli", "pawsx", "panx", "udpos", "xquad", "mlqa", "bucc2018", "tatoeba",
)  # fmt: skip
NOT_A_TARGET = {
    "tydiqa": "TyDiQA-GoldP is not a target of the real-split source: XTREME's download "
    "blanks the answers of its dev files (its test set), so only the English train file is "
    "labelled, and it fills the squad_v1 slot"
}
STAND_IN = {
    "mnli": "The English items of part A of the XNLI dev set (human-written premises and "
    "hypotheses); its translated mode reads the human translations of exactly those items.",
    "xnli": "XNLI dev, part B (every language) as the test set; selection on a held-out part "
    "of part A; trained on the mnli slot (part A), so no test item is ever trained on.",
    "mlm": "Premises and hypotheses of part A of the XNLI dev set in the MLM languages "
    "(never part-B text).",
    "pawsx": "PAWS-X dev: English part A trains (held-out English dev selects), part B is "
    "the test in every language. The labelled PAWS-X de/zh test sets are not used: the "
    "dataset folder holds one test file per language, which is part B's.",
    "panx": "PAN-X train-en trains; dev-en is split into the selection dev and the English "
    "test; every other language's dev set stands in for its (unlabelled) test set.",
    "udpos": "UD-POS train-en and dev-en; the labelled test-<lang> files.",
    "xquad": "The labelled DeepMind XQuAD originals, test only, subsampled by whole article "
    "(the same articles in every language).",
    "mlqa": "MLQA dev (same-language context and question) stands in for its test set, "
    "subsampled by whole article.",
    "squad_v1": "TyDiQA-GoldP English train (SQuAD format), split into train/dev by "
    "paragraph; SQuAD v1.1 is not in the download. " + NOT_A_TARGET["tydiqa"] + ".",
    "cosmosqa": "Cosmos QA valid.csv split into train/dev by context (train is not in it).",
    "commonsenseqa": "CommonsenseQA dev_rand_split.jsonl split into train/dev by question "
    "(its train split is not in the download; the official dev set is the source of both).",
    "bucc2018": "The BUCC 2018 sample split (XTREME's dev), cut by sentence into a half for "
    "threshold tuning and a half for scoring; gold pairs stay with their sentences.",
    "tatoeba": "LASER's gold-aligned Tatoeba pairs: a disjoint seeded dev slice chooses the "
    "read-out layer, the rest is the test.",
}
_READERS = {"nli": "nli_tsv", "pawsx": "pawsx_tsv", "tag": "token_tag", "qa": "squad_json"}


@dataclass
class Ctx:
    """What every slot builder reads: the root, the seed, languages and sizes."""

    root: Path
    seed: int
    langs: dict[str, list[str]]
    sizes: dict
    mlm_size: int = 0

    def size(self, task: str, split: str) -> int:
        """Rows to keep (0 = all): ``subsample_per_task[task][split]``, else ``subsample``."""
        own = self.sizes.get("subsample_per_task", {}).get(task, {})
        return own.get(split, self.sizes.get("subsample", {}).get(split, 0))


@dataclass
class Made:
    """Splits built so far: tests are final; pools are filtered then cut to size."""

    tests: dict = field(default_factory=dict)  # {task: {lang: rows}}
    pools: dict = field(default_factory=dict)  # {(task, split): {lang: rows}}
    gold: dict = field(default_factory=dict)  # {(task, split, lang): gold pairs} (BUCC)
    rules: dict = field(default_factory=dict)  # {(task, split): rule sentence}
    read: dict = field(default_factory=dict)  # {task: [relative paths]}


def rank(seed: int, tag: str, key) -> str:
    """The seeded hash that orders items: the same in any process and any row order."""
    return hashlib.sha256(f"{tag}|{seed}|{key}".encode()).hexdigest()


def digest(ids) -> str:
    """Short sha256 of a set of ids (recorded in the card)."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def item_groups(rows_by_lang: dict[str, list[dict]], fields: tuple[str, ...]) -> list[int]:
    """Group index per row position: positions sharing a normalised text are one item.

    Rows are aligned by position across languages (parallel sets) or there is one language.
    A union-find over ``(language, normalised text of any field)`` joins, e.g., the three
    XNLI hypotheses of one premise, and PAWS-X pairs that reuse a sentence.
    """
    n = len(next(iter(rows_by_lang.values())))
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict = {}
    for lang, rows in rows_by_lang.items():
        for i, row in enumerate(rows):
            for f in fields:
                value = row.get(f)
                text = normalise(" ".join(value) if isinstance(value, list) else value or "")
                if text:
                    j = first.setdefault((lang, text), i)
                    parent[find(i)] = find(j)
    return [find(i) for i in range(n)]


def take_groups(positions, groups, seed, tag, fraction) -> tuple[list[int], list[int]]:
    """Cut ``positions`` by whole groups: ``(held, rest)``, each in rank order.

    The lowest-ranked groups are held until they hold ``fraction`` of the positions.
    """
    ordered = sorted(positions, key=lambda i: (rank(seed, tag, groups[i]), i))
    target = round(fraction * len(ordered))
    held: list[int] = []
    held_groups: set = set()
    for i in ordered:
        if groups[i] in held_groups or len(held) < target:
            held_groups.add(groups[i])
            held.append(i)
    rest = [i for i in ordered if groups[i] not in held_groups]
    return held, rest


def _read(c: Ctx, made: Made, task: str, fmt: str, rel: str, lang: str) -> list[dict]:
    from xstilts.data.formats import FORMATS

    made.read.setdefault(task, []).append(rel)
    return FORMATS[fmt](c.root / rel, lang)


def _pick(rows: list[dict], positions: list[int], task: str) -> list[dict]:
    """Rows at ``positions`` with language-independent ids (translations share an id)."""
    return [{**rows[i], "id": f"{task}-{i}"} for i in positions]


_PARALLEL_RULE = (
    "rows aligned across languages; items = rows sharing a normalised text (any field, any "
    "language); items ranked by sha256('{tag}|{seed}|item'); the lowest-ranked half is part B "
    "(test, every language); of part A, the lowest-ranked 20% is the held-out dev, the rest "
    "train; each split keeps its first n items in rank order"
)


def _parallel(c: Ctx, made: Made, tag: str, fmt: str, path, langs: list[str]):
    """Read a row-aligned parallel set; return rows by language and its (B, A-dev, A-train).

    Each language keeps its own labels: PAWS-X re-labelled 32 of 2,000 German items whose
    translation changed the meaning, so labels are checked for alignment in XNLI only.
    """
    rows = {lang: _read(c, made, tag, fmt, path(lang), lang) for lang in langs}
    sizes = {len(r) for r in rows.values()}
    labels = {tuple(r["label"] for r in v) for v in rows.values()} if tag == "xnli" else {0}
    if len(sizes) != 1 or len(labels) != 1:
        raise ValueError(f"{tag}: the files of {', '.join(langs)} are not aligned by row")
    groups = item_groups(rows, ("text_a", "text_b"))
    test, part_a = take_groups(range(len(groups)), groups, c.seed, tag, TEST_FRACTION)
    dev, train = take_groups(part_a, groups, c.seed, tag + "-dev", DEV_FRACTION)
    return rows, test, dev, train


def _xnli_family(c: Ctx, made: Made) -> None:
    """The XNLI family: mnli (part A, English + translations), xnli (B test), mlm (A text)."""
    wanted = [c.langs.get(t, []) for t in ("xnli", "mnli", "mlm")]
    langs = sorted({"en", *[lang for ls in wanted for lang in ls]})
    rows, test, dev, train = _parallel(c, made, "xnli", "nli_tsv", RF.xnli, langs)
    n_test = c.size("xnli", "test") or len(test)
    if "xnli" in c.langs:
        made.tests["xnli"] = {
            lang: _pick(rows[lang], test[:n_test], "xnli") for lang in c.langs["xnli"]
        }
        made.pools[("xnli", "dev")] = {
            lang: _pick(rows[lang], dev, "xnli") for lang in c.langs["xnli"]
        }
        made.rules[("xnli", "test")] = made.rules[("xnli", "dev")] = _PARALLEL_RULE
    if "mnli" in c.langs:
        made.pools[("mnli", "train")] = {
            lang: _pick(rows[lang], train, "xnli") for lang in c.langs["mnli"]
        }
        made.pools[("mnli", "dev")] = {"en": _pick(rows["en"], dev, "xnli")}
        made.rules[("mnli", "train")] = made.rules[("mnli", "dev")] = _PARALLEL_RULE
    if "mlm" in c.langs:
        _mlm(c, made, rows, sorted(train + dev))
    for task in ("mnli", "mlm"):
        if task in c.langs:
            made.read[task] = made.read["xnli"]
    if "xnli" not in c.langs:
        made.read.pop("xnli")


def _mlm(c: Ctx, made: Made, rows: dict, part_a: list[int]) -> None:
    from xstilts.data.mlm_corpus import sample_corpus

    texts = {
        lang: list(dict.fromkeys(t for i in part_a for t in (rows[lang][i]["text_a"], rows[lang][i]["text_b"])))
        for lang in c.langs["mlm"]
    }  # fmt: skip
    mixed = sample_corpus(texts, total=c.mlm_size, alpha=0.3, seed=c.seed)
    made.pools[("mlm", "train")] = {
        lang: [r for r in mixed if r["lang"] == lang] for lang in c.langs["mlm"]
    }
    made.rules[("mlm", "train")] = (
        "unique premises and hypotheses of XNLI part A (train and dev items) per language, "
        "sampled to mlm_size with alpha = 0.3 (mlm_corpus.sample_corpus, seeded)"
    )


def _pawsx(c: Ctx, made: Made) -> None:
    langs = sorted({"en", *c.langs["pawsx"]})
    rows, test, dev, train = _parallel(c, made, "pawsx", "pawsx_tsv", RF.pawsx, langs)
    n_test = c.size("pawsx", "test") or len(test)
    made.tests["pawsx"] = {
        lang: _pick(rows[lang], test[:n_test], "pawsx") for lang in c.langs["pawsx"]
    }
    made.pools[("pawsx", "dev")] = {
        lang: _pick(rows[lang], dev, "pawsx") for lang in c.langs["pawsx"]
    }
    made.pools[("pawsx", "train")] = {"en": _pick(rows["en"], train, "pawsx")}
    for split in ("train", "dev", "test"):
        made.rules[("pawsx", split)] = _PARALLEL_RULE


def _ranked(rows: list[dict], seed: int, tag: str, fields=()) -> list[dict]:
    """Rows in seeded rank order (by item group when ``fields`` name the item's text)."""
    groups = item_groups({"x": rows}, fields) if fields else list(range(len(rows)))
    order = sorted(range(len(rows)), key=lambda i: (rank(seed, tag, groups[i]), i))
    return [rows[i] for i in order]


def _single(c: Ctx, task: str, rows: list[dict], fields: tuple, fraction: float):
    """Cut one language's rows by whole item: ``(held, rest)``, each in rank order."""
    groups = item_groups({"x": rows}, fields)
    held, rest = take_groups(range(len(rows)), groups, c.seed, task, fraction)
    return [rows[i] for i in held], [rows[i] for i in rest]


_RANK_RULE = "rows ranked by sha256('{task}|{seed}|item'); the first n in rank order"
_CUT_RULE = (
    "items (rows sharing a normalised text) ranked by sha256('{task}|{seed}|item'); the "
    "lowest-ranked {frac} of items form the {held}, the rest the {rest}; first n in rank order"
)


def _tagging(c: Ctx, made: Made, task: str) -> None:
    """PAN-X / UD-POS: English train and dev; tests (PAN-X: dev files as test stand-ins)."""
    path = RF.panx if task == "panx" else RF.udpos
    train = _read(c, made, task, "token_tag", path("train", "en"), "en")
    made.pools[(task, "train")] = {"en": _ranked(train, c.seed, task)}
    made.rules[(task, "train")] = _RANK_RULE
    tests = {}
    dev_en = _read(c, made, task, "token_tag", path("dev", "en"), "en")
    if task == "panx":  # dev-en is both the selection dev and the English test
        tests["en"], made.pools[(task, "dev")] = _single(
            c, task, dev_en, ("tokens",), TEST_FRACTION
        )
        made.rules[(task, "dev")] = _CUT_RULE.format(
            frac="half", held="English test", rest="dev", task="{task}", seed="{seed}"
        )
        made.pools[(task, "dev")] = {"en": made.pools[(task, "dev")]}
    else:
        made.pools[(task, "dev")] = {"en": _ranked(dev_en, c.seed, task)}
        made.rules[(task, "dev")] = _RANK_RULE
    split = "dev" if task == "panx" else "test"
    for lang in c.langs[task]:
        if lang not in tests:
            tests[lang] = _ranked(
                _read(c, made, task, "token_tag", path(split, lang), lang), c.seed, task
            )
    n = c.size(task, "test")
    made.tests[task] = {lang: rows[: n or len(rows)] for lang, rows in tests.items()}
    made.rules[(task, "test")] = _RANK_RULE + (
        " (other languages' dev files as test stand-ins; English: the test half of dev-en)"
        if task == "panx"
        else ""
    )


def _articles(path: Path) -> dict[str, str]:
    """Question id -> article title of a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return {
        qa["id"]: art.get("title", str(k))
        for k, art in enumerate(data)
        for p in art["paragraphs"]
        for qa in p["qas"]
    }


def _by_article(rows: list[dict], titles: dict, n: int, seed: int, tag: str) -> set[str]:
    """Ids of the lowest-ranked whole articles holding at least ``n`` questions (0 = all)."""
    order = sorted(set(titles.values()), key=lambda t: rank(seed, tag, t))
    count = {t: 0 for t in order}
    for r in rows:
        count[titles[r["id"]]] += 1
    keep, total = set(), 0
    for t in order:
        if n and total >= n:
            break
        keep.add(t)
        total += count[t]
    return {r["id"] for r in rows if titles[r["id"]] in keep}


_ARTICLE_RULE = (
    "whole articles ranked by sha256('{task}|{seed}|title'), kept until they hold at least n "
    "questions{same}"
)


def _qa_tests(c: Ctx, made: Made, task: str) -> None:
    """XQuAD (the same articles in every language) and MLQA dev (per language) tests."""
    path = RF.xquad if task == "xquad" else RF.mlqa
    n = c.size(task, "test")
    made.tests[task] = {}
    shared = None
    for lang in c.langs[task]:
        rows = _read(c, made, task, "squad_json", path(lang), lang)
        if task == "mlqa" or shared is None:  # XQuAD ids are the same in every language
            keep = _by_article(rows, _articles(c.root / path(lang)), n, c.seed, task)
            shared = keep
        made.tests[task][lang] = [
            r for r in rows if r["id"] in (keep if task == "mlqa" else shared)
        ]
    same = " (the same articles in every language)" if task == "xquad" else " (per language)"
    made.rules[(task, "test")] = _ARTICLE_RULE.format(task="{task}", seed="{seed}", same=same)


def _english_pair(c: Ctx, made: Made, task: str, fmt: str, rel: str, unit: str) -> None:
    """squad_v1 (TyDiQA-GoldP en train) / cosmosqa (valid.csv): train and dev by item."""
    rows = _read(c, made, task, fmt, rel, "en")
    dev, train = _single(c, task, rows, (unit,), DEV_FRACTION)
    made.pools[(task, "dev")] = {"en": dev}
    made.pools[(task, "train")] = {"en": train}
    rule = _CUT_RULE.format(
        frac="20%", held="dev split", rest="train split", task="{task}", seed="{seed}"
    )
    made.rules[(task, "dev")] = made.rules[(task, "train")] = rule + f" (an item: one {unit})"


def _tatoeba(c: Ctx, made: Made) -> None:
    from xstilts.data.formats import read_tatoeba

    n_test = c.size("tatoeba", "test")
    made.tests["tatoeba"], made.pools[("tatoeba", "dev")] = {}, {}
    for lang in c.langs["tatoeba"]:
        src, eng = RF.tatoeba(lang, "src"), RF.tatoeba(lang, "eng")
        made.read.setdefault("tatoeba", []).extend([src, eng])
        rows = _ranked(read_tatoeba(c.root / src, c.root / eng, lang), c.seed, f"tatoeba-{lang}")
        n = n_test or len(rows) // 2
        made.tests["tatoeba"][lang], made.pools[("tatoeba", "dev")][lang] = rows[:n], rows[n:]
    made.rules[("tatoeba", "test")] = (
        "pairs ranked by sha256('tatoeba-<lang>|{seed}|line'); the first n"
    )
    made.rules[("tatoeba", "dev")] = "the pairs after the test ones in the same rank order, first n"


def _bucc(c: Ctx, made: Made) -> None:
    from xstilts.data.formats import read_bucc
    from xstilts.data.loaders import subsample

    made.tests["bucc2018"] = {}
    for lang in c.langs["bucc2018"]:
        files = [RF.bucc(lang, side) for side in (lang, "en", "gold")]
        made.read.setdefault("bucc2018", []).extend(files)
        rows, gold = read_bucc(*(c.root / f for f in files), lang)
        test_gold = {g["src_id"] for g in gold if rank(c.seed, "bucc", g["src_id"]) < "8"}
        pairs = {"test": [g for g in gold if g["src_id"] in test_gold]}
        pairs["dev"] = [g for g in gold if g["src_id"] not in test_gold]
        half = {i: s for s, ps in pairs.items() for g in ps for i in (g["src_id"], g["trg_id"])}
        parts = {
            s: [
                r
                for r in rows
                if half.get(r["id"], "test" if rank(c.seed, "bucc", r["id"]) < "8" else "dev") == s
            ]
            for s in pairs
        }
        t_rows, t_gold = subsample(
            "bitext_mining",
            parts["test"],
            pairs["test"],
            c.size("bucc2018", "test") or len(rows),
            c.seed,
        )
        made.tests["bucc2018"][lang] = t_rows
        made.gold[("bucc2018", "test", lang)] = t_gold
        made.pools.setdefault(("bucc2018", "dev"), {})[lang] = parts["dev"]
        made.gold[("bucc2018", "dev", lang)] = pairs["dev"]
    made.rules[("bucc2018", "test")] = made.rules[("bucc2018", "dev")] = (
        "gold pairs split in halves by sha256('bucc|{seed}|src_id') (first hex digit < 8: "
        "test), their two sentences with them; other sentences by the same hash of their id; "
        "each half "
        "subsampled to n per side keeping n/2 gold pairs (loaders.subsample)"
    )


BUILDERS = {
    "xnli": _xnli_family,
    "pawsx": _pawsx,
    "panx": lambda c, m: _tagging(c, m, "panx"),
    "udpos": lambda c, m: _tagging(c, m, "udpos"),
    "xquad": lambda c, m: _qa_tests(c, m, "xquad"),
    "mlqa": lambda c, m: _qa_tests(c, m, "mlqa"),
    "squad_v1": lambda c, m: _english_pair(c, m, "squad_v1", "squad_json", RF.TYDIQA_EN_TRAIN, "context"),
    "cosmosqa": lambda c, m: _english_pair(c, m, "cosmosqa", "cosmosqa", RF.COSMOSQA_VALID, "context"),
    "commonsenseqa": lambda c, m: _english_pair(
        c, m, "commonsenseqa", "commonsenseqa_jsonl", RF.COMMONSENSEQA_DEV, "question"
    ),
    "bucc2018": _bucc,
    "tatoeba": _tatoeba,
}  # fmt: skip
# Slots built by another slot's builder (the XNLI family reads the XNLI files once).
BUILT_BY = {"mnli": "xnli", "mlm": "xnli"}


def slots(files) -> dict[str, list[str]]:
    """``{task: languages}`` from the data phase's planned ``(task, split, lang)`` files."""
    out: dict[str, list[str]] = {}
    for task, _split, lang in files:
        if lang not in out.setdefault(task, []):
            out[task].append(lang)
    return out


def _clean(made: Made, key, rows_by_lang: dict, cache: dict) -> tuple[dict, int]:
    """Drop, in every language, the pool rows that contain any guarded test text."""
    from xstilts.phases.data import guarded_tests

    guarded = guarded_tests(*key)
    ck = None if guarded is None else frozenset(guarded)
    if ck not in cache:
        tests: dict = {}
        for task, by_lang in made.tests.items():
            if guarded is None or task in guarded:
                for lang, rows in by_lang.items():
                    tests.setdefault(lang, []).extend(rows)
        cache[ck] = units_by_language(tests)
    bad = leaking_ids(rows_by_lang, cache[ck])
    return {
        lang: [r for r in rows if r["id"] not in bad] for lang, rows in rows_by_lang.items()
    }, len(bad)


def _cut(c: Ctx, made: Made, key, rows_by_lang: dict) -> dict:
    """Pool rows cut to the profile's size (first n in rank order; BUCC keeps its gold)."""
    task, split = key
    n = c.size(task, split) if task != "mlm" else 0
    if task != "bucc2018":
        return {lang: rows[: n or len(rows)] for lang, rows in rows_by_lang.items()}
    from xstilts.data.loaders import subsample

    out = {}
    for lang, rows in rows_by_lang.items():
        ids = {r["id"] for r in rows}
        gold = [g for g in made.gold[(task, split, lang)] if {g["src_id"], g["trg_id"]} <= ids]
        out[lang], made.gold[(task, split, lang)] = subsample(
            "bitext_mining", rows, gold, n or len(rows), c.seed
        )
    return out


def _record(task: str, rule: str, seed: int, rows_by_lang: dict) -> dict:
    """The card's record of one split: rule, seed, sizes per language, digest of the ids."""
    ids = {r["id"] for rows in rows_by_lang.values() for r in rows}
    for key, value in (("{seed}", str(seed)), ("{task}", task), ("{tag}", task)):
        rule = rule.replace(key, value)
    return {
        "rule": rule,
        "seed": seed,
        "sizes": {lang: len(rows) for lang, rows in rows_by_lang.items()},
        "ids_sha256": digest(ids),
    }


def build(p, out_root: Path) -> dict:
    """Write every planned split of a ``real-split`` data run; return the data cards.

    Args:
        p: The data run's parameters (``run_params.DataRunParams``).
        out_root: The dataset folder.

    Raises:
        RealSplitError: A needed file is absent from ``data.root`` (before any is read).
    """
    from xstilts.data.loaders import LICENCES
    from xstilts.phases.data import plan_files

    files = plan_files(p)
    langs = slots(files)
    RF.require(p.data["root"], langs)
    c = Ctx(Path(p.data["root"]), p.seed, langs, p.data, p.mlm_size)
    made = Made()
    for builder in dict.fromkeys(BUILT_BY.get(t, t) for t in langs):
        BUILDERS[builder](c, made)
    cards = {
        t: {"task": t, "source": f"real-split: {c.root}", "real": True,
            "licence": LICENCES.get(t, "unknown"), "stand_in": STAND_IN[t],
            "read_from": list(dict.fromkeys(made.read.get(t, []))), "splits": {},
            "skipped_as_test_text": {}}
        for t in langs
    }  # fmt: skip
    for task, by_lang in made.tests.items():
        for lang, rows in by_lang.items():
            store.write_split(out_root, task, "test", lang, rows)
            if (task, "test", lang) in made.gold:
                store.write_gold(out_root, task, "test", lang, made.gold[(task, "test", lang)])
        cards[task]["splits"]["test"] = _record(task, made.rules[(task, "test")], c.seed, by_lang)
    cache: dict = {}
    for key, pool in made.pools.items():
        wanted = {lang: rows for lang, rows in pool.items() if (*key, lang) in files}
        rows_by_lang, n_bad = _clean(made, key, wanted, cache)
        rows_by_lang = _cut(c, made, key, rows_by_lang)
        for lang, rows in rows_by_lang.items():
            store.write_split(out_root, *key, lang, rows)
            if (*key, lang) in made.gold:
                store.write_gold(out_root, *key, lang, made.gold[(*key, lang)])
        cards[key[0]]["splits"][key[1]] = _record(key[0], made.rules[key], c.seed, rows_by_lang)
        cards[key[0]]["skipped_as_test_text"][key[1]] = n_bad
    return cards
