"""Run identity hashes only the code a run executes (xstilts.codehash)."""

import shutil

import pytest

from xstilts import codehash, paths, pipeline
from xstilts.params import load_profile

TRAINING_PHASES = ("intermediate", "target")


def _rel(files):
    return {str(p.relative_to(paths.LIB)) for p in files}


def test_training_closure_has_the_trainer_and_no_presentation_code():
    for phase in TRAINING_PHASES:
        files = _rel(codehash.executed_files(pipeline._nb(phase).resolve()))
        assert {"train.py", "heads.py", "runs.py", "__init__.py"} <= files
        assert not files & {"report.py", "paper.py", "claims.py", "templates/report.css"}
        assert "resources/claims.yaml" not in files


def test_analysis_closure_reads_the_claims_registry():
    files = _rel(codehash.executed_files(pipeline._nb("analysis").resolve()))
    assert {"claims.py", "resources/claims.yaml", "stats.py"} <= files


def test_relative_and_lazy_imports_are_followed(tmp_path, monkeypatch):
    lib = tmp_path / "xstilts"
    (lib / "sub").mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "sub" / "__init__.py").write_text("")
    (lib / "sub" / "a.py").write_text("def f():\n    from . import b\n")
    (lib / "sub" / "b.py").write_text("from ..c import x\n")
    (lib / "c.py").write_text("x = 'table.yaml'\n")
    (lib / "table.yaml").write_text("k: 1\n")
    (lib / "unused.py").write_text("")
    monkeypatch.setattr(paths, "LIB", lib)
    files = _rel(codehash.module_closure({"xstilts.sub.a"}))
    assert files == {"__init__.py", "sub/__init__.py", "sub/a.py", "sub/b.py", "c.py"}
    resources = _rel(codehash._resources_named_by(codehash.module_closure({"xstilts.sub.a"})))
    assert resources == {"table.yaml"}


def test_no_module_imports_by_computed_name():
    # The static closure is the executed closure only while nothing imports by string.
    for p in paths.LIB.rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert "import_module(" not in text and "__import__(" not in text, p


@pytest.fixture()
def lib_copy(tmp_path, monkeypatch):
    """A private copy of lib/xstilts, so a test can edit sources without touching the repo."""
    copy = tmp_path / "xstilts"
    shutil.copytree(paths.LIB, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(paths, "LIB", copy)
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    yield copy
    codehash.executed_files.cache_clear()
    codehash.code_version.cache_clear()


def _ids(profile):
    codehash.executed_files.cache_clear()
    codehash.code_version.cache_clear()
    return {r.key: r.run_id for r in pipeline.plan(profile)}


def test_css_edit_keeps_training_ids_and_trainer_edit_changes_them(lib_copy):
    profile = load_profile("smoke")
    before = _ids(profile)
    with open(lib_copy / "templates" / "report.css", "a") as f:
        f.write("\n/* a cosmetic edit */\n")
    with open(lib_copy / "resources" / "claims.yaml", "a") as f:
        f.write("\n# a registry edit\n")
    after_css = _ids(profile)
    training = [k for k in before if k.split("/")[0] in TRAINING_PHASES]
    assert training and all(after_css[k] == before[k] for k in training)
    with open(lib_copy / "train.py", "a") as f:
        f.write("\n# a trainer edit\n")
    after_train = _ids(profile)
    assert all(after_train[k] != before[k] for k in training)
    data = [k for k in before if k.startswith("data/")]
    assert data and all(after_train[k] == before[k] for k in data)
