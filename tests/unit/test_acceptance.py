"""Acceptance checks of the embedded default, on score tables with known answers."""

import pandas as pd
import pytest

from xstilts import acceptance


def _scores(xnli: dict, tatoeba: dict, model="big", params=100.0) -> pd.DataFrame:
    rows = []
    for task, per_lang in (("xnli", xnli), ("tatoeba", tatoeba)):
        for lang, score in per_lang.items():
            rows.append(
                dict(model=model, params_m=params, setting="none", mode="english", seed=0,
                     task=task, lang=lang, score=score)
            )  # fmt: skip
    # a smaller model that would fail both checks must not be the one checked
    rows += [
        dict(model="small", params_m=10.0, setting="none", mode="english", seed=0,
             task=t, lang="de", score=1.0)
        for t in ("xnli", "tatoeba")
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_pass_at_the_thresholds():
    chance = 100 / 3
    xnli = {"en": 90.0, "de": chance + 15, "es": 60.0, "ru": 55.0, "zh": 49.0, "ar": 30.0}
    out = acceptance.check(_scores(xnli, {"de": 80.0, "fr": 80.0}), "mini").set_index("check")
    zs = out.iloc[0]
    assert zs["value"] == "4 of 5" and zs["status"] == "pass"  # en is not counted
    assert out.iloc[1]["value"] == "80.0" and out.iloc[1]["status"] == "pass"
    assert "big:" in zs["detail"]


def test_fail_just_below_the_thresholds():
    xnli = {"de": 48.3, "es": 60.0, "ru": 55.0, "zh": 49.0}  # 48.3 < 33.33 + 15
    out = acceptance.check(_scores(xnli, {"de": 79.9, "fr": 80.0}), "mini")
    assert list(out["status"]) == ["fail", "fail"]
    assert out.iloc[0]["value"] == "3 of 4"


def test_other_profiles_are_informative_and_missing_tasks_not_checkable():
    out = acceptance.check(_scores({"de": 90.0}, {"de": 90.0}), "smoke")
    assert set(out["status"]) == {"informative"}
    empty = acceptance.check(pd.DataFrame(columns=["task"]), "mini")
    assert set(empty["status"]) == {"not checkable"}


@pytest.mark.parametrize("setting", ["mnli"])
def test_only_the_pretrained_setting_counts(setting):
    s = _scores({"de": 90.0, "es": 90.0, "ru": 90.0, "zh": 90.0}, {"de": 95.0})
    s["setting"] = setting
    out = acceptance.check(s, "mini")
    assert set(out["status"]) == {"not checkable"}
