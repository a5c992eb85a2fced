"""Acceptance checks of the embedded default, computed from this run's scores.

The ``mini`` profile exists to show real cross-lingual transfer on a CPU. Two promises are
checked by code against the per-language scores of the run and shown in the HTML index:

- zero-shot transfer: trained on English NLI only, the largest encoder scores at least
  15 points above chance in at least four non-English XNLI languages (setting ``none``);
- retrieval without training: the untrained largest encoder reaches an average Tatoeba
  accuracy of at least 80.

Checks whose data are absent from the run are ``not checkable`` with the reason; the
thresholds are fixed here, not taken from results. Other profiles get the same measurements
with status ``informative`` (a random tiny encoder is not expected to pass).

    from xstilts import acceptance
    rows = acceptance.check(scores, profile="mini")   # scores: analysis.collect() frame
"""

from __future__ import annotations

import pandas as pd

from xstilts import xtreme

ZERO_SHOT_MARGIN = 15.0  # points above chance
ZERO_SHOT_MIN_LANGS = 4
TATOEBA_MIN_AVG = 80.0
GATED_PROFILES = ("mini",)


def _largest(scores: pd.DataFrame) -> str:
    return scores.sort_values("params_m").iloc[-1]["model"]


def _status(ok: bool, profile: str) -> str:
    if profile not in GATED_PROFILES:
        return "informative"
    return "pass" if ok else "fail"


def zero_shot_transfer(scores: pd.DataFrame, profile: str) -> dict:
    """Languages where English-only XNLI training beats chance by ``ZERO_SHOT_MARGIN`` points."""
    spec = xtreme.TARGET_TASKS["xnli"]
    chance = 100.0 / len(spec.labels or ("a", "b", "c"))
    row = {
        "check": "zero-shot transfer (XNLI, English training only)",
        "rule": f">= {ZERO_SHOT_MIN_LANGS} non-English languages at >= chance "
        f"({chance:.1f}) + {ZERO_SHOT_MARGIN:.0f}",
    }
    if scores.empty or "xnli" not in set(scores["task"]):
        return {**row, "value": "", "status": "not checkable", "detail": "no XNLI run"}
    model = _largest(scores)
    sel = scores[
        (scores["task"] == "xnli")
        & (scores["model"] == model)
        & (scores["setting"] == "none")
        & (scores["lang"] != "en")
    ]
    if sel.empty:
        return {**row, "value": "", "status": "not checkable", "detail": "no setting-none XNLI"}
    per_lang = sel.groupby("lang")["score"].mean()
    above = per_lang[per_lang >= chance + ZERO_SHOT_MARGIN]
    return {
        **row,
        "value": f"{len(above)} of {len(per_lang)}",
        "status": _status(len(above) >= ZERO_SHOT_MIN_LANGS, profile),
        "detail": f"{model}: " + ", ".join(f"{k} {v:.1f}" for k, v in per_lang.items()),
    }


def untrained_tatoeba(scores: pd.DataFrame, profile: str) -> dict:
    """Average Tatoeba accuracy of the pretrained (phase-i) largest encoder."""
    row = {
        "check": "retrieval without training (Tatoeba, pretrained encoder)",
        "rule": f"average accuracy >= {TATOEBA_MIN_AVG:.0f}",
    }
    if scores.empty or "tatoeba" not in set(scores["task"]):
        return {**row, "value": "", "status": "not checkable", "detail": "no Tatoeba run"}
    model = _largest(scores)
    sel = scores[
        (scores["task"] == "tatoeba") & (scores["model"] == model) & (scores["setting"] == "none")
    ]
    if sel.empty:
        return {**row, "value": "", "status": "not checkable", "detail": "no setting-none run"}
    per_lang = sel.groupby("lang")["score"].mean()
    avg = float(per_lang.mean())
    return {
        **row,
        "value": f"{avg:.1f}",
        "status": _status(avg >= TATOEBA_MIN_AVG, profile),
        "detail": f"{model}: " + ", ".join(f"{k} {v:.1f}" for k, v in per_lang.items()),
    }


def check(scores: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Run every acceptance check on the long score table of the analysis phase.

    Args:
        scores: One row per (model, setting, mode, seed, task, lang) with ``score`` and
            ``params_m`` (``xstilts.phases.analysis.collect``).
        profile: Profile name; only ``GATED_PROFILES`` get pass/fail.

    Returns:
        One row per check: check, rule, value, status, detail.
    """
    return pd.DataFrame([zero_shot_transfer(scores, profile), untrained_tatoeba(scores, profile)])
