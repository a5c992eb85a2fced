"""The real-split source (``data.real_splits``) on the real XTREME files of ../shared/xtreme-real.

Skips cleanly when the folder (``paths.xtreme_real()``) is absent. Nothing of it is copied
into the repository: the missing-file test links the files into a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from xstilts import paths, pipeline
from xstilts.data import real_files, real_splits, store
from xstilts.data.splits import leaking_ids, units_by_language
from xstilts.params import ParamsError, load_profile
from xstilts.phases import data
from xstilts.run_params import DataRunParams

REAL = paths.xtreme_real()
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent")
# Small sizes: the same code path as cpu-real, a few seconds on 2 cores.
SMALL = {
    "data": {
        "subsample": {"train": 120, "dev": 30, "test": 40},
        "subsample_per_task": {"tatoeba": {"dev": 20, "test": 30}, "bucc2018": {"dev": 60, "test": 60}},
        "retrieval_languages": ["de", "zh", "ja"],
    },
    "intermediate": {"mlm_size": 60},
}  # fmt: skip


def _params(tmp, seed: int = 0, overrides=None) -> DataRunParams:
    profile = load_profile("cpu-real", overrides=overrides or SMALL)
    run = next(r for r in pipeline.plan(profile) if r.phase == "data")
    return DataRunParams(**{**run.params, "run_dir": str(tmp), "seed": seed})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent")
    tmp = tmp_path_factory.mktemp("real-split")
    p = _params(tmp)
    summary = data.build(p)
    return p, store.dataset_dir(tmp), summary


def _ids(root, task, split, lang) -> list[str]:
    return [r["id"] for r in store.read_split(root, task, split, lang)]


@needs_real
def test_parallel_parts_are_disjoint_by_item_and_across_languages(built):
    _p, root, _ = built
    for test_task, train_task in (("xnli", "mnli"), ("pawsx", "pawsx")):
        langs = store.languages(root, test_task, "test")
        test = {lang: _ids(root, test_task, "test", lang) for lang in langs}
        assert len({tuple(v) for v in test.values()}) == 1  # the same items in every language
        held = set(test["en"])
        for split in ("train", "dev"):
            for t in (train_task, test_task):
                for lang in store.languages(root, t, split):
                    assert not held & set(_ids(root, t, split, lang)), (t, split, lang)
    # The translated mode reads the human translations of exactly the English items, in order.
    en = _ids(root, "mnli", "train", "en")
    for lang in ("de", "es", "ru", "zh", "ar"):
        assert _ids(root, "mnli", "train", lang) == en


@needs_real
def test_no_test_text_in_any_training_or_dev_split(built):
    p, root, summary = built
    files = data.plan_files(p)
    tests: dict = {}
    for task, split, lang in files:
        if split == "test" and store.split_path(root, task, split, lang).exists():
            tests.setdefault(lang, []).extend(store.read_split(root, task, split, lang))
    units = units_by_language(tests)
    checked = 0
    for task, split, lang in files:
        if split == "train" and store.split_path(root, task, split, lang).exists():
            rows = store.read_split(root, task, split, lang)
            assert not leaking_ids({lang: rows}, units), (task, split, lang)
            checked += 1
    assert checked >= 10
    for task, card in summary["cards"].items():
        for split, n in card.get("test_overlap", {}).items():
            assert n == 0, (task, split)


@needs_real
def test_card_records_rule_seed_sizes_digest_and_stand_in(built):
    _p, root, _ = built
    cards = store.read_cards(root)
    assert set(cards) >= {"mnli", "xnli", "pawsx", "squad_v1", "commonsenseqa", "tatoeba", "mlm"}
    for task, card in cards.items():
        assert card["stand_in"] == real_splits.STAND_IN[task]
        assert card["read_from"] and all(not f.startswith("/") for f in card["read_from"])
        for split, rec in card["splits"].items():
            assert rec["seed"] == 0 and "{" not in rec["rule"], (task, split)
            assert rec["sizes"] and len(rec["ids_sha256"]) == 16
    assert "TyDiQA-GoldP is not a target" in cards["squad_v1"]["stand_in"]
    assert cards["xnli"]["splits"]["test"]["sizes"]["de"] == 40
    # BUCC: every gold pair keeps both of its sentences, in both halves.
    for split in ("dev", "test"):
        ids = set(_ids(root, "bucc2018", split, "zh"))
        gold = store.read_gold(root, "bucc2018", split, "zh")
        assert gold and all({g["src_id"], g["trg_id"]} <= ids for g in gold)
        assert not ids & set(_ids(root, "bucc2018", "test" if split == "dev" else "dev", "zh"))


@needs_real
def test_splits_are_reproducible_and_change_with_the_seed():
    def xnli_test(seed):
        c = real_splits.Ctx(REAL, seed, {"xnli": ["en", "de"]}, {"subsample": {"test": 50}})
        made = real_splits.Made()
        real_splits.BUILDERS["xnli"](c, made)
        return [r["id"] for r in made.tests["xnli"]["de"]]

    assert xnli_test(0) == xnli_test(0)
    assert xnli_test(0) != xnli_test(1)
    groups = [0, 0, 1, 2, 2, 3]
    held, rest = real_splits.take_groups(range(6), groups, 0, "t", 0.5)
    assert not {groups[i] for i in held} & {groups[i] for i in rest}  # whole items only


@needs_real
def test_mlm_and_training_text_never_come_from_part_b():
    langs = {"xnli": ["en", "de", "zh"], "mnli": ["en", "de", "zh"], "mlm": ["en", "de", "zh"]}
    c = real_splits.Ctx(REAL, 0, langs, {}, mlm_size=300)  # sizes 0: every part-B item
    made = real_splits.Made()
    real_splits.BUILDERS["xnli"](c, made)
    part_b = made.tests["xnli"]
    assert len(part_b["de"]) >= 1200  # about half of the 2,490 items
    units = units_by_language(part_b)
    for key in (("mlm", "train"), ("mnli", "train"), ("mnli", "dev")):
        assert not leaking_ids(made.pools[key], units), key


def test_missing_file_gives_one_line_error(tmp_path):
    slots = {"xnli": ["en", "de"]}
    with pytest.raises(real_files.RealSplitError, match="not a folder"):
        real_files.require(tmp_path / "absent", slots)
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli" / "dev-en.tsv").write_text("a\tb\tentailment\r\n", encoding="utf-8")
    with pytest.raises(real_files.RealSplitError) as e:
        real_files.require(tmp_path, slots)
    msg = str(e.value)
    assert "\n" not in msg and "xnli/dev-de.tsv" in msg and "download_data.sh" in msg


@needs_real
def test_temporary_copy_with_one_file_removed_stops_before_work(tmp_path):
    copy = tmp_path / "xtreme"
    for f in REAL.rglob("*"):  # links, not copies: nothing of the data is written
        if f.is_file():
            (copy / f.relative_to(REAL)).parent.mkdir(parents=True, exist_ok=True)
            (copy / f.relative_to(REAL)).symlink_to(f)
    (copy / "commonsenseqa" / "dev_rand_split.jsonl").unlink()
    p = _params(tmp_path / "run", overrides={**SMALL, "data": {**SMALL["data"], "root": str(copy)}})
    with pytest.raises(
        real_files.RealSplitError, match=r"commonsenseqa/dev_rand_split.jsonl is missing"
    ):
        data.build(p)
    assert not (tmp_path / "run" / "dataset").exists()  # no file was written


def test_params_reject_bad_real_split_input():
    with pytest.raises(ParamsError, match="data.root is required"):
        load_profile("cpu-real", overrides={"data": {"root": ""}})
    with pytest.raises(ParamsError, match="TyDiQA-GoldP is not a target"):
        tasks = [*load_profile("cpu-real").target.tasks, "tydiqa"]
        load_profile("cpu-real", overrides={"target": {"tasks": tasks}})
    with pytest.raises(ParamsError, match="subsample_per_task"):
        load_profile("cpu-real", overrides={"data": {"subsample_per_task": {"xnli": {"tst": 3}}}})
    with pytest.raises(ParamsError, match="intermediate.translations"):
        load_profile("cpu-real", overrides={"intermediate": {"translations": ["cosmosqa"]}})
    with pytest.raises(ParamsError, match="is for data.source real-split"):
        load_profile("mini", overrides={"data": {"missing_languages": {"udpos": ["de"]}}})


def test_preflight_rejects_an_absent_root(tmp_path):
    from xstilts import cli

    profile = load_profile("cpu-real", overrides={"data": {"root": str(tmp_path / "absent")}})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cli.preflight(profile)


def test_cpu_real_plans():
    profile = load_profile("cpu-real")
    plan = pipeline.plan(profile)
    cells = {(r.cell.get("setting"), r.cell.get("mode")) for r in plan if r.phase == "intermediate"}
    assert ("mnli", "translated") in cells and ("commonsenseqa", "translated") not in cells
    models = {r.cell["model"] for r in plan if r.cell.get("setting") == "commonsenseqa"}
    assert models == {"e5-L12"}  # intermediate.restrict
    out = subprocess.run(
        [sys.executable, "-m", "invoke", "plan", "--profile", "cpu-real"],
        cwd=paths.ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "runs: data 1" in out.stdout


def test_cpu_real_plans_unchanged_with_hub_model_names():
    """`largest` in the budget rules follows `models:`, so mBERT / XLM-R names plan as is."""
    hub = [
        {"name": "bert-base-multilingual-cased", "label": "mBERT"},
        {"name": "xlm-roberta-base", "label": "XLM-R base"},
    ]
    plan = pipeline.plan(load_profile("cpu-real", overrides={"models": hub}))
    qa = {r.cell["model"] for r in plan if r.cell.get("setting") == "squad_v1"}
    assert qa == {"XLM-R base"}  # the last entry of models:, as e5-L12 is in the ladder
    nli = {r.cell["model"] for r in plan if r.cell.get("setting") == "mnli"}
    assert nli == {"mBERT", "XLM-R base"}
