"""The loaders on the real XTREME files (``paths.xtreme_real()``, ``XSTILTS_XTREME_REAL``).

The folder is never part of the repository. Each test skips when the folder, or a file it
needs, is absent. Expected counts are the ones the folder's README states for each file.
"""

import csv
import json
import os
from collections import Counter

import pytest

from xstilts import paths
from xstilts.data import loaders
from xstilts.data.formats import DataFormatError, LabelsStrippedError
from xstilts.data.loaders import load
from xstilts.xtreme import PANX_TAGS, UPOS_TAGS

from .test_loaders import check_schema

REAL = paths.xtreme_real()


def need(*rel: str):
    """Skip the test unless every named file (relative to the real folder) exists."""
    for r in rel:
        if not (REAL / r).exists():
            pytest.skip(f"real XTREME data absent: {REAL / r}")


def no_cr(rows):
    """Assert that no string field (labels included) keeps a carriage return."""
    for r in rows:
        for v in r.values():
            items = v if isinstance(v, list) else [v]
            assert not any(isinstance(x, str) and "\r" in x for x in items), r["id"]


@pytest.mark.parametrize("lang", ["en", "de", "sw", "zh"])
def test_xnli_dev_crlf_rows_labels_balanced(lang):
    need(f"xnli/dev-{lang}.tsv")
    rows = load("xnli", "dev", lang, REAL)
    check_schema("xnli", rows, lang)
    no_cr(rows)
    assert len(rows) == 2490
    assert Counter(r["label"] for r in rows) == {
        "entailment": 830,
        "neutral": 830,
        "contradiction": 830,
    }


def test_xnli_dev_equals_a_csv_reader():
    # XTREME writes these files with csv.writer (tab, CRLF): csv.reader is the exact inverse.
    need("xnli/dev-de.tsv")
    with open(REAL / "xnli/dev-de.tsv", encoding="utf-8", newline="") as f:
        want = [row for row in csv.reader(f, delimiter="\t") if row]
    got = load("xnli", "dev", "de", REAL)
    assert [(r["text_a"], r["text_b"]) for r in got] == [(a, b) for a, b, _ in want]


@pytest.mark.parametrize("lang,positives", [("de", 831), ("en", 863), ("ja", 854), ("zh", 853)])
def test_pawsx_dev(lang, positives):
    need(f"pawsx/dev-{lang}.tsv")
    rows = load("pawsx", "dev", lang, REAL)
    check_schema("pawsx", rows, lang)
    no_cr(rows)
    assert len(rows) == 2000 and sum(r["label"] == "1" for r in rows) == positives


@pytest.mark.parametrize("lang,positives", [("de", 895), ("zh", 894)])
def test_pawsx_labelled_test_is_in_xtreme_test_order(lang, positives):
    need(f"pawsx-labelled-test/test-{lang}.tsv", f"pawsx/test-{lang}.tsv")
    rows = load("pawsx", "test", lang, REAL / "pawsx-labelled-test")
    check_schema("pawsx", rows, lang)
    no_cr(rows)
    assert len(rows) == 2000 and sum(r["label"] == "1" for r in rows) == positives
    with open(REAL / f"pawsx/test-{lang}.tsv", encoding="utf-8", newline="") as f:
        unlabelled = [tuple(row) for row in csv.reader(f, delimiter="\t") if row]
    assert [(r["text_a"], r["text_b"]) for r in rows] == unlabelled


def check_tagging_file(task, split, lang, sentences, tagset, train_tokens):
    """One XTREME tagging tsv: schema, no CR, sentence count, tag set, train token count."""
    need(f"{task}/{split}-{lang}.tsv")
    rows = load(task, split, lang, REAL)
    check_schema(task, rows, lang)
    no_cr(rows)
    assert len(rows) == sentences
    assert {t for r in rows for t in r["tags"]} <= set(tagset)
    if split == "train":
        assert sum(len(r["tokens"]) for r in rows) == train_tokens


@pytest.mark.parametrize(
    "split,lang,sentences", [("train", "en", 20000), ("dev", "de", 10000), ("dev", "sw", 1000)]
)
def test_panx(split, lang, sentences):
    check_tagging_file("panx", split, lang, sentences, PANX_TAGS, train_tokens=160394)


@pytest.mark.parametrize(
    "split,lang,sentences",
    [("train", "en", 21253), ("dev", "en", 3974), ("test", "en", 5440), ("test", "ar", 1680),
     ("test", "th", 1000), ("test", "zh", 3455)],
)  # fmt: skip
def test_udpos_xtreme_r_layout(split, lang, sentences):
    check_tagging_file("udpos", split, lang, sentences, UPOS_TAGS, train_tokens=375194)


@pytest.mark.parametrize("lang", ["en", "ar", "de", "ro", "th", "zh"])
def test_xquad_labelled_originals(lang):
    need(f"xquad/xquad.{lang}.json")
    rows = load("xquad", "test", lang, REAL)
    check_schema("xquad", rows, lang)
    assert len(rows) == 1190 and all(r["answers"]["text"] for r in rows)
    for r in rows:
        start, text = r["answers"]["answer_start"][0], r["answers"]["text"][0]
        assert r["context"][start : start + len(text)] == text


@pytest.mark.parametrize("lang,questions", [("en", 1148), ("es", 500), ("zh", 504)])
def test_mlqa_dev(lang, questions):
    name = f"mlqa/MLQA_V1/dev/dev-context-{lang}-question-{lang}.json"
    need(name)
    rows = load("mlqa", "dev", lang, REAL)
    check_schema("mlqa", rows, lang)
    assert len(rows) == questions and all(r["question_lang"] == lang for r in rows)
    assert all(r["answers"]["text"] for r in rows)


def test_tydiqa_english_train_under_xtremes_name():
    need("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json")
    rows = load("tydiqa", "train", "en", REAL)
    check_schema("tydiqa", rows, "en")
    assert len(rows) == 3696 and all(r["answers"]["text"] for r in rows)


def test_bucc_zh_dev_gold_ids_all_found():
    need("bucc2018/zh-en.dev.zh", "bucc2018/zh-en.dev.en", "bucc2018/zh-en.dev.gold")
    rows = load("bucc2018", "dev", "zh", REAL)
    gold = loaders.load_bucc_gold("dev", "zh", REAL)
    check_schema("bucc2018", rows, "zh")
    no_cr(rows)
    sides = Counter(r["side"] for r in rows)
    assert sides == {"src": 8624, "trg": 13589} and len(gold) == 257
    ids = {side: {r["id"] for r in rows if r["side"] == side} for side in sides}
    assert all(g["src_id"] in ids["src"] and g["trg_id"] in ids["trg"] for g in gold)


def test_bucc_without_gold_names_the_training_gold_release(tmp_path):
    # XTREME's test split is BUCC's training split with its .gold deleted: link the dev text
    # under the test name, as download_data.sh leaves it.
    need("bucc2018/zh-en.dev.zh", "bucc2018/zh-en.dev.en")
    (tmp_path / "bucc2018").mkdir()
    for ext in ("zh", "en"):
        os.symlink(REAL / f"bucc2018/zh-en.dev.{ext}", tmp_path / f"bucc2018/zh-en.test.{ext}")
    with pytest.raises(LabelsStrippedError, match="training-gold") as e:
        loaders.load_bucc_gold("test", "zh", tmp_path)
    assert "zh-en.test.gold" in str(e.value) and "\n" not in str(e.value)
    # The release the error names, unpacked beside it (<l>-en/<l>-en.training.*), is read.
    (tmp_path / "bucc2018/zh-en").mkdir()
    for ext in ("zh", "en", "gold"):
        os.symlink(
            REAL / f"bucc2018/zh-en.dev.{ext}", tmp_path / f"bucc2018/zh-en/zh-en.training.{ext}"
        )
    assert len(loaders.load_bucc_gold("test", "zh", tmp_path)) == 257


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_tatoeba_reads_laser_originals_in_gold_order():
    need("tatoeba-laser", "tatoeba")
    total = 0
    for lang, l3 in loaders.TATOEBA_LANG3.items():
        if lang == "en" or not (REAL / f"tatoeba-laser/tatoeba.{l3}-eng.{l3}").exists():
            continue
        rows = load("tatoeba", "test", lang, REAL)  # both copies there: LASER's must win
        check_schema("tatoeba", rows, lang)
        no_cr(rows)
        eng = [ln.strip() for ln in _lines(REAL / f"tatoeba-laser/tatoeba.{l3}-eng.eng")]
        assert [r["trg"] for r in rows] == eng  # line i translates line i
        xtreme = REAL / f"tatoeba/{lang}-en"
        if xtreme.with_suffix(".en").exists():
            # XTREME's copy: the same non-English side, the English side sorted.
            assert [r["src"] for r in rows] == _lines(xtreme.with_suffix(f".{lang}"))
            assert sorted(eng) == _lines(xtreme.with_suffix(".en"))
            assert len(eng) < 3 or eng != sorted(eng)
        total += len(rows)
    if total == 0:
        pytest.skip("no LASER Tatoeba pair present")
    if len(list((REAL / "tatoeba-laser").glob("tatoeba.*-eng.eng"))) == 36:
        assert total == 31692


def test_tatoeba_sorted_copy_alone_is_refused_naming_laser(tmp_path):
    need("tatoeba/ja-en.ja", "tatoeba/ja-en.en")
    (tmp_path / "tatoeba").mkdir()
    for ext in ("ja", "en"):
        os.symlink(REAL / f"tatoeba/ja-en.{ext}", tmp_path / f"tatoeba/ja-en.{ext}")
    with pytest.raises(DataFormatError, match=r"sorted .*tatoeba\.jpn-eng\.\{jpn,eng\}") as e:
        load("tatoeba", "test", "ja", tmp_path)
    assert "\n" not in str(e.value)


# task, split, lang, file that XTREME wrote without labels, words the error must contain
UNLABELLED = [
    ("xnli", "test", "de", "xnli/test-de.tsv", "XNLI-1.0"),
    ("xnli", "test", "sw", "xnli/test-sw.tsv", "XNLI-1.0"),
    ("pawsx", "test", "zh", "pawsx/test-zh.tsv", "x-final"),
    ("panx", "test", "sw", "panx/test-sw.tsv", "PAN-X"),
    ("panx", "test", "en", "panx/test-en.tsv", "PAN-X"),
    ("tydiqa", "test", "sw", "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json", "GoldP dev"),
]


@pytest.mark.parametrize("task,split,lang,rel,release", UNLABELLED)
def test_unlabelled_xtreme_files_name_the_labelled_release(task, split, lang, rel, release):
    need(rel)
    with pytest.raises(LabelsStrippedError, match="labelled") as e:
        load(task, split, lang, REAL)
    message = str(e.value)
    assert release in message and str(REAL / rel) in message and "\n" not in message


@pytest.mark.parametrize(
    "task,lang,unlabelled,labelled,fixture,n",
    [("xnli", "zh", "xnli/test-zh.tsv", "xnli/XNLI-1.0/xnli.test.tsv",
      "xnli/XNLI-1.0/xnli.dev.tsv", 2),
     ("pawsx", "de", "pawsx/test-de.tsv", "pawsx/x-final/de/test_2k.tsv",
      "pawsx/x-final/de/dev_2k.tsv", 2)],
)  # fmt: skip
def test_labelled_release_beside_xtremes_files_wins(
    tmp_path, task, lang, unlabelled, labelled, fixture, n
):
    # The fix the error names (unpack the labelled release into the same folder) must work
    # without deleting XTREME's unlabelled file; the labelled rows are a fixture in its format.
    need(unlabelled)
    for rel, src in (
        (unlabelled, REAL / unlabelled),
        (labelled, paths.FIXTURES / "xtreme" / fixture),
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, tmp_path / rel)
    rows = load(task, "test", lang, tmp_path)
    check_schema(task, rows, lang)
    assert len(rows) == n


def _blank_answers(src, dst):
    # XTREME's remove_qa_test_annotations form: every answer {"answer_start": 0, "text": ""}.
    data = json.loads(src.read_text(encoding="utf-8"))
    for article in data["data"]:
        for par in article["paragraphs"]:
            for qa in par["qas"]:
                qa["answers"] = [{"answer_start": 0, "text": ""}]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "task,rel,blanked,release",
    [("xquad", "xquad/xquad.de.json", "xquad/xquad.de.json", "google-deepmind/xquad"),
     ("mlqa", "mlqa/MLQA_V1/dev/dev-context-de-question-de.json",
      "mlqa/MLQA_V1/test/test-context-de-question-de.json", "MLQA_V1.zip")],
)  # fmt: skip
def test_blanked_qa_names_the_labelled_release(tmp_path, task, rel, blanked, release):
    need(rel)
    _blank_answers(REAL / rel, tmp_path / blanked)
    with pytest.raises(LabelsStrippedError, match="remove_qa_test_annotations") as e:
        load(task, "test", "de", tmp_path)
    assert release in str(e.value) and "\n" not in str(e.value)


def test_anli_dev_from_the_annotated_csvs(tmp_path):
    need(*(f"anli/ANLI_analysis_r{r}_dev.csv" for r in (1, 2, 3)))
    # ANLI+ dev adds MNLI and SNLI dev, absent from the real folder: take the fixtures. The
    # anli/ folder is real (files linked one by one) because "../mnli" must resolve in tmp.
    (tmp_path / "anli").mkdir()
    for r in (1, 2, 3):
        name = f"ANLI_analysis_r{r}_dev.csv"
        os.symlink(REAL / "anli" / name, tmp_path / "anli" / name)
    for task in ("mnli", "snli"):
        os.symlink(paths.FIXTURES / "xtreme" / task, tmp_path / task)
    rows = load("anli", "dev", "en", tmp_path)
    check_schema("anli", rows, "en")
    no_cr([{"id": r["id"], "label": r["label"]} for r in rows])
    per_round = Counter(r["id"].split(":")[0] for r in rows)
    assert [per_round[str(k)] for k in range(3)] == [1000, 1000, 1198]
    r3 = Counter(r["label"] for r in rows if r["id"].startswith("2:"))
    assert r3 == {"entailment": 402, "neutral": 400, "contradiction": 396}


def test_cosmosqa_valid_csv():
    need("cosmosqa/valid.csv")
    rows = load("cosmosqa", "dev", "en", REAL)
    check_schema("cosmosqa", rows, "en")
    no_cr(rows)
    assert len(rows) == 2985
    assert Counter(r["label"] for r in rows) == {0: 744, 1: 729, 2: 761, 3: 751}


def test_commonsenseqa_hf_layout_dev():
    need("commonsenseqa/dev_rand_split.jsonl")
    rows = load("commonsenseqa", "dev", "en", REAL)
    check_schema("commonsenseqa", rows, "en")
    assert len(rows) == 1221 and len({r["id"] for r in rows}) == 1221
    assert all(len(r["choices"]) == 5 for r in rows)
    assert Counter("ABCDE"[r["label"]] for r in rows) == {
        "A": 239,
        "B": 255,
        "C": 241,
        "D": 251,
        "E": 235,
    }


def test_materialize_a_real_task(tmp_path):
    need("panx/dev-sw.tsv", "panx/dev-hi.tsv")
    card = loaders.materialize("panx", "dev", ["sw", "hi"], REAL, tmp_path)
    assert card["sizes"] == {"sw": 1000, "hi": 1000} and card["missing"] == []
    assert (tmp_path / "panx/dev/sw.jsonl").read_text(encoding="utf-8").count("\n") == 1000


def test_absent_folder_skips(monkeypatch, tmp_path):
    # The location helper follows the override, so a clone without the folder skips cleanly.
    monkeypatch.setenv("XSTILTS_XTREME_REAL", str(tmp_path / "nowhere"))
    assert paths.xtreme_real() == tmp_path / "nowhere"
    assert not paths.xtreme_real().exists()


@pytest.mark.parametrize("task,rel", [("udpos", "udpos/test-el.tsv"), ("panx", "panx/dev-sw.tsv")])
def test_tokens_only_tagging_file_names_the_labelled_release(tmp_path, task, rel):
    # XTREME writes UD-POS and PAN-X test files one token a line, tags dropped: made here from
    # a labelled real file by dropping its tag column.
    need(rel)
    lang = rel.split("-")[-1].removesuffix(".tsv")
    lines = (REAL / rel).read_text(encoding="utf-8").splitlines()
    out = tmp_path / task / f"test-{lang}.tsv"
    out.parent.mkdir()
    out.write_text("\n".join(ln.split("\t")[0] for ln in lines) + "\n", encoding="utf-8")
    with pytest.raises(LabelsStrippedError, match="token without tag") as e:
        load(task, "test", lang, tmp_path)
    assert loaders.LABELLED_RELEASE[task] in str(e.value) and "\n" not in str(e.value)
