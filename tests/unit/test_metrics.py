"""Metric definitions against hand-computed values (arithmetic in the comments)."""

from __future__ import annotations

import pytest

from xstilts import metrics, xtreme

# --------------------------------------------------------------------------- labels


def test_accuracy_counts_exact_matches():
    # a=a, b=b, c!=b, a!=b -> 2 / 4 = 50 %
    assert metrics.accuracy(["a", "b", "c", "a"], ["a", "b", "b", "b"]) == 50.0


@pytest.mark.parametrize("preds, refs", [([], []), (["a"], ["a", "b"])])
def test_accuracy_rejects_empty_or_misaligned(preds, refs):
    with pytest.raises(ValueError):
        metrics.accuracy(preds, refs)


def test_token_accuracy_flattens_sentences():
    # 3 tokens in all, "S\\NP" != "NP" -> 2 / 3
    preds = [["N", "S\\NP"], ["NP"]]
    refs = [["N", "NP"], ["NP"]]
    assert metrics.token_accuracy(preds, refs) == pytest.approx(200 / 3)


def test_seqeval_partial_span_is_a_miss():
    # gold PER(0-1), LOC(3); pred PER(0) only covers half the name -> 1 of 2 right each way
    refs = [["B-PER", "I-PER", "O", "B-LOC"]]
    preds = [["B-PER", "O", "O", "B-LOC"]]
    s = metrics.seqeval_f1(preds, refs)
    assert s == pytest.approx({"precision": 50.0, "recall": 50.0, "f1": 50.0})


def test_seqeval_precision_recall_f1():
    # gold {ORG(0-1), PER(s2:0)}; pred {ORG(0-1), LOC(2), PER(s2:0)}: 2 correct
    # P = 2/3, R = 2/2 = 1, F1 = 2 * (2/3) * 1 / (2/3 + 1) = (4/3) / (5/3) = 0.8
    refs = [["B-ORG", "I-ORG", "O"], ["B-PER"]]
    preds = [["B-ORG", "I-ORG", "B-LOC"], ["B-PER"]]
    s = metrics.seqeval_f1(preds, refs)
    assert s == pytest.approx({"precision": 200 / 3, "recall": 100.0, "f1": 80.0})


def test_seqeval_on_bare_pos_tags():
    # Each tag differs from its neighbour, so every token is its own chunk:
    # gold NOUN VERB NOUN PUNCT, pred NOUN VERB ADJ PUNCT -> 3 of 4 chunks right.
    refs = [["NOUN", "VERB", "NOUN", "PUNCT"]]
    preds = [["NOUN", "VERB", "ADJ", "PUNCT"]]
    assert metrics.seqeval_f1(preds, refs)["f1"] == pytest.approx(75.0)


def test_seqeval_pos_quirk_merges_runs_of_one_tag():
    # "NOUN NOUN" is ONE gold chunk (prefix N, type OUN over tokens 0-1); the prediction
    # "NOUN VERB" has chunks OUN(0) and ERB(1), neither equal -> F1 0 although 1 of 2
    # tokens is right. XTREME's POS numbers include this behaviour.
    refs, preds = [["NOUN", "NOUN"]], [["NOUN", "VERB"]]
    assert metrics.seqeval_f1(preds, refs)["f1"] == 0.0
    assert metrics.token_accuracy(preds, refs) == 50.0


# --------------------------------------------------------------------------- SQuAD


def test_squad_normalization():
    # lower -> drop ASCII punctuation ("," "-" "!") -> articles become spaces -> collapse
    assert metrics.normalize_squad("The  Quick, brown-fox!  an apple") == "quick brownfox apple"
    # articles only as whole words ("theater" stays); non-ASCII punctuation is kept by
    # the v1.1 script, and "a" between guillemets is still a whole word
    assert metrics.normalize_squad("Theater «Ab» «a»") == "theater «ab» « »"


def test_squad_f1_token_overlap_and_max_over_golds():
    # q1: pred [cat, sat, down]; gold 1 [cat, sat, on, mat] (articles dropped):
    #     common 2, P = 2/3, R = 2/4, F1 = 2*(2/3)*(1/2) / (2/3 + 1/2) = (2/3)/(7/6) = 4/7;
    #     gold 2 [dog]: 0 -> max 4/7; EM 0
    # q2: "Paris." == "paris" after normalisation -> F1 1, EM 1
    # F1 = (4/7 + 1) / 2 = 11/14; EM = 1/2
    preds = ["cat sat down", "Paris."]
    refs = [["the cat sat on the mat", "a dog"], ["paris"]]
    s = metrics.squad_scores(preds, refs)
    assert s == pytest.approx({"f1": 1100 / 14, "exact_match": 50.0})
    # score = (F1 + EM) / 2 = (78.571 + 50) / 2
    assert metrics.score("squad", preds, refs)["score"] == pytest.approx((1100 / 14 + 50) / 2)


def test_squad_v1_needs_a_gold_answer():
    with pytest.raises(ValueError, match="squad_v2"):
        metrics.squad_scores([""], [[]])


def test_squad_v2_no_answer_semantics():
    # q1 answerable, "Broncos" vs "Denver Broncos": P 1, R 1/2 -> F1 2/3, EM 0
    # q2 answerable, no-answer prediction "": F1 0, EM 0
    # q3 unanswerable, prediction "": F1 1, EM 1
    # q4 unanswerable, prediction "something": F1 0, EM 0
    preds = ["Broncos", "", "", "something"]
    refs = [["Denver Broncos"], ["1990"], [], []]
    s = metrics.squad_v2_scores(preds, refs)
    assert s == pytest.approx(
        {
            "f1": 100 * (2 / 3 + 0 + 1 + 0) / 4,  # 41.67
            "exact_match": 25.0,  # 1 / 4
            "has_ans_f1": 100 * (2 / 3 + 0) / 2,  # 33.33
            "has_ans_exact_match": 0.0,
            "no_ans_f1": 50.0,  # 1 / 2
            "no_ans_exact_match": 50.0,
        }
    )
    assert metrics.score("squad_v2", preds, refs)["score"] == pytest.approx((125 / 3 + 25) / 2)


def test_squad_v2_omits_an_empty_group():
    s = metrics.squad_v2_scores(["x"], [["x"]])
    assert s == {
        "f1": 100.0,
        "exact_match": 100.0,
        "has_ans_f1": 100.0,
        "has_ans_exact_match": 100.0,
    }


# --------------------------------------------------------------------------- MLQA


def test_mlqa_spanish_articles_and_unicode_punctuation():
    # "¿" and "?" are punctuation (category Po); "el" and "los" are Spanish articles
    assert metrics.normalize_mlqa("¿El gato de los vecinos?", "es") == "gato de vecinos"
    # guillemets are Pi/Pf: removed by MLQA, kept by the SQuAD v1.1 script
    assert metrics.normalize_mlqa("«Hola»", "es") == "hola"


def test_mlqa_german_articles():
    assert metrics.normalize_mlqa("Der Hund des Nachbarn", "de") == "hund nachbarn"
    # pred [hund], gold [großer, hund]: P 1, R 1/2 -> F1 2/3; EM 0
    s = metrics.mlqa_scores(["den Hund"], [["ein großer Hund"]], "de")
    assert s == pytest.approx({"f1": 200 / 3, "exact_match": 0.0})
    # The English rule does not know "den"/"ein": [den, hund] vs [ein, großer, hund]
    # -> P 1/2, R 1/3, F1 = 2*(1/6) / (5/6) = 2/5
    assert metrics.mlqa_scores(["den Hund"], [["ein großer Hund"]], "en")["f1"] == pytest.approx(
        40.0
    )


def test_mlqa_vietnamese_and_hindi():
    assert metrics.normalize_mlqa("cái bàn của tôi", "vi") == "bàn tôi"
    assert metrics.normalize_mlqa("एक किताब।", "hi") == "एक किताब"  # no articles; "।" is Po


def test_mlqa_arabic_al_is_removed_everywhere():
    # The script replaces every "ال" by a space: as the article prefix ...
    assert metrics.normalize_mlqa("الكتاب الولد", "ar") == "كتاب ولد"
    # ... and also inside a word, as evaluate_mlqa.py does: "مال" (money) -> "م", and
    # "الطالب" (the student, ط ا ل ب) loses both "ال" -> "ط ب".
    assert metrics.normalize_mlqa("مال", "ar") == "م"
    assert metrics.normalize_mlqa("الطالب", "ar") == "ط ب"
    assert metrics.mlqa_scores(["كتاب"], [["الكتاب"]], "ar")["exact_match"] == 100.0


def test_mlqa_chinese_mixed_segmentation():
    # "。" is removed; each CJK character is a token; the Latin run stays one token.
    assert metrics.normalize_mlqa("我爱NLP模型。", "zh") == "我 爱 nlp 模 型"
    # pred [北, 京, 大, 学] vs gold [北, 京]: common 2, P 2/4, R 1 -> F1 = 1 / 1.5 = 2/3
    s = metrics.mlqa_scores(["北京大学"], [["北京"]], "zh")
    assert s == pytest.approx({"f1": 200 / 3, "exact_match": 0.0})
    # the QA headline score is (F1 + EM) / 2 = (66.67 + 0) / 2
    assert metrics.score("mlqa", ["北京大学"], [["北京"]], lang="zh")["score"] == pytest.approx(
        100 / 3
    )
    # whitespace tokenisation (SQuAD) sees one token on each side and no overlap
    assert metrics.squad_scores(["北京大学"], [["北京"]])["f1"] == 0.0


def test_mlqa_unknown_language():
    with pytest.raises(ValueError, match="allowed"):
        metrics.mlqa_scores(["a"], [["a"]], "fr")


# --------------------------------------------------------------------------- dispatch


def test_every_task_metric_is_dispatchable():
    needed = {t.metric for t in xtreme.TARGET_TASKS.values()}
    needed |= {t.metric for t in xtreme.INTERMEDIATE_TASKS.values()}
    assert needed <= set(metrics.METRICS)


@pytest.mark.parametrize(
    "metric, preds, refs, expected",
    [
        ("accuracy", ["a", "b"], ["a", "a"], {"accuracy": 50.0, "score": 50.0}),
        ("token_accuracy", [["a", "b"]], [["a", "a"]], {"accuracy": 50.0, "score": 50.0}),
        ("tatoeba_accuracy", [0, 2, 2], [0, 1, 2], {"accuracy": 200 / 3, "score": 200 / 3}),
        # 1 of 2 predicted pairs right, 1 of 1 gold found: P 50, R 100, F1 2*.5/1.5 = 2/3
        (
            "bucc_f1",
            [("de-1", "en-1"), ("de-2", "en-9")],
            [("de-1", "en-1")],
            {"precision": 50.0, "recall": 100.0, "f1": 200 / 3, "score": 200 / 3},
        ),
    ],
)
def test_score_headline(metric, preds, refs, expected):
    assert metrics.score(metric, preds, refs) == pytest.approx(expected)


def test_score_unknown_metric():
    with pytest.raises(KeyError, match="allowed"):
        metrics.score("bleu", ["a"], ["a"])


# --------------------------------------------------------------------------- aggregation


PER_LANG = {
    "en": {"f1": 80.0, "exact_match": 60.0, "score": 70.0},
    "de": {"f1": 60.0, "exact_match": 40.0, "score": 50.0},
    "zh": {"f1": 40.0, "exact_match": 20.0, "score": 30.0},
}


def test_task_average_includes_english_unless_excluded():
    # all: f1 (80+60+40)/3 = 60, EM (60+40+20)/3 = 40, score (70+50+30)/3 = 50
    assert metrics.task_average(PER_LANG) == {"exact_match": 40.0, "f1": 60.0, "score": 50.0}
    # without en: f1 50, EM 30, score 40 = (50 + 30) / 2, i.e. XTREME's avg_metric
    assert metrics.task_average(PER_LANG, exclude=("en",)) == {
        "exact_match": 30.0,
        "f1": 50.0,
        "score": 40.0,
    }


def test_task_average_needs_a_language():
    with pytest.raises(ValueError):
        metrics.task_average(PER_LANG, exclude=("en", "de", "zh"))


TASKS = {
    "xnli": 80.0,
    "pawsx": 90.0,
    "udpos": 70.0,
    "panx": 60.0,
    "xquad": 70.0,
    "mlqa": 60.0,
    "tydiqa": 50.0,
    "bucc2018": 80.0,
    "tatoeba": 70.0,
}


def test_xtreme_score_mean_of_nine():
    # 80+90+70+60+70+60+50+80+70 = 630; 630 / 9 = 70
    assert metrics.xtreme_score(TASKS) == pytest.approx(70.0)


def test_xtreme_score_reproduces_paper_v1_table2_xlmr_average():
    # v1 Table 2, XLM-R row, QA counted as (F1 + EM) / 2:
    # 80.1 + 86.5 + 75.7 + 62.8 + 68.05 + 60.8 + 68.35 + 71.5 + 31.0 = 604.8; / 9 = 67.2
    row = {
        "xnli": 80.1,
        "pawsx": 86.5,
        "udpos": 75.7,
        "panx": 62.8,
        "xquad": (76.1 + 60.0) / 2,
        "mlqa": (70.1 + 51.5) / 2,
        "tydiqa": (75.7 + 61.0) / 2,
        "bucc2018": 71.5,
        "tatoeba": 31.0,
    }
    assert metrics.xtreme_score(row) == pytest.approx(67.2)


def test_xtreme_score_names_missing_tasks():
    partial = {t: v for t, v in TASKS.items() if t not in ("bucc2018", "tatoeba")}
    with pytest.raises(ValueError, match="missing: bucc2018, tatoeba"):
        metrics.xtreme_score(partial)
    # 630 - 80 - 70 = 480 over 7 tasks
    assert metrics.xtreme_score(partial, allow_partial=True) == pytest.approx(480 / 7)


def test_xtreme_score_rejects_unknown_task():
    with pytest.raises(ValueError, match="unknown"):
        metrics.xtreme_score({**TASKS, "mnli": 85.0})


def test_group_scores_only_complete_groups():
    # classification (80+90)/2, structured (70+60)/2, qa (70+60+50)/3, retrieval (80+70)/2
    assert metrics.group_scores(TASKS) == pytest.approx(
        {"classification": 85.0, "structured": 65.0, "qa": 60.0, "retrieval": 75.0}
    )
    without_tatoeba = {t: v for t, v in TASKS.items() if t != "tatoeba"}
    assert "retrieval" not in metrics.group_scores(without_tatoeba)
