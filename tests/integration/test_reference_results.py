"""Published reference results match what the analysis computes from their run records.

``results/cpu-real/`` (``invoke publish-reference --profile cpu-real``) holds the analysis
bundle and every finished run's ``metrics.json``. These tests recompute the long score
table, the task scores and the scale tables from ``runs/target/*/metrics.json`` with the
analysis phase's own functions and compare them with the committed CSVs; then re-render
the index from the committed bundle. ``XSTILTS_REFERENCE_UNDER_TEST`` points the same
check at another published folder (e.g. one made from a cut-down cpu-real run).
"""

from __future__ import annotations

import io as stdio
import os
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
from bundle_fixture import make_fake_bundle  # noqa: E402

from xstilts import real_text, reference_results, report, xtreme
from xstilts.phases import analysis
from xstilts.run_params import AnalysisRunParams

COMMITTED = reference_results.results_dir("cpu-real")
UNDER_TEST = os.environ.get("XSTILTS_REFERENCE_UNDER_TEST", "")
TABLES = ("scores", "task_scores", "scale_summary", "scale_group")
SORT = {
    "scores": ["model", "setting", "mode", "seed", "task", "lang"],
    "task_scores": ["model", "setting", "mode", "task"],
    "scale_summary": ["setting", "baseline", "mode", "model", "group", "task"],
    "scale_group": ["setting", "baseline", "mode", "model", "group"],
}


def recompute(folder: Path, scratch: Path) -> dict[str, pd.DataFrame]:
    """The bundle's tables, recomputed from the published target runs' ``metrics.json``."""
    dirs = sorted(p for p in (folder / "runs" / "target").iterdir() if p.is_dir())
    scores = analysis.collect(AnalysisRunParams(target_dirs=[str(d) for d in dirs]))
    scale = analysis._scale_tables(scores, scratch)  # the analysis's own scale tables
    return {
        "scores": scores,
        "task_scores": analysis.task_scores(scores),
        "scale_summary": scale["scale_summary"],
        "scale_group": scale["scale_group"],
    }


def _as_written(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A table as its CSV reads back, in one row order (run order is not part of it)."""
    frame = pd.read_csv(stdio.StringIO(frame.to_csv(index=False)))
    return frame.sort_values(SORT[name], kind="stable").reset_index(drop=True)


def check_published(folder: Path, scratch: Path) -> None:
    """Assert the published tables equal the recomputed ones and the index renders them."""
    for name, ours in recompute(folder, scratch).items():
        committed = pd.read_csv(folder / "bundle" / f"{name}.csv")
        pdt.assert_frame_equal(
            _as_written(ours, name),
            _as_written(committed, name),
            check_dtype=False,
            check_exact=False,
            rtol=1e-9,
            atol=1e-9,
            obj=f"{folder.name}/bundle/{name}.csv",
        )
    check_index(folder, scratch)


def check_index(folder: Path, scratch: Path) -> None:
    """The index re-rendered from the committed bundle shows every headline gap cell."""
    html = report.render_index(folder / "bundle", scratch / "site" / "index.html").read_text()
    start = html.index('<section id="real-text">')
    section = html[start : html.index("</section>", start)]
    group = pd.read_csv(folder / "bundle" / "scale_group.csv")
    headline = group[
        (group["baseline"] == "english") & group["mode"].isin(xtreme.MULTILINGUAL_MODES)
    ]
    assert len(headline), "the bundle has no multilingual-vs-English gap"
    for row in headline.itertuples():
        assert report._signed(row.mean, 2) in section, (row.setting, row.mode, row.model)


def edit_one_score(folder: Path, out: Path) -> Path:
    """A copy of a published folder with one committed task score changed by one point."""
    shutil.copytree(folder, out)
    path = out / "bundle" / "task_scores.csv"
    frame = pd.read_csv(path)
    frame.loc[0, "score"] += 1.0
    frame.to_csv(path, index=False)
    return out


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    """A folder in the published layout: the real analysis on simulated run records."""
    work = tmp_path_factory.mktemp("simulated")
    bundle = make_fake_bundle(work / "store", profile="cpu-real")
    folder = work / "published"
    shutil.copytree(bundle, folder / "bundle")
    for d in (work / "store" / "runs" / "target").iterdir():
        dst = folder / "runs" / "target" / d.name
        dst.mkdir(parents=True)
        shutil.copyfile(d / "metrics.json", dst / "metrics.json")
    return folder


def test_committed_reference_results_match_their_run_records(tmp_path):
    if not (COMMITTED / "bundle").is_dir():
        pytest.skip(f"no reference results committed yet ({COMMITTED}); make them with: "
                    "invoke reproduce --profile cpu-real && invoke publish-reference --profile cpu-real")  # fmt: skip
    check_published(COMMITTED, tmp_path)


def test_committed_reference_results_hold_no_data():
    if not COMMITTED.is_dir():
        pytest.skip(f"no reference results committed yet ({COMMITTED})")
    reference_results.check_no_data(COMMITTED)
    assert not list(COMMITTED.rglob("*.jsonl"))


def test_results_under_test_match_their_run_records(tmp_path):
    if not UNDER_TEST:
        pytest.skip("set XSTILTS_REFERENCE_UNDER_TEST to a folder made by publish-reference")
    check_published(Path(UNDER_TEST), tmp_path)
    reference_results.check_no_data(Path(UNDER_TEST))


def test_an_edited_published_number_fails(tmp_path):
    source = Path(UNDER_TEST) if UNDER_TEST else COMMITTED
    if not (source / "bundle").is_dir():
        pytest.skip("no published reference results to edit (committed or under test)")
    with pytest.raises(AssertionError, match="task_scores"):
        check_published(edit_one_score(source, tmp_path / "edited"), tmp_path)


def test_check_passes_on_simulated_publication_and_fails_when_edited(simulated, tmp_path):
    check_published(simulated, tmp_path / "ok")
    with pytest.raises(AssertionError, match="task_scores"):
        check_published(edit_one_score(simulated, tmp_path / "edited"), tmp_path / "bad")


def test_check_fails_when_a_gap_is_edited(simulated, tmp_path):
    out = tmp_path / "edited"
    shutil.copytree(simulated, out)
    path = out / "bundle" / "scale_group.csv"
    frame = pd.read_csv(path)
    frame.loc[0, "mean"] -= 0.5
    frame.to_csv(path, index=False)
    with pytest.raises(AssertionError, match="scale_group"):
        check_published(out, tmp_path)


def test_check_no_data_refuses_dataset_text(tmp_path):
    (tmp_path / "runs" / "data" / "d-0" / "dataset").mkdir(parents=True)
    (tmp_path / "runs" / "data" / "d-0" / "dataset" / "en.csv").write_text("x")
    with pytest.raises(ValueError, match="dataset"):
        reference_results.check_no_data(tmp_path)
    shutil.rmtree(tmp_path / "runs")
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "en.jsonl").write_text("{}")
    with pytest.raises(ValueError, match="en.jsonl"):
        reference_results.check_no_data(tmp_path)


def test_published_records_hold_no_local_absolute_paths(tmp_path):
    from xstilts import grid, paths
    from xstilts.params import load_profile

    profile = load_profile("cpu-real")
    data_root = str(grid.data_root(profile.data.root))
    run = tmp_path / "runs" / "target" / "r-0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(
        f'{{"encoder_source": "{paths.ROOT}/runs/intermediate/i-0/encoder"}}'
    )
    (run / "params.yaml").write_text(f"data:\n  root: {data_root}\n")
    (tmp_path / "notes.txt").write_text(str(paths.ROOT))  # not a record: left alone
    replaced = reference_results.make_portable(tmp_path, reference_results.local_paths(profile))
    assert replaced == 2
    assert (
        run / "metrics.json"
    ).read_text() == '{"encoder_source": "runs/intermediate/i-0/encoder"}'
    assert (run / "params.yaml").read_text() == f"data:\n  root: {profile.data.root}\n"
    assert (tmp_path / "notes.txt").read_text() == str(paths.ROOT)


def test_committed_reference_results_hold_no_local_paths():
    if not COMMITTED.is_dir():
        pytest.skip(f"no reference results committed yet ({COMMITTED})")
    local = re.compile(r"/[\w.-]+(?:/[\w.-]+)*/(?:runs|params|shared)/")
    leaks = [
        f.relative_to(COMMITTED).as_posix()
        for f in COMMITTED.rglob("*")
        if f.suffix in reference_results.PORTABLE_SUFFIXES and local.search(f.read_text())
    ]
    assert not leaks, leaks[:5]


def test_publish_refuses_an_unfinished_analysis(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    with pytest.raises(FileNotFoundError, match="has not finished"):
        reference_results.publish("smoke", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_section_says_how_to_make_missing_reference_results(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RESULTS", str(tmp_path / "nothing"))
    bundle = make_fake_bundle(tmp_path / "mini")
    html = report.render_index(bundle, tmp_path / "site" / "index.html").read_text()
    assert 'id="real-text-missing"' in html
    assert "invoke publish-reference --profile cpu-real" in html


def test_section_puts_the_reported_run_beside_the_reference(simulated, tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(simulated, results / "cpu-real")
    monkeypatch.setenv("XSTILTS_RESULTS", str(results))
    bundle = report.load_bundle(make_fake_bundle(tmp_path / "mini"))
    section = real_text.section(bundle)
    assert section["run_profile"] == "mini"
    rows = [r for g in section["table"] for r in g["rows"]]
    assert all(r["run"] is not None for r in rows)  # the same simulated cells
    pub = [r["published"] for r in rows if r["published"]]
    assert pub and all(r["mode"] == "english+mlm" for r in rows if r["published"])
    assert {p["label"] for p in pub} >= {"ANLI+"}  # our mnli slot against v1's ANLI+


def test_committed_section_says_e5_retrieval_cannot_test_v1s_retrieval_gains():
    if not (COMMITTED / "bundle" / "task_scores.csv").is_file():
        pytest.skip(f"no reference results committed yet ({COMMITTED})")
    bundle = report.load_bundle(COMMITTED / "bundle")
    assert real_text.E5_RETRIEVAL_CAVEAT in real_text.section(bundle)["caveats"]
