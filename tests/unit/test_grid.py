"""Which cells the plan keeps: translated modes only with translations, one SQuAD fine-tune
for XQuAD and MLQA, and CCG planned out (with the reason) where the profile allows it."""

import pytest

from xstilts import cli, grid, paths, pipeline, xtreme
from xstilts.data import loaders
from xstilts.params import disclosures, load_profile
from xstilts.phases.analysis import task_records

FIXTURES = "tests/fixtures/rehearsal"  # official layouts, CCG included


def _inter(plan):
    return {(r.cell["setting"], r.cell["mode"]) for r in plan if r.phase == "intermediate"}


def test_translated_modes_only_for_tasks_with_translations(capsys):
    profile = load_profile("full", {"data": {"root": FIXTURES}})
    cells = _inter(pipeline.plan(profile))
    translated = {s for s, m in cells if m in grid.TRANSLATED_MODES}
    assert translated == set(xtreme.TRANSLATE_TRAIN) == {"mnli", "squad_v1"}
    # English and English + MLM stay for every setting, multi-task included
    assert {s for s, m in cells if m == "english+mlm"} == {*xtreme.INTERMEDIATE_TASKS, "multitask"}
    (line,) = grid.grid(profile).left_out
    assert "hellaswag" in line and "multitask" in line and "mnli" not in line.split(":")[0]
    cli.print_left_out(profile)
    assert "left out: translated and english+translated for anli" in capsys.readouterr().out
    assert any(d.startswith("Not run: translated") for d in disclosures(profile))


def test_user_translations_add_a_task_and_the_data_run_reads_only_those():
    over = {"data": {"root": FIXTURES}, "intermediate": {"translations": ["hellaswag"]}}
    plan = pipeline.plan(load_profile("full", over))
    assert ("hellaswag", "translated") in _inter(plan)
    assert ("qqp", "translated") not in _inter(plan)
    assert plan[0].params["translated_tasks"] == ["mnli", "squad_v1", "hellaswag"]


def test_mini_source_translates_every_task():
    profile = load_profile("mini")
    assert grid.grid(profile).left_out == []
    assert all(grid.has_translations(profile, t) for t in xtreme.INTERMEDIATE_TASKS)


def test_unknown_translation_task_is_rejected():
    with pytest.raises(ValueError, match="intermediate.translations"):
        load_profile("full", {"intermediate": {"translations": ["xnli"]}})


def test_one_squad_finetune_serves_xquad_and_mlqa():
    assert xtreme.shared_finetune(["xnli", "mlqa", "xquad"]) == {
        "xnli": ("xnli",),
        "xquad": ("xquad", "mlqa"),
    }
    assert xtreme.shared_finetune(["mlqa"]) == {"mlqa": ("mlqa",)}  # alone: its own run
    plan = pipeline.plan(load_profile("full", {"data": {"root": FIXTURES}}))
    target = [r for r in plan if r.phase == "target"]
    assert not [r for r in target if r.params["task"] == "mlqa"]
    squad = [r for r in target if r.params["task"] == "xquad"]
    assert squad and all(
        r.params["also_evaluate"] == {"mlqa": pipeline.eval_languages(plan_profile(), "mlqa")}
        for r in squad
    )
    assert xtreme.SELECTION_TASK["xquad"] == xtreme.SELECTION_TASK["mlqa"] == "squad_v1"


def test_shared_finetune_needs_equal_settings():
    with pytest.raises(ValueError, match="share one fine-tune on squad_v1"):
        load_profile("full", {"target": {"per_task": {"mlqa": {"epochs": 3}}}})


def plan_profile():
    return load_profile("full", {"data": {"root": FIXTURES}})


def test_shared_run_metrics_give_one_record_per_task():
    m = {"task": "xquad", "metric": "squad", "status": "ok", "per_language": {"de": {"score": 1}},
         "also": {"mlqa": {"task": "mlqa", "metric": "mlqa", "group": "qa",
                           "per_language": {"de": {"score": 2}}}}}  # fmt: skip
    xquad, mlqa = task_records(m)
    assert (xquad["task"], xquad["per_language"]["de"]["score"]) == ("xquad", 1)
    assert (mlqa["task"], mlqa["metric"], mlqa["per_language"]["de"]["score"]) == (
        "mlqa",
        "mlqa",
        2,
    )
    assert "also" not in mlqa and mlqa["status"] == "ok"
    assert task_records({"task": "xnli"}) == [{"task": "xnli"}]


def test_missing_ccgbank_names_the_licence(tmp_path):
    with pytest.raises(loaders.DataSourceError) as e:
        loaders.load("ccg", "train", "en", tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "LDC2005T13" in msg and "licensed by the LDC" in msg


def test_paper_runs_without_ccg_when_it_is_absent(tmp_path):
    absent = load_profile("paper", {"data": {"root": str(tmp_path)}})
    g = grid.grid(absent)
    assert "ccg" not in g.tasks and "ccg" not in pipeline.data_tasks(absent)
    assert all("ccg" not in tasks for _, tasks, _ in g.cells)
    assert g.left_out and "LDC2005T13" in g.left_out[0]
    assert any("ccg" in d and d.startswith("Not run") for d in disclosures(absent))
    present = load_profile("paper", {"data": {"root": FIXTURES}})
    assert "ccg" in grid.grid(present).tasks
    settings = {s for s, _ in _inter(pipeline.plan(present))}
    assert len(settings) == len(xtreme.INTERMEDIATE_TASKS) + 1
    # full does not plan it out: its data run stops with the licence line instead
    assert "ccg" in grid.grid(load_profile("full", {"data": {"root": str(tmp_path)}})).tasks


def test_fallback_root_is_searched_file_by_file(tmp_path):
    real, fixtures = tmp_path / "real", paths.ROOT / FIXTURES
    (real / "xnli").mkdir(parents=True)
    # XTREME's test file: two columns, labels stripped; the fallback's XNLI-1.0 is labelled
    (real / "xnli" / "test-de.tsv").write_text("Ein Satz.\tNoch einer.\n", encoding="utf-8")
    with pytest.raises(loaders.F.LabelsStrippedError):
        loaders.load("xnli", "test", "de", real)
    out = tmp_path / "out"
    card = loaders.materialize("xnli", "test", ["de"], [real, fixtures], out, limit=5, seed=3)
    assert card["sizes"] == {"de": 5} and card["read_from"]["de"][0].startswith(str(fixtures))
    assert all(
        r["label"] in xtreme.NLI_LABELS
        for r in loaders.load("xnli", "test", "de", [real, fixtures])
    )


def test_bucc_subsample_keeps_gold_pairs_whole():
    rows = [{"id": f"s{i}", "side": "src"} for i in range(20)]
    rows += [{"id": f"t{i}", "side": "trg"} for i in range(30)]
    gold = [{"src_id": f"s{i}", "trg_id": f"t{i}"} for i in range(10)]
    kept, pairs = loaders.subsample("bitext_mining", rows, gold, 8, seed=1)
    ids = {r["id"] for r in kept}
    assert len(pairs) == 4 and all(p["src_id"] in ids and p["trg_id"] in ids for p in pairs)
    assert sum(r["side"] == "src" for r in kept) == 8 and sum(r["side"] == "trg" for r in kept) == 8
    # non-gold sentences of the kept sides are distractors, never a dropped pair's partner
    dropped = {g["src_id"] for g in gold} - {p["src_id"] for p in pairs}
    assert not dropped & ids
