"""Contract tests of the synthetic mini-XTREME generator (xstilts.data.synthetic)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from xstilts import xtreme
from xstilts.data import synthetic as syn

N = 60  # a multiple of 3, 4 and 5: block-balanced labels come out exactly uniform
LANGS = syn.LANGUAGES
SCRIPT_RE = {
    "ru": re.compile(r"[\u0400-\u04FF]"),
    "zh": re.compile(r"[\u4E00-\u9FFF]"),
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "hi": re.compile(r"[\u0900-\u097F]"),
}


def _langs(task):
    return ("en",) if task == "ccg" else LANGS


def _text_of(row):
    fields = ("text_a", "text_b", "context", "question", "text")
    return " ".join(
        [row.get(f, "") for f in fields] + row.get("tokens", []) + row.get("choices", [])
    )


def _check_row(task, row, lang):
    spec = xtreme.task(task)
    assert isinstance(row["id"], str) and row["lang"] == lang
    if spec.kind == "classification":
        assert isinstance(row["text_a"], str) and isinstance(row["text_b"], str)
        assert row["text_a"] and row["text_b"]
        assert row["label"] in spec.labels
    elif spec.kind == "multiple_choice":
        assert isinstance(row["context"], str) and row["question"]
        assert len(row["choices"]) == spec.num_choices
        assert len(set(row["choices"])) == spec.num_choices
        assert all(isinstance(c, str) and c for c in row["choices"])
        assert isinstance(row["label"], int) and 0 <= row["label"] < spec.num_choices
    elif spec.kind == "qa":
        ans = row["answers"]
        assert set(ans) == {"text", "answer_start"}
        assert len(ans["text"]) == len(ans["answer_start"]) <= 1
        for text, start in zip(ans["text"], ans["answer_start"]):
            assert text and row["context"][start : start + len(text)] == text
    elif spec.kind == "tagging":
        assert len(row["tokens"]) == len(row["tags"]) > 0
        assert all(isinstance(t, str) and t and " " not in t for t in row["tokens"])
        allowed = {"udpos": set(xtreme.UPOS_TAGS), "panx": set(xtreme.PANX_TAGS)}.get(task)
        assert allowed is None or set(row["tags"]) <= allowed
    elif spec.kind == "mlm":
        assert isinstance(row["text"], str) and row["text"]


@pytest.mark.parametrize("task", syn.TASKS_SUPPORTED)
def test_schema_every_task_and_language(task):
    for lang in _langs(task):
        rows = syn.generate(task, "dev", lang, N, seed=3)
        assert len(rows) == N
        for row in rows:
            _check_row(task, row, lang)


@pytest.mark.parametrize("task", ["xnli", "squad_v2", "udpos", "hellaswag"])
def test_deterministic_and_seed_sensitive(task):
    a = syn.generate(task, "test", "de", 30, seed=1)
    assert a == syn.generate(task, "test", "de", 30, seed=1)
    assert a != syn.generate(task, "test", "de", 30, seed=2)
    assert syn.generate(task, "test", "de", 10, seed=1) == a[:10]


@pytest.mark.parametrize("task", ["mnli", "xnli", "pawsx", "xquad", "panx", "cosmosqa"])
def test_splits_never_share_items(task):
    ids = {s: {r["id"] for r in syn.generate(task, s, "en", 200)} for s in syn.SPLITS}
    assert not ids["train"] & ids["dev"] and not ids["train"] & ids["test"]
    assert not ids["dev"] & ids["test"]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("mnli", {"entailment": 1 / 3, "neutral": 1 / 3, "contradiction": 1 / 3}),
        ("anli", {"entailment": 1 / 3, "neutral": 1 / 3, "contradiction": 1 / 3}),
        ("xnli", {"entailment": 1 / 3, "neutral": 1 / 3, "contradiction": 1 / 3}),
        ("qqp", {"0": 0.5, "1": 0.5}),
        ("pawsx", {"0": 0.5, "1": 0.5}),
        ("squad_v2", {"answerable": 2 / 3, "unanswerable": 1 / 3}),
        ("squad_v1", {"answerable": 1.0}),
        ("hellaswag", {f"choice_{i}": 1 / 4 for i in range(4)}),
        ("commonsenseqa", {f"choice_{i}": 1 / 5 for i in range(5)}),
    ],
)
def test_label_balance(task, expected):
    got = syn.label_balance(syn.generate(task, "train", "en", 600))
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=0.01)


@pytest.mark.parametrize("task", ["xnli", "pawsx", "xquad", "mlqa", "udpos", "panx", "cosmosqa"])
def test_parallel_dev_sets_share_ids_and_labels(task):
    def key(row):
        if "answers" in row:
            return bool(row["answers"]["text"])
        if "tags" in row:  # entity/tag *types* per sentence are language-specific in count
            return task
        return row["label"]

    ref = syn.generate(task, "dev", "en", N)
    for lang in LANGS[1:]:
        rows = syn.generate(task, "dev", lang, N)
        assert [r["id"] for r in rows] == [r["id"] for r in ref]
        assert [key(r) for r in rows] == [key(r) for r in ref]


def test_panx_entities_are_parallel_and_multi_token():
    def entity_types(tags):
        return [t[2:] for t in tags if t.startswith("B-")]

    ref = syn.generate("panx", "test", "en", 200)
    for lang in ("de", "ru", "zh", "ar", "hi"):
        rows = syn.generate("panx", "test", lang, 200)
        assert [entity_types(r["tags"]) for r in rows] == [entity_types(r["tags"]) for r in ref]
    multi = Counter(t[2:] for r in ref for t in r["tags"] if t.startswith("I-"))
    assert multi["PER"] and multi["ORG"] and multi["LOC"]


def test_iob2_is_well_formed():
    for lang in LANGS:
        for row in syn.generate("panx", "dev", lang, N):
            prev = "O"
            for tag in row["tags"]:
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:], row
                prev = tag


@pytest.mark.parametrize("lang", ["ru", "zh", "ar", "hi"])
def test_non_latin_scripts(lang):
    assert syn.SCRIPTS[lang] in {"Cyrillic", "Han", "Arabic", "Devanagari"}
    for task in ("xnli", "pawsx", "udpos", "panx", "xquad", "hellaswag", "mlm"):
        for row in syn.generate(task, "test", lang, 20):
            assert SCRIPT_RE[lang].search(_text_of(row)), (task, row)


def test_language_inventory():
    assert syn.LANGUAGES[0] == "en" and len(syn.LANGUAGES) >= 7
    assert sum(syn.SCRIPTS[lang] != "Latin" for lang in syn.LANGUAGES) >= 2


def test_translated_train_rows_are_flagged_translations_of_english():
    en = syn.generate("mnli", "train", "en", 30)
    de = syn.generate("mnli", "train", "de", 30)
    assert not any(r.get("translated") for r in en)
    assert all(r["translated"] is True for r in de)
    assert [r["id"] for r in de] == [r["id"] for r in en]
    assert [r["label"] for r in de] == [r["label"] for r in en]
    assert de == syn.translate_rows(en, "de")
    assert not any(r.get("translated") for r in syn.generate("mnli", "dev", "de", 10))
    assert not any(r.get("translated") for r in syn.generate("mlm", "train", "de", 10))


def test_paraphrase_pairs_differ_and_include_word_order_swaps():
    rows = syn.generate("pawsx", "train", "en", 400)
    assert all(r["text_a"] != r["text_b"] for r in rows)

    def bag(text):
        return sorted(re.findall(r"\w+", text))

    same_bag = [r for r in rows if bag(r["text_a"]) == bag(r["text_b"])]
    assert {r["label"] for r in same_bag} == {"0", "1"}


def test_pawsx_labels_follow_meaning_not_word_order():
    from xstilts.data import lexicon

    surnames = {s[0] for s in lexicon.SURNAMES}

    def facts(text):  # "A bought X and B sold Y." -> {"A bought X", "B sold Y"}
        clauses = text.rstrip(".").split(" and ")
        return {" ".join(w for w in c.split() if w not in surnames) for c in clauses}

    rows = syn.generate("pawsx", "test", "en", 400) + syn.generate("qqp", "test", "en", 400)
    conj = [r for r in rows if " and " in r["text_a"]]
    for r in conj:
        assert (facts(r["text_a"]) == facts(r["text_b"])) == (r["label"] == "1"), r
    scale = {f[0]: (i, k) for i, pair in enumerate(lexicon.CMP_PAIRS) for k, f in enumerate(pair)}

    def order(text):  # "(Is) X is taller than Y" -> (scale, greater, smaller)
        m = re.search(r"(\w+)(?: \w+)? (?:is )?(\w+) than (\w+)", text.replace("Is ", ""))
        x, adj, y = m.groups()
        i, k = scale[adj]
        return (i, x, y) if k == 0 else (i, y, x)

    cmp = [r for r in rows if " than " in r["text_a"]]
    assert len(conj) > 80 and len(cmp) > 200
    for r in cmp:
        assert (order(r["text_a"]) == order(r["text_b"])) == (r["label"] == "1"), r


def test_nli_negation_is_not_a_label_giveaway():
    rows = syn.generate("mnli", "train", "en", 900)
    neg = Counter(r["label"] for r in rows if " not " in f" {r['text_b']} ")
    assert all(neg[label] >= 30 for label in xtreme.NLI_LABELS), neg


def test_qa_answers_are_entities_in_context():
    for lang in LANGS:
        for row in syn.generate("squad_v2", "dev", lang, N):
            if row["answers"]["text"]:
                assert row["answers"]["text"][0] in row["context"]


def test_ccg_is_english_only_and_tagged():
    rows = syn.generate("ccg", "train", "en", 30)
    assert all("." in r["tags"] for r in rows)
    with pytest.raises(ValueError, match="ccg"):
        syn.generate("ccg", "train", "de", 1)


def test_bad_arguments_fail_with_allowed_values():
    with pytest.raises(ValueError, match="supported"):
        syn.generate("bucc2018", "test", "de", 1)
    with pytest.raises(ValueError, match="split"):
        syn.generate("xnli", "validation", "en", 1)
    with pytest.raises(ValueError, match="available"):
        syn.generate("xnli", "test", "sw", 1)


def test_card():
    for task in syn.TASKS_SUPPORTED:
        card = syn.card(task)
        assert card["source"] == "xstilts synthetic generator"
        assert card["licence"] == "MIT (generated)" and card["real"] is False
        assert card["languages"] == list(_langs(task)) and card["description"]
