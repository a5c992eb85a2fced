"""XTREME metrics, per language and aggregated, all on a 0-100 scale.

Each metric matches the reference scorer that XTREME's ``evaluate.py`` calls
(google-research/xtreme). jiant's ``tasks/evaluate/core.py``, which the paper used,
applies the same definitions:

====================  =========================================  ====================
metric name           reference                                  ``score`` (headline)
====================  =========================================  ====================
``accuracy``          ``evaluate.py: accuracy``                  accuracy
``seqeval_f1``        ``evaluate.py: f1`` (seqeval; POS and NER)  seqeval F1
``token_accuracy``    jiant CCG (accuracy over all tokens)       accuracy
``squad``             ``third_party/evaluate_squad.py`` (v1.1)   (F1 + EM) / 2
``squad_v2``          official SQuAD 2.0 ``evaluate-v2.0.py``    (F1 + EM) / 2
``mlqa``              ``third_party/evaluate_mlqa.py``           (F1 + EM) / 2
``bucc_f1``           ``evaluate.py: bucc_f1`` (id pairs)        F1
``tatoeba_accuracy``  ``evaluate.py: accuracy`` (row indices)    accuracy
====================  =========================================  ====================

Aggregation follows ``evaluate.py: evaluate``. A task score is the mean over its
languages. For the QA tasks the task score is ``(avg_exact_match + avg_f1) / 2``
(``avg_metric``). This is the same number as the mean of the per-language
``(F1 + EM) / 2``, which is what ``score`` returns for QA metrics. The XTREME score is
the mean of the nine task scores. Recomputing the v1 Table 2 average with QA counted as
(F1 + EM) / 2 gives the printed 67.2 for XLM-R (paper-facts §1.4), so the paper uses
this rule too.

Usage::

    from xstilts import metrics
    per_lang = {lg: metrics.score("mlqa", preds[lg], golds[lg], lang=lg) for lg in langs}
    task = metrics.task_average(per_lang)      # {"f1": ..., "exact_match": ..., "score": ...}
    metrics.xtreme_score({"xnli": 79.2, ...})  # mean over the nine target tasks
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from statistics import fmean

from xstilts import xtreme

Scores = dict[str, float]


def _check_pairs(predictions: Sequence, references: Sequence) -> None:
    """Fail early on empty or misaligned inputs (the reference scripts divide by zero)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no examples to score")


# --------------------------------------------------------------------------- labels


def accuracy(predictions: Sequence, references: Sequence) -> float:
    """Return the percentage of predictions equal to their reference.

    Args:
        predictions: Predicted labels (any comparable values).
        references: Gold labels, aligned with ``predictions``.

    Returns:
        Accuracy in [0, 100].

    Raises:
        ValueError: If the lists are empty or of different lengths.

    """
    _check_pairs(predictions, references)
    return 100.0 * sum(p == r for p, r in zip(predictions, references)) / len(predictions)


def token_accuracy(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> float:
    """Return the accuracy over all tokens of all sentences (CCG supertagging).

    jiant scores CCG as plain accuracy over the flattened first-subword tags, so a long
    sentence weighs more than a short one.

    Args:
        predictions: Predicted tags per sentence.
        references: Gold tags per sentence (same shapes as ``predictions``).

    Returns:
        Token accuracy in [0, 100].

    Raises:
        ValueError: If the sentence counts or any sentence lengths differ.

    """
    _check_pairs(predictions, references)
    for i, (p, r) in enumerate(zip(predictions, references)):
        if len(p) != len(r):
            raise ValueError(f"sentence {i}: {len(p)} predicted tags but {len(r)} gold tags")
    flat_p = [t for sent in predictions for t in sent]
    flat_r = [t for sent in references for t in sent]
    return accuracy(flat_p, flat_r)


def seqeval_f1(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> Scores:
    """Return seqeval chunk precision, recall and F1 (XTREME's score for POS *and* NER).

    NER (IOB2 tags): a predicted entity counts only if its type and both boundaries
    match a gold entity, so a partial span is a miss.

    POS quirk: XTREME passes bare UPOS tags to the same seqeval ``f1_score``. seqeval
    (1.2.2, default mode) then reads the first character as a chunk prefix and the rest
    as a type (``NOUN`` -> prefix ``N``, type ``OUN``). A run of identical tags becomes
    one chunk (``NOUN NOUN`` is one chunk), and tags starting with ``S`` (``SCONJ``,
    ``SYM``) are single-token chunks. So the POS "F1" is close to, but not the same as,
    token accuracy. We keep the quirk because the published numbers include it.

    Args:
        predictions: Predicted tag sequences.
        references: Gold tag sequences.

    Returns:
        ``{"precision", "recall", "f1"}`` in [0, 100].

    """
    # Imported here: seqeval pulls in scikit-learn, which most callers of this module
    # never need.
    from seqeval.metrics import f1_score, precision_score, recall_score

    _check_pairs(predictions, references)
    refs, preds = [list(r) for r in references], [list(p) for p in predictions]
    with warnings.catch_warnings():
        # seqeval warns "NOUN seems not to be NE tag" for every POS tag.
        warnings.simplefilter("ignore", UserWarning)
        return {
            "precision": 100.0 * precision_score(refs, preds),
            "recall": 100.0 * recall_score(refs, preds),
            "f1": 100.0 * f1_score(refs, preds),
        }


def pair_f1(
    predictions: Sequence[tuple[str, str]], references: Sequence[tuple[str, str]]
) -> Scores:
    """Return precision/recall/F1 of predicted (src_id, trg_id) pairs (BUCC).

    Matches ``evaluate.py: bucc_f1``: both sides are sets; no correct pair gives zeros.

    Args:
        predictions: Extracted sentence-id pairs.
        references: Gold sentence-id pairs.

    Returns:
        ``{"precision", "recall", "f1"}`` in [0, 100].

    """
    pred, gold = {tuple(p) for p in predictions}, {tuple(r) for r in references}
    if not gold:
        raise ValueError("no gold pairs to score against")
    correct = len(pred & gold)
    if correct == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    precision, recall = correct / len(pred), correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"precision": 100.0 * precision, "recall": 100.0 * recall, "f1": 100.0 * f1}


# --------------------------------------------------------------------------- SQuAD

_ASCII_PUNCT = frozenset(string.punctuation)
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_squad(text: str) -> str:
    """Normalise an answer as the official SQuAD v1.1/v2.0 scripts do.

    Lower-case, drop ASCII punctuation, replace the articles a/an/the by spaces, and
    collapse whitespace (in that order).
    """
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT)
    return " ".join(_EN_ARTICLES.sub(" ", text).split())


def _overlap_f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    """Token-overlap F1 in [0, 1]; no overlap (including two empty answers) gives 0."""
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _qa_scores(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    normalize: Callable[[str], str],
) -> Scores:
    """Mean over questions of max-over-golds EM and F1 (SQuAD v1.1 and MLQA scripts)."""
    _check_pairs(predictions, references)
    em_sum = f1_sum = 0.0
    for i, (pred, golds) in enumerate(zip(predictions, references)):
        if not golds:
            raise ValueError(f"question {i} has no gold answer; score SQuAD 2.0 with squad_v2")
        pred_norm = normalize(pred)
        golds_norm = [normalize(g) for g in golds]
        em_sum += max(float(pred_norm == g) for g in golds_norm)
        f1_sum += max(_overlap_f1(pred_norm.split(), g.split()) for g in golds_norm)
    n = len(predictions)
    return {"f1": 100.0 * f1_sum / n, "exact_match": 100.0 * em_sum / n}


def squad_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> Scores:
    """Return SQuAD v1.1 F1 and exact match (XQuAD, TyDiQA-GoldP, SQuAD v1.1).

    Args:
        predictions: One predicted answer string per question.
        references: The gold answer strings of each question (at least one each).

    Returns:
        ``{"f1", "exact_match"}`` in [0, 100], each the max over gold answers.

    Raises:
        ValueError: On empty or misaligned inputs, or a question without gold answers.

    """
    return _qa_scores(predictions, references, normalize_squad)


def _v2_f1(pred: str, gold: str) -> float:
    """SQuAD 2.0 F1: if either side is empty, 1 iff both are (official ``compute_f1``)."""
    pred_tokens, gold_tokens = normalize_squad(pred).split(), normalize_squad(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    return _overlap_f1(pred_tokens, gold_tokens)


def squad_v2_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> Scores:
    """Return SQuAD 2.0 F1/EM overall and split by answerable / unanswerable questions.

    Semantics of the official ``evaluate-v2.0.py`` without the no-answer probability
    threshold: a question whose gold list is empty is unanswerable; the prediction ``""``
    means "no answer". For an unanswerable question both EM and F1 are 1 iff the
    prediction is empty. Gold answers that normalise to the empty string are dropped
    (a question left with none is scored against ``""`` but still counts as answerable,
    as in the official script).

    Args:
        predictions: Predicted answers (``""`` = no answer).
        references: Gold answers per question (``[]`` = unanswerable).

    Returns:
        ``f1`` and ``exact_match``, plus ``has_ans_f1``/``has_ans_exact_match`` and
        ``no_ans_f1``/``no_ans_exact_match`` for the groups that are non-empty (the
        official script also omits an empty group), all in [0, 100].

    """
    _check_pairs(predictions, references)
    groups: dict[str, list[tuple[float, float]]] = {"has_ans": [], "no_ans": []}
    for pred, golds in zip(predictions, references):
        kept = [g for g in golds if normalize_squad(g)] or [""]
        em = max(float(normalize_squad(g) == normalize_squad(pred)) for g in kept)
        f1 = max(_v2_f1(pred, g) for g in kept)
        groups["has_ans" if golds else "no_ans"].append((em, f1))
    every = groups["has_ans"] + groups["no_ans"]
    out = _em_f1_means(every, prefix="")
    for name, items in groups.items():
        if items:
            out |= _em_f1_means(items, prefix=f"{name}_")
    return out


def _em_f1_means(items: list[tuple[float, float]], prefix: str) -> Scores:
    return {
        f"{prefix}f1": 100.0 * fmean(f1 for _, f1 in items),
        f"{prefix}exact_match": 100.0 * fmean(em for em, _ in items),
    }


# --------------------------------------------------------------------------- MLQA


@functools.cache
def unicode_punctuation() -> frozenset[str]:
    """Return every character whose Unicode category starts with ``P``, plus ASCII punctuation.

    The MLQA script builds the same set (``PUNCT``). ASCII symbols such as ``$`` or ``+``
    are category ``S`` but are still removed because ``string.punctuation`` is added.
    Built on first use (a scan over all code points, ~0.3 s).
    """
    chars = (chr(i) for i in range(sys.maxunicode + 1))
    return frozenset(c for c in chars if unicodedata.category(c).startswith("P")) | _ASCII_PUNCT


# Articles removed per language (evaluate_mlqa.py: remove_articles). Arabic: the script's
# pattern is ``\sال^|ال``; its first branch can never match (``^`` after characters), so
# in effect *every* occurrence of the two letters "ال" is replaced by a space, also inside
# words (e.g. "مال" -> "م"). We keep that behaviour.
_MLQA_ARTICLES: dict[str, re.Pattern | None] = {
    "en": _EN_ARTICLES,
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile("ال"),
    "hi": None,  # Hindi has no articles
    "zh": None,  # Chinese has no articles
}

_CJK = re.compile("[\u4e00-\u9fa5]")  # the MLQA script's CJK range


def mixed_segmentation(text: str) -> list[str]:
    """Split Chinese text: each CJK character (or punctuation mark) is a token.

    Runs of other characters are whitespace-tokenised, so Latin words and numbers
    inside Chinese text stay whole (``evaluate_mlqa.py: mixed_segmentation``).
    """
    punct = unicode_punctuation()
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        if _CJK.match(ch) or ch in punct:
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens


_MLQA_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    **{lg: str.split for lg in ("en", "es", "hi", "vi", "de", "ar")},
    "zh": mixed_segmentation,
}
MLQA_LANGUAGES = tuple(_MLQA_ARTICLES)


def normalize_mlqa(text: str, lang: str) -> str:
    """Normalise an answer as ``evaluate_mlqa.py`` does for language ``lang``.

    Lower-case, drop Unicode punctuation, replace the language's articles by spaces,
    then tokenise (whitespace, or mixed segmentation for ``zh``) and join with spaces.

    Raises:
        ValueError: If ``lang`` is not an MLQA language.

    """
    if lang not in _MLQA_ARTICLES:
        raise ValueError(
            f"MLQA has no normalisation for {lang!r}; allowed: {', '.join(MLQA_LANGUAGES)}"
        )
    punct = unicode_punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punct)
    articles = _MLQA_ARTICLES[lang]
    if articles is not None:
        text = articles.sub(" ", text)
    return " ".join(t for t in _MLQA_TOKENIZERS[lang](text) if t.strip())


def mlqa_scores(
    predictions: Sequence[str], references: Sequence[Sequence[str]], lang: str
) -> Scores:
    """Return MLQA F1 and exact match with language-specific normalisation.

    Args:
        predictions: One predicted answer per question.
        references: Gold answers per question.
        lang: Context (answer) language, one of ``MLQA_LANGUAGES``; XTREME evaluates
            question language = context language.

    Returns:
        ``{"f1", "exact_match"}`` in [0, 100]. For ``zh`` the F1 is over characters.

    """
    normalize_mlqa("", lang)  # validate the language before scoring anything
    return _qa_scores(predictions, references, functools.partial(normalize_mlqa, lang=lang))


# --------------------------------------------------------------------------- dispatch


def _qa_headline(components: Scores) -> Scores:
    # XTREME evaluate.py: avg_metric = (avg_exact_match + avg_f1) / 2 for QA tasks.
    return {**components, "score": (components["f1"] + components["exact_match"]) / 2}


METRICS: dict[str, Callable[[Sequence, Sequence, str], Scores]] = {
    "accuracy": lambda p, r, lang: {"accuracy": (a := accuracy(p, r)), "score": a},
    "token_accuracy": lambda p, r, lang: {"accuracy": (a := token_accuracy(p, r)), "score": a},
    "seqeval_f1": lambda p, r, lang: {**(s := seqeval_f1(p, r)), "score": s["f1"]},
    "squad": lambda p, r, lang: _qa_headline(squad_scores(p, r)),
    "squad_v2": lambda p, r, lang: _qa_headline(squad_v2_scores(p, r)),
    "mlqa": lambda p, r, lang: _qa_headline(mlqa_scores(p, r, lang)),
    "bucc_f1": lambda p, r, lang: {**(s := pair_f1(p, r)), "score": s["f1"]},
    "tatoeba_accuracy": lambda p, r, lang: {"accuracy": (a := accuracy(p, r)), "score": a},
}
"""Metric name (``TaskSpec.metric``) -> ``fn(predictions, references, lang) -> scores``.

``bucc_f1`` takes extracted and gold (src_id, trg_id) pairs; ``tatoeba_accuracy`` takes
predicted and gold row indices (see ``xstilts.retrieval`` for producing both).
"""


def score(metric: str, predictions: Sequence, references: Sequence, lang: str = "en") -> Scores:
    """Score one language of one task.

    Args:
        metric: A key of ``METRICS`` (``TaskSpec.metric``).
        predictions: Predictions in the metric's format.
        references: Gold labels/answers in the metric's format.
        lang: Language code (only ``mlqa`` uses it, for normalisation).

    Returns:
        The metric's components plus ``"score"``, the XTREME per-language number.

    Raises:
        KeyError: If ``metric`` is unknown (the message lists the allowed names).

    """
    try:
        fn = METRICS[metric]
    except KeyError:
        raise KeyError(
            f"unknown metric {metric!r}; allowed: {', '.join(sorted(METRICS))}"
        ) from None
    return fn(predictions, references, lang)


# --------------------------------------------------------------------------- aggregation


def task_average(
    per_lang: Mapping[str, Mapping[str, float]], exclude: tuple[str, ...] = ()
) -> Scores:
    """Average per-language scores into a task score (XTREME ``avg_*``).

    Every language passed in counts, English included (XTREME's ``TASK2LANGS`` include
    ``en`` for most tasks); leave languages out with ``exclude``. Components present in
    only some languages are dropped rather than averaged over a subset.

    Args:
        per_lang: ``{lang: scores}`` as returned by ``score``.
        exclude: Languages to leave out (e.g. ``("en",)`` for a zero-shot-only mean).

    Returns:
        The mean of each shared component, including ``"score"``.

    Raises:
        ValueError: If no language is left or ``"score"`` is missing somewhere.

    """
    kept = {lg: s for lg, s in per_lang.items() if lg not in exclude}
    if not kept:
        raise ValueError(
            f"no languages to average (given {sorted(per_lang)}, excluded {list(exclude)})"
        )
    missing = sorted(lg for lg, s in kept.items() if "score" not in s)
    if missing:
        raise ValueError(f"languages without a 'score' entry: {', '.join(missing)}")
    shared = set.intersection(*(set(s) for s in kept.values()))
    return {key: fmean(s[key] for s in kept.values()) for key in sorted(shared)}


def xtreme_score(task_scores: Mapping[str, float], allow_partial: bool = False) -> float:
    """Return the XTREME score: the mean over the nine target tasks' scores.

    Args:
        task_scores: ``{task: task score}`` with task names of ``xtreme.TARGET_TASKS``.
        allow_partial: Average whatever tasks are present instead of failing.

    Raises:
        ValueError: If a task name is unknown, tasks are missing (unless
            ``allow_partial``), or no task is given.

    """
    unknown = sorted(set(task_scores) - set(xtreme.TARGET_TASKS))
    if unknown:
        raise ValueError(
            f"unknown target tasks {unknown}; allowed: {', '.join(xtreme.TARGET_TASKS)}"
        )
    missing = [t for t in xtreme.TARGET_TASKS if t not in task_scores]
    if missing and not allow_partial:
        raise ValueError(f"XTREME score needs all 9 tasks; missing: {', '.join(missing)}")
    if not task_scores:
        raise ValueError("no task scores given")
    return fmean(task_scores.values())


def group_scores(task_scores: Mapping[str, float]) -> Scores:
    """Return the mean score of each task group whose tasks are all present.

    Groups are ``xtreme.TASK_GROUPS``; like XTREME's ``evaluate.py``, a group with a
    missing task is left out rather than averaged over a subset.
    """
    return {
        group: fmean(task_scores[t] for t in tasks)
        for group, tasks in xtreme.TASK_GROUPS.items()
        if all(t in task_scores for t in tasks)
    }
