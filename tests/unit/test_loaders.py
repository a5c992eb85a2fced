"""Official-format readers on small fixtures in each format (tests/fixtures/xtreme/)."""

import json
import subprocess
import sys
import time

import pytest

import xstilts  # noqa: F401  (sets the offline switches)
from xstilts import paths
from xstilts.data import formats, loaders, mlm_corpus
from xstilts.data.loaders import DataFormatError, DataSourceError, load
from xstilts.xtreme import NLI_LABELS, TASKS, UPOS_TAGS

ROOT = paths.FIXTURES / "xtreme"

KIND_FIELDS = {
    "classification": {"text_a": str, "text_b": str, "label": str},
    "multiple_choice": {"context": str, "question": str, "choices": list, "label": int},
    "qa": {"context": str, "question": str, "answers": dict},
    "tagging": {"tokens": list, "tags": list},
    "bitext_retrieval": {"src": str, "trg": str},
    "bitext_mining": {"side": str, "text": str},
    "mlm": {"text": str},
}

# (task, split, lang, expected row count) for every fixture
CASES = [
    ("xnli", "test", "de", 3),
    ("xnli", "dev", "zh", 2),
    ("xnli", "dev", "ar", 1),
    ("mnli", "train", "en", 3),
    ("mnli", "train", "de", 2),
    ("mnli", "dev", "en", 1),
    ("anli", "dev", "en", 5),
    ("pawsx", "dev", "de", 2),
    ("pawsx", "test", "ja", 2),
    ("qqp", "dev", "en", 2),
    ("udpos", "test", "es", 2),
    ("udpos", "dev", "hi", 1),
    ("panx", "dev", "de", 2),
    ("panx", "dev", "ar", 1),
    ("ccg", "dev", "en", 2),
    ("squad_v1", "dev", "en", 2),
    ("squad_v1", "train", "de", 1),
    ("squad_v2", "train", "en", 2),
    ("xquad", "test", "zh", 2),
    ("mlqa", "dev", "de", 1),
    ("tydiqa", "test", "ar", 1),
    ("tydiqa", "train", "en", 1),
    ("bucc2018", "dev", "de", 6),
    ("tatoeba", "test", "ja", 3),
    ("hellaswag", "dev", "en", 2),
    ("hellaswag", "train", "de", 1),
    ("cosmosqa", "dev", "en", 1),
    ("cosmosqa", "train", "en", 1),
    ("commonsenseqa", "dev", "en", 2),
]


def check_schema(task, rows, lang):
    kind = TASKS[task].kind
    want = {"id": str, "lang": str, **KIND_FIELDS[kind]}
    extra = {"question_lang"} if task == "mlqa" else set()
    for r in rows:
        assert set(r) - extra == set(want), (task, sorted(r))
        for key, typ in want.items():
            assert isinstance(r[key], typ), (task, key, r[key])
        assert r["lang"] == lang
        if kind == "classification":
            labels = TASKS[task].labels
            assert r["label"] in labels, r["label"]
        if kind == "tagging":
            assert len(r["tokens"]) == len(r["tags"]) > 0
        if kind == "multiple_choice":
            assert 0 <= r["label"] < len(r["choices"])
        if kind == "qa":
            a = r["answers"]
            assert set(a) == {"text", "answer_start"}
            for text, start in zip(a["text"], a["answer_start"], strict=True):
                assert r["context"][start : start + len(text)] == text
    assert len({r["id"] for r in rows}) == len(rows), "ids must be unique"


@pytest.mark.parametrize(("task", "split", "lang", "n"), CASES)
def test_every_fixture_loads_into_the_schema(task, split, lang, n):
    rows = load(task, split, lang, ROOT)
    assert len(rows) == n
    check_schema(task, rows, lang)


def test_xnli_formats_map_labels_and_filter_languages():
    # XTREME 3-column file, second row written by csv.writer with quoting
    de = load("xnli", "test", "de", ROOT)
    assert [r["label"] for r in de] == ["entailment", "contradiction", "neutral"]
    assert de[1]["text_a"] == 'Sie sagte: "Ich komme morgen."'
    # XNLI 1.0 multi-column: only the requested language, "contradictory" -> contradiction
    zh = load("xnli", "dev", "zh", ROOT)
    assert [r["label"] for r in zh] == ["neutral", "contradiction"]
    assert zh[0]["text_a"] == "他昨天买了一辆新车。" and zh[0]["id"] == "3"
    assert load("xnli", "dev", "en", ROOT)[0]["label"] == "contradiction"


def test_translate_train_and_nli_sources():
    de = load("mnli", "train", "de", ROOT)  # XTREME XNLI-Translated/en-de-translated.tsv
    assert [r["label"] for r in de] == ["entailment", "contradiction"]
    assert de[0]["text_a"] == "Ich habe das Buch gestern gelesen."
    en = load("mnli", "train", "en", ROOT)  # GLUE train.tsv: raw quotes kept
    assert en[0]["text_a"] == 'The old man walked slowly to the "harbour".'
    assert en[0]["id"] == "100e"
    # MultiNLI jsonl: the no-consensus "-" pair is dropped
    assert [r["id"] for r in load("mnli", "dev", "en", ROOT)] == ["63735n"]
    # ANLI+ = ANLI R1-R3 (e/n/c) + MNLI + SNLI, ids kept unique
    anli = load("anli", "dev", "en", ROOT)
    assert [r["label"] for r in anli[:3]] == ["contradiction", "entailment", "neutral"]
    assert anli[-1]["text_b"] == "Two woman are holding packages."
    assert all(r["label"] in NLI_LABELS for r in anli)


def test_pawsx_qqp():
    de = load("pawsx", "dev", "de", ROOT)
    assert [(r["id"], r["label"]) for r in de] == [("1", "1"), ("2", "0")]
    assert load("pawsx", "test", "ja", ROOT)[1]["text_b"] == "彼女は大阪から京都へ移った。"
    qqp = load("qqp", "dev", "en", ROOT)  # the malformed GLUE line is skipped
    assert [(r["id"], r["label"]) for r in qqp] == [("201359", "1"), ("263843", "0")]


def test_conllu_skips_multiword_ranges_and_empty_nodes():
    es = load("udpos", "test", "es", ROOT)
    assert es[0]["id"] == "es-test-001"
    assert es[0]["tokens"] == ["Vive", "cerca", "de", "el", "río", "."]  # not "del", not 5.1
    assert es[0]["tags"] == ["VERB", "ADV", "ADP", "DET", "NOUN", "PUNCT"]
    assert all(t in UPOS_TAGS for r in es for t in r["tags"])
    assert load("udpos", "dev", "hi", ROOT)[0]["tokens"] == ["राम", "घर", "गया", "।"]


def test_panx_prefix_stripped_and_ccg():
    de = load("panx", "dev", "de", ROOT)
    assert de[0]["tokens"] == ["Angela", "Merkel", "besuchte", "Paris", "."]
    assert de[0]["tags"] == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    assert de[1]["tokens"][-1] == "10:30"  # only the "de:" prefix goes, inner colons stay
    assert load("panx", "dev", "ar", ROOT)[0]["tokens"][1] == "نجيب"
    ccg = load("ccg", "dev", "en", ROOT)
    assert ccg[0]["tags"][2] == "(S[dcl]\\NP)/(S[b]\\NP)" and ccg[1]["tokens"] == ["It", "rains"]


def test_squad_offsets_and_impossible():
    v1 = load("squad_v1", "dev", "en", ROOT)
    assert v1[0]["answers"] == {
        "text": ["Brazil, Peru and Colombia", "Brazil"],
        "answer_start": [31, 31],
    }
    assert v1[1]["answers"]["answer_start"] == [64, 70]
    v2 = load("squad_v2", "train", "en", ROOT)
    assert v2[0]["answers"] == {"text": ["1911"], "answer_start": [71]}
    assert v2[1]["answers"] == {"text": [], "answer_start": []}  # is_impossible
    zh = load("xquad", "test", "zh", ROOT)
    assert zh[0]["answers"] == {"text": ["约6300公里"], "answer_start": [13]}


def test_mlqa_keeps_question_language_and_tydiqa_splits_by_id():
    same = load("mlqa", "dev", "de", ROOT)[0]
    cross = load("mlqa", "dev", "de", ROOT, question_lang="en")[0]
    assert (same["lang"], same["question_lang"]) == ("de", "de")
    assert (cross["lang"], cross["question_lang"]) == ("de", "en")
    assert cross["question"] == "When was Cologne Cathedral completed?"
    assert cross["answers"] == {"text": ["1880"], "answer_start": [21]}
    assert [r["id"] for r in load("tydiqa", "train", "sw", ROOT)] == ["swahili-987654321-0"]
    assert load("tydiqa", "test", "ar", ROOT)[0]["answers"]["text"] == ["القاهرة"]


def test_bucc_and_tatoeba():
    rows = load("bucc2018", "dev", "de", ROOT)
    assert [r["side"] for r in rows] == ["src"] * 3 + ["trg"] * 3
    assert rows[0] == {
        "id": "de-000000001",
        "lang": "de",
        "side": "src",
        "text": "Die Katze schläft auf dem Sofa.",
    }
    gold = loaders.load_bucc_gold("dev", "de", ROOT)
    assert gold == [
        {"src_id": "de-000000001", "trg_id": "en-000000002"},
        {"src_id": "de-000000002", "trg_id": "en-000000001"},
    ]
    tat = load("tatoeba", "test", "ja", ROOT)  # LASER tatoeba.jpn-eng.*, jpn -> ja
    assert [(r["src"], r["trg"]) for r in tat] == [
        ("私は学生です。", "I am a student."),
        ("今日は雨が降っています。", "It is raining today."),
        ("この本は面白い。", "This book is interesting."),
    ]


def test_tatoeba_jiant_sorted_copy_is_realigned(tmp_path):
    d = tmp_path / "tatoeba"
    d.mkdir()
    (d / "ja-en.ja").write_text("私は学生です。\n今日は雨が降っています。\n", encoding="utf-8")
    (d / "ja-en.en").write_text("I am a student.\nIt is raining today.\n", encoding="utf-8")
    (d / "ja-en.labels").write_text("0\n1\n", encoding="utf-8")
    (d / "ja-en.en").write_text("It is raining today.\nI am a student.\n", encoding="utf-8")
    (d / "ja-en.labels").write_text("1\n0\n", encoding="utf-8")
    rows = load("tatoeba", "test", "ja", tmp_path)
    assert [r["trg"] for r in rows] == ["I am a student.", "It is raining today."]


def test_multiple_choice_formats():
    hs = load("hellaswag", "dev", "en", ROOT)
    assert hs[0]["context"] == "A man is sitting on a roof."
    assert hs[0]["choices"][3] == "he starts pulling up roofing on a roof."  # ctx_b + ending
    assert (hs[0]["label"], hs[1]["label"]) == (3, 0)
    cos = load("cosmosqa", "dev", "en", ROOT)[0]  # csv with quoted context
    assert cos["context"].startswith("Good Old War and person L : I saw both")
    assert cos["label"] == 1 and len(cos["choices"]) == 4
    csqa = load("commonsenseqa", "dev", "en", ROOT)
    assert csqa[0]["choices"] == ["bank", "library", "department store", "mall", "new york"]
    assert (csqa[0]["label"], csqa[1]["label"]) == (0, 2)
    assert csqa[1]["question"] == "What do people aim to do at work?"
    # The HF layout of CommonsenseQA maps the same way.
    hf = {
        "id": "x",
        "question": "q?",
        "answerKey": "B",
        "choices": {"label": ["A", "B"], "text": ["a", "b"]},
    }
    assert formats.commonsenseqa_row(hf, "en", "x")["label"] == 1


def test_user_layout_wins_for_translated_data():
    rows = load("hellaswag", "train", "de", ROOT)
    assert rows[0]["id"] == "hs-de-0" and rows[0]["label"] == 1


def test_english_only_file_never_stands_in_for_another_language():
    with pytest.raises(DataSourceError):
        load("squad_v2", "train", "fr", ROOT)  # only train-v2.0.json (English) exists


def test_stripped_labels_raise_a_format_error(tmp_path):
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli" / "test-de.tsv").write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no gold labels"):
        load("xnli", "test", "de", tmp_path)
    stripped = {
        "version": "1.1",
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "c",
                        "qas": [
                            {
                                "id": "1",
                                "question": "q",
                                "answers": [{"answer_start": 0, "text": ""}],
                            }
                        ],
                    }
                ]
            }
        ],
    }
    (tmp_path / "xquad").mkdir()
    (tmp_path / "xquad" / "xquad.de.json").write_text(json.dumps(stripped), encoding="utf-8")
    with pytest.raises(DataFormatError, match="remove_qa_test_annotations"):
        load("xquad", "test", "de", tmp_path)


def test_missing_local_source_is_one_fast_line(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(DataSourceError) as e:
        load("xnli", "test", "de", tmp_path / "absent")
    assert time.perf_counter() - t0 < 2.0
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("XNLI test (de) not found: looked in ")
    assert str(tmp_path / "absent" / "xnli" / "test-de.tsv") in msg
    assert "download_data.sh" in msg and "data.sources.xnli" in msg
    assert isinstance(e.value, FileNotFoundError)


def test_missing_hub_source_is_one_fast_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_DATASETS_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    t0 = time.perf_counter()
    with pytest.raises(DataSourceError) as e:
        load("xnli", "test", "de", [tmp_path / "absent", "google/xtreme"])
    assert time.perf_counter() - t0 < 2.0
    msg = str(e.value)
    assert "\n" not in msg
    assert "the HF datasets cache" in msg and "google/xtreme (XNLI)" in msg
    assert str(tmp_path / "absent" / "xnli" / "test-de.tsv") in msg
    with pytest.raises(DataSourceError, match="no hub copy"):
        load("ccg", "train", "en", None)


def test_missing_source_fails_fast_in_a_fresh_process():
    # The whole call, imports included, from a cold interpreter: no datasets import on
    # the error path, no network wait.
    code = (
        "import time; t=time.perf_counter()\n"
        "from xstilts.data.loaders import load, DataSourceError\n"
        "try: load('panx', 'test', 'sw', '/nonexistent/xtreme')\n"
        "except DataSourceError as e: print(round(time.perf_counter()-t, 3)); print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    seconds, message = out.splitlines()
    assert float(seconds) < 2.0
    assert message.startswith("PAN-X test (sw) not found: looked in /nonexistent/xtreme/panx/")


def test_materialize_writes_jsonl_that_datasets_reads(tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "ds"
    card = loaders.materialize("xnli", "dev", ["zh", "ar"], ROOT, out)
    assert card["real"] is True and card["languages"] == ["zh", "ar"]
    assert card["sizes"] == {"zh": 2, "ar": 1}
    assert card["label_balance"]["zh"] == {"contradiction": 1, "neutral": 1}
    assert card["licence"].startswith("CC BY-NC 4.0")
    qa = loaders.materialize("squad_v2", "train", ["en"], ROOT, out)
    assert qa["label_balance"]["en"] == {"answerable": 1, "unanswerable": 1}
    bucc = loaders.materialize("bucc2018", "dev", ["de"], ROOT, out)
    assert bucc["label_balance"]["de"] == {"gold_pairs": 2, "src": 3, "trg": 3}
    assert (out / "bucc2018" / "dev" / "de.gold.jsonl").exists()
    tag = loaders.materialize("udpos", "dev", ["hi", "kk"], ROOT, out)  # kk: no official dev
    assert tag["missing"] == ["kk"] and tag["languages"] == ["hi"]
    for task, split, lang, n in [
        ("xnli", "dev", "zh", 2),
        ("squad_v2", "train", "en", 2),
        ("bucc2018", "dev", "de", 6),
        ("udpos", "dev", "hi", 1),
    ]:
        ds = datasets.load_dataset(
            "json",
            data_files=str(out / task / split / f"{lang}.jsonl"),
            split="train",
            cache_dir=str(tmp_path / "hf"),
        )
        assert ds.num_rows == n
        assert ds[0] == load(task, split, lang, ROOT)[0]
    # The materialized folder is itself a valid source (user layout).
    assert load("xnli", "dev", "zh", out) == load("xnli", "dev", "zh", ROOT)


def test_materialize_raises_on_missing_language(tmp_path):
    with pytest.raises(DataSourceError):
        loaders.materialize("xnli", "dev", ["sw"], ROOT, tmp_path)


def test_official_layout_and_licences_cover_every_task():
    for task in TASKS:
        lay = loaders.official_layout(task)
        assert lay["splits"] and lay["licence"] == loaders.LICENCES[task]
    assert (
        "x-final/{lang}/dev_2k.tsv [pawsx_tsv]"
        in loaders.official_layout("pawsx")["splits"]["dev"][0]
    )
    assert "LDC" in loaders.LICENCES["ccg"]
    assert loaders.TATOEBA_LANG3["zh"] == "cmn" and loaders.TATOEBA_LANG3["fa"] == "pes"


def test_sampling_probs_hand_computed():
    q = mlm_corpus.sampling_probs({"en": 900, "sw": 100}, alpha=0.3)
    # p = (0.9, 0.1); p^0.3 = (0.96889, 0.50119); q = (0.65909, 0.34091)
    assert q["en"] == pytest.approx(0.9689 / (0.9689 + 0.5012), abs=1e-4)
    assert q["en"] == pytest.approx(0.659, abs=1e-3)
    assert q["sw"] == pytest.approx(0.341, abs=1e-3)
    assert mlm_corpus.sampling_probs({"en": 900, "sw": 100}, alpha=1.0)["sw"] == pytest.approx(0.1)
    assert mlm_corpus.sampling_probs({"en": 5, "sw": 1}, alpha=0.0)["sw"] == pytest.approx(0.5)
    assert mlm_corpus.allocate({"en": 900, "sw": 100}, 1000) == {"en": 659, "sw": 341}


def test_sample_corpus_schema_sizes_and_determinism():
    by_lang = mlm_corpus.read_text_corpus(paths.FIXTURES / "mlm", ["en", "sw", "zh"])
    assert by_lang["en"] == ["The cat sat on the mat.", "It rained all day.", "We went home early."]
    rows = mlm_corpus.sample_corpus(by_lang, total=20, alpha=0.3, seed=1)
    assert len(rows) == 20
    assert all(set(r) == {"id", "lang", "text"} for r in rows)
    sizes = {lang: sum(r["lang"] == lang for r in rows) for lang in by_lang}
    assert sizes == mlm_corpus.allocate({"en": 3, "sw": 2, "zh": 1}, 20)
    assert {r["text"] for r in rows if r["lang"] == "zh"} == {"今天天气很好。"}  # up-sampled
    assert rows == mlm_corpus.sample_corpus(by_lang, total=20, alpha=0.3, seed=1)
    assert rows != mlm_corpus.sample_corpus(by_lang, total=20, alpha=0.3, seed=2)
    with pytest.raises(DataSourceError, match="MLM corpus \\(fr\\) not found"):
        mlm_corpus.read_text_corpus(paths.FIXTURES / "mlm", ["fr"])


def test_materialize_mlm(tmp_path):
    card = mlm_corpus.materialize_mlm(paths.FIXTURES / "mlm", ["en", "sw"], 10, tmp_path)
    assert sum(card["sizes"].values()) == 10
    assert (tmp_path / "mlm" / "train" / "sw.jsonl").exists()


def test_hub_rows_are_converted(monkeypatch):
    datasets = pytest.importorskip("datasets")
    from datasets import ClassLabel, Features, List, Value

    tables = {
        ("google/xtreme", "PAN-X.de"): datasets.Dataset.from_dict(
            {"tokens": [["Angela", "Merkel"]], "ner_tags": [[1, 2]], "langs": [["de", "de"]]},
            features=Features(
                {
                    "tokens": List(Value("string")),
                    "ner_tags": List(ClassLabel(names=["O", "B-PER", "I-PER"])),
                    "langs": List(Value("string")),
                }
            ),
        ),
        ("google/xtreme", "XNLI"): datasets.Dataset.from_dict(
            {
                "language": ["de", "fr"],
                "sentence1": ["a", "b"],
                "sentence2": ["c", "d"],
                "gold_label": ["contradiction", "neutral"],
            }
        ),
        ("nyu-mll/glue", "mnli"): datasets.Dataset.from_dict(
            {"premise": ["p", "q"], "hypothesis": ["h", "i"], "label": [2, -1], "idx": [0, 1]},
            features=Features(
                {
                    "premise": Value("string"),
                    "hypothesis": Value("string"),
                    "label": ClassLabel(names=list(NLI_LABELS)),
                    "idx": Value("int32"),
                }
            ),
        ),
        ("google/xtreme", "bucc18.de"): datasets.Dataset.from_dict(
            {"source_sentence": ["Hallo"], "target_sentence": ["Hello"]}
        ),
    }
    monkeypatch.setattr(
        loaders, "_hub_load", lambda task, split, lang, q, name, config, s: tables[(name, config)]
    )
    assert load("panx", "test", "de", "google/xtreme")[0]["tags"] == ["B-PER", "I-PER"]
    assert load("xnli", "test", "de", None) == [
        {"id": "0", "lang": "de", "text_a": "a", "text_b": "c", "label": "contradiction"}
    ]
    assert [r["label"] for r in load("mnli", "train", "en", "nyu-mll/glue")] == ["contradiction"]
    rows = load("bucc2018", "test", "de", None)
    gold = loaders.load_bucc_gold("test", "de", None)
    assert [r["side"] for r in rows] == ["src", "trg"]
    assert gold == [{"src_id": rows[0]["id"], "trg_id": rows[1]["id"]}]


def test_materialize_mlm_through_the_loader(tmp_path):
    card = loaders.materialize("mlm", "train", ["en", "zh"], paths.FIXTURES, tmp_path, mlm_total=8)
    assert card["sizes"] == mlm_corpus.allocate({"en": 3, "zh": 1}, 8)
    assert card["sampling_probs"]["zh"] > 0.25  # α = 0.3 up-weights the small language


def test_materialize_mlm_streams_in_bounded_memory(tmp_path):
    import tracemalloc

    from xstilts import io

    root = tmp_path / "corpus"
    root.mkdir()
    line = "a sentence of some forty characters ... {}\n"
    with open(root / "en.txt", "w") as f:
        f.writelines(line.format(i) for i in range(200_000))  # ~9 MB
    (root / "sw.txt").write_text("".join(line.format(f"sw{i}") for i in range(5)))
    tracemalloc.start()
    card = mlm_corpus.materialize_mlm(root, ["en", "sw"], 200, tmp_path / "out", seed=3)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000, f"peak {peak} bytes: the corpus was read into memory"
    assert card["available"] == {"en": 200_000, "sw": 5}
    assert card["sizes"] == mlm_corpus.allocate({"en": 200_000, "sw": 5}, 200)
    en = io.read_jsonl(tmp_path / "out" / "mlm" / "train" / "en.jsonl")
    assert len({r["text"] for r in en}) == len(en)  # without replacement while k <= n
    sw = io.read_jsonl(tmp_path / "out" / "mlm" / "train" / "sw.jsonl")
    assert len(sw) > 5  # up-sampled: every sentence, then repeats
    assert {r["text"] for r in sw} == {line.format(f"sw{i}").strip() for i in range(5)}
    again = mlm_corpus.materialize_mlm(root, ["en", "sw"], 200, tmp_path / "again", seed=3)
    assert again == card
    assert io.read_jsonl(tmp_path / "again" / "mlm" / "train" / "en.jsonl") == en


# --------------------------------------------------------------------------- protocol (issue 14)


@pytest.mark.parametrize("task", ["xquad", "tatoeba", "tydiqa"])
def test_evaluation_only_sets_have_no_dev_split(task):
    # Dev and test must never read the same files: selection would then see the test set.
    with pytest.raises(DataSourceError, match="no 'dev' split"):
        load(task, "dev", "en", ROOT)


def _nli_jsonl(path, prefix, n, key="uid"):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {key: f"{prefix}{i}", "context": f"{prefix} premise {i}.", "hypothesis": "h.",
         "sentence1": f"{prefix} premise {i}.", "sentence2": "h.", "label": "e",
         "gold_label": "entailment", "pairID": f"{prefix}{i}"}
        for i in range(n)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_anli_plus_dev_subset_draws_from_every_source(tmp_path):
    for r in (1, 2, 3):
        _nli_jsonl(tmp_path / f"anli/anli_v1.0/R{r}/dev.jsonl", f"r{r}-", 4)
    _nli_jsonl(tmp_path / "mnli/multinli_1.0_dev_matched.jsonl", "m", 4, key="pairID")
    _nli_jsonl(tmp_path / "snli/snli_1.0_dev.jsonl", "s", 4, key="pairID")
    rows = load("anli", "dev", "en", tmp_path)
    assert len(rows) == 20
    # The trainer early-stops on the first dev_subset rows: they must span all 5 sources.
    assert {r["id"].split(":")[0] for r in rows[:5]} == {"0", "1", "2", "3", "4"}
    assert loaders.interleave_parts([1, 2, 3, 4, 5], [3, 5]) == [1, 4, 2, 5, 3]
