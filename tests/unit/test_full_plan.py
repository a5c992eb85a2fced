"""The full profile's dry run plans every cell of the paper's grid, with a cost estimate."""

from xstilts import pipeline, sweep, xtreme
from xstilts.params import load_profile


def test_full_plan_covers_paper_grid(capsys):
    profile = load_profile("full", {"data": {"root": "tests/fixtures/xtreme"}})
    plan = pipeline.plan(profile)
    inter = [r for r in plan if r.phase == "intermediate"]
    target = [r for r in plan if r.phase == "target"]
    settings = len(xtreme.INTERMEDIATE_TASKS) + 1  # nine tasks + multi-task
    # English and English + MLM for every setting; the translated modes only for the tasks
    # of XTREME's translate-train (MNLI, SQuAD v1.1): 10 * 2 + 2 * 2 cells per model and seed
    per_seed = settings * 2 + len(xtreme.TRANSLATE_TRAIN) * 2
    assert len(inter) == 3 * 3 * per_seed
    # eight runs per upstream cell: XQuAD and MLQA share one SQuAD v1.1 fine-tune
    assert len(target) == 3 * 3 * (1 + per_seed) * 8
    cells = {
        (r.cell["model"], r.cell["setting"], task, lang)
        for r in target
        for task, langs in [(r.params["task"], r.params["languages"]),
                            *r.params["also_evaluate"].items()]
        for lang in langs
    }  # fmt: skip
    for task, spec in xtreme.TARGET_TASKS.items():
        for lang in spec.languages:
            if lang != "en" or spec.train_task:
                assert ("XLM-R-large", "squad_v1", task, lang) in cells, (task, lang)
    # every phase-(iii) run of a trained setting reads exactly one phase-(ii) encoder
    assert all(len(r.deps) == 2 for r in target if r.cell["setting"] != "none")
    assert sweep.print_plan("full") == 0
    out = capsys.readouterr().out
    assert "estimated total" in out and "XLM-R-large" in out


def test_full_mlm_corpus_covers_the_40_xtreme_languages():
    # v1 §3.3: "a multilingual corpus across the 40 languages covered by the XTREME benchmark"
    from xstilts.params import load_profile

    p = load_profile("full")
    assert len(set(p.intermediate.mlm_languages)) == 40
    assert set(p.intermediate.mlm_languages) == {"en", *p.data.languages}
