"""Profile validation: every malformed profile fails before compute with a precise message."""

import dataclasses

import papermill
import pytest
import yaml

from xstilts import paths, run_params
from xstilts.params import ParamsError, load_profile


def _write(tmp_path, data):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def _smoke():
    return yaml.safe_load((paths.PARAMS / "smoke.yaml").read_text())


@pytest.mark.parametrize("name", ["smoke", "mini", "full"])
def test_shipped_profiles_validate(name):
    p = load_profile(name)
    assert p.profile == name
    assert p.models and p.target.tasks


BAD = [
    # (mutation, expected fragments of the message)
    (lambda d: d.update(seedz=[0]), ["unknown key 'seedz'", "allowed keys here"]),
    (
        lambda d: d["intermediate"]["train"].update(learning_rate=1e-5),
        ["intermediate.train.learning_rate"],
    ),
    (lambda d: d["intermediate"]["train"].update(lr=-1e-5), ["intermediate.train.lr", "> 0"]),
    (lambda d: d["intermediate"]["train"].update(lr="fast"), ["intermediate.train.lr", "number"]),
    (
        lambda d: d["target"].update(tasks=["xnlii"]),
        ["target.tasks", "'xnlii'", "allowed", "pawsx"],
    ),
    (
        lambda d: d["intermediate"].update(tasks=["squad"]),
        ["intermediate.tasks", "'squad'", "squad_v1"],
    ),
    (lambda d: d["data"].update(languages=[]), ["data.languages is empty"]),
    (lambda d: d["data"].update(languages=["klingon"]), ["data.languages", "'klingon'", "allowed"]),
    (lambda d: d.update(seeds=[]), ["seeds must be a non-empty list"]),
    (lambda d: d.update(seeds=[0, 0]), ["duplicates"]),
    (lambda d: d.update(models=[]), ["models must list at least one encoder"]),
    (lambda d: d["target"]["train"].update(batch_size=0), ["target.train.batch_size", ">= 1"]),
    (
        lambda d: d["target"]["train"].update(batch_size=True),
        ["target.train.batch_size", "integer"],
    ),
    (
        lambda d: d["intermediate"].update(modes=["bilingual"]),
        ["intermediate.modes", "'bilingual'", "english+mlm"],
    ),
    (lambda d: d["intermediate"].update(modes=["translated"]), ["translated_languages is empty"]),
    (lambda d: d["compute"].update(executor="kubernetes"), ["compute.executor", "slurm"]),
    (lambda d: d["data"].update(source="hub"), ["data.source", "mini"]),
    (lambda d: d["target"].update(per_task={"xnli": {"epoch": 2}}), ["target.per_task.xnli.epoch"]),
    (lambda d: d.update(models=[{"label": "x"}]), ["missing required key 'models[0].name'"]),
    (lambda d: d.update(intermediate="mnli"), ["intermediate must be a mapping"]),
    (lambda d: d["target"].update(tasks=[]), ["target.tasks is empty"]),
    (lambda d: d["intermediate"]["train"].update(warmup_ratio=1.5), ["warmup_ratio"]),
]


@pytest.mark.parametrize("mutate,fragments", BAD, ids=[f[0] for f in BAD])
def test_malformed_profiles_fail_with_named_problem(tmp_path, mutate, fragments):
    data = _smoke()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ParamsError) as e:
        load_profile(path)
    msg = str(e.value)
    assert str(path) in msg  # names the file
    for frag in fragments:
        assert frag in msg, msg
    assert "\n" not in msg  # one line


def test_not_yaml_mapping(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(ParamsError, match="mapping at the top level"):
        load_profile(p)


def test_unknown_profile_name():
    with pytest.raises(
        ParamsError,
        match="available: cpu-real, full, mini, paper, rehearsal, rehearsal-ci, scale, smoke",
    ):
        load_profile("smok")


@pytest.mark.parametrize("phase", sorted(run_params.PHASE_PARAMS))
def test_notebook_parameters_match_schema(phase):
    nb = paths.NOTEBOOKS / run_params.NOTEBOOKS[phase]
    declared = set(papermill.inspect_notebook(str(nb)))
    schema = {f.name for f in dataclasses.fields(run_params.PHASE_PARAMS[phase])}
    assert declared == schema


def test_pipeline_params_cover_notebook_contract():
    from xstilts import pipeline

    profile = load_profile("smoke")
    for run in pipeline.plan(profile):
        injected = set(pipeline.notebook_parameters(run))
        schema = {f.name for f in dataclasses.fields(run_params.PHASE_PARAMS[run.phase])}
        assert injected <= schema, injected - schema
        run_params.check(run.phase, pipeline.notebook_parameters(run))


def _restricted(tmp_path, restrict):
    d = _smoke()
    d["models"] = [{"name": "tiny-random", "label": "a"}, {"name": "tiny-random", "label": "b"}]
    d["intermediate"]["modes"] = ["english", "translated"]
    d["intermediate"]["translated_languages"] = ["de"]
    d["target"]["tasks"] = ["xnli", "tatoeba"]
    d["target"]["restrict"] = restrict
    return load_profile(_write(tmp_path, d))


def test_restrict_limits_target_cells_but_keeps_the_baseline(tmp_path):
    from xstilts import pipeline

    p = _restricted(tmp_path, {"xnli": {"models": ["b"], "modes": ["translated"]}})
    cells = {
        (r.cell["model"], r.cell["setting"], r.cell["mode"], r.cell["task"])
        for r in pipeline.plan(p)
        if r.phase == "target"
    }
    xnli = {c[:3] for c in cells if c[3] == "xnli"}
    assert xnli == {("b", "none", "english"), ("b", "mnli", "translated")}
    assert len([c for c in cells if c[3] == "tatoeba"]) == 6  # 2 models x (none + 2 modes)


def test_restrict_seeds_keeps_the_baseline_only_for_the_kept_seeds(tmp_path):
    from xstilts import pipeline

    d = _smoke()
    d["seeds"] = [0, 1, 2]
    d["models"] = [{"name": "tiny-random", "label": "a"}]
    d["intermediate"]["modes"] = ["english"]
    d["intermediate"]["restrict"] = {"mnli": {"seeds": [1]}}
    d["target"]["tasks"] = ["xnli", "tatoeba"]
    d["target"]["restrict"] = {"xnli": {"seeds": [0, 1]}}
    plan = pipeline.plan(load_profile(_write(tmp_path, d)))
    inter = {r.cell["seed"] for r in plan if r.phase == "intermediate"}
    assert inter == {1}
    cells = {
        (r.cell["task"], r.cell["setting"], r.cell["seed"]) for r in plan if r.phase == "target"
    }
    assert {c for c in cells if c[0] == "xnli"} == {
        ("xnli", "none", 0), ("xnli", "none", 1), ("xnli", "mnli", 1)
    }  # fmt: skip
    assert {c for c in cells if c[0] == "tatoeba"} == {
        ("tatoeba", "none", 0), ("tatoeba", "none", 1), ("tatoeba", "none", 2),
        ("tatoeba", "mnli", 1),
    }  # fmt: skip
    d["target"]["restrict"] = {"xnli": {"seeds": [5]}}
    with pytest.raises(ParamsError, match="target.restrict.xnli.seeds"):
        load_profile(_write(tmp_path, d))


@pytest.mark.parametrize(
    "restrict,fragment",
    [
        ({"pawsx": {"models": ["a"]}}, "target.restrict"),
        ({"xnli": {"model": ["a"]}}, "target.restrict.xnli"),
        ({"xnli": {"models": ["c"]}}, "target.restrict.xnli.models"),
        ({"xnli": {"modes": []}}, "non-empty list"),
    ],
)
def test_bad_restrict_fails_validation(tmp_path, restrict, fragment):
    with pytest.raises(ParamsError, match=fragment):
        _restricted(tmp_path, restrict)


def test_intermediate_restrict_drops_the_cell_and_its_targets(tmp_path):
    from xstilts import grid, pipeline

    d = _smoke()
    d["models"] = [{"name": "tiny-random", "label": "a"}, {"name": "tiny-random", "label": "b"}]
    d["intermediate"]["modes"] = ["english", "translated"]
    d["intermediate"]["translated_languages"] = ["de"]
    d["intermediate"]["restrict"] = {"mnli": {"models": ["b"], "modes": ["english"]}}
    d["target"]["tasks"] = ["xnli"]
    p = load_profile(_write(tmp_path, d))
    plan = pipeline.plan(p)
    inter = {(r.cell["model"], r.cell["mode"]) for r in plan if r.phase == "intermediate"}
    assert inter == {("b", "english")}
    target = {
        (r.cell["model"], r.cell["setting"], r.cell["mode"]) for r in plan if r.phase == "target"
    }
    assert target == {("a", "none", "english"), ("b", "none", "english"), ("b", "mnli", "english")}
    assert any("intermediate.restrict" in line for line in grid.grid(p).left_out)
    d["intermediate"]["restrict"] = {"mnli": {"modes": ["english+mlm"]}}
    with pytest.raises(ParamsError, match="intermediate.restrict.mnli.modes"):
        load_profile(_write(tmp_path, d))
    d["intermediate"]["restrict"] = {"qqp": {"models": ["a"]}}
    with pytest.raises(ParamsError, match="intermediate.restrict"):
        load_profile(_write(tmp_path, d))


def test_extends_merges_over_the_base_profile(tmp_path):
    full = load_profile("full")
    paper = load_profile("paper")
    assert [m.label for m in paper.models] == ["XLM-R-large"] and paper.seeds == [1]
    assert paper.intermediate.modes == ["english", "english+mlm"]
    assert paper.intermediate.tasks == full.intermediate.tasks  # inherited
    assert paper.target == full.target
    scale = load_profile("scale")
    assert len(scale.models) == 3 and len(scale.seeds) == 3
    assert scale.intermediate.tasks == ["mnli", "squad_v1"]
    assert scale.intermediate.train == full.intermediate.train


def test_extends_cycle_and_bad_value_are_rejected(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(f"extends: {b}\n")
    b.write_text(f"extends: {a}\n")
    with pytest.raises(ParamsError, match="cycle"):
        load_profile(a)
    c = tmp_path / "c.yaml"
    c.write_text("extends: [full]\n")
    with pytest.raises(ParamsError, match="extends: expected a profile name"):
        load_profile(c)
