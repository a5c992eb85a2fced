"""Every rendered scale and main-table cell checked against the simulated run records.

The fixture runs the real analysis on simulated ``metrics.json`` records (2 settings x 3
modes x 2 models x 3 seeds); here the expected numbers are recomputed straight from those
records, without the analysis code, and compared with the HTML page and the paper sources.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
import bundle_fixture  # noqa: E402
from bundle_fixture import make_fake_bundle  # noqa: E402

from xstilts import paper, report, xtreme  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("cells")
    bundle = make_fake_bundle(root)
    html = report.render_index(bundle, root / "site" / "index.html").read_text()
    tex_dir = paper.render_paper(bundle, root / "tex")
    return root, bundle, html, tex_dir


def _records(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (root / "runs" / "target").glob("*/metrics.json")]


def _run_means(records: list[dict]) -> dict:
    """(model, setting, mode, seed, task) -> {lang: score}."""
    return {
        (m["model"], m["setting"], m["mode"], m["seed"], m["task"]): {
            lang: v["score"] for lang, v in m["per_language"].items()
        }
        for m in records
    }


def expected_group_gaps(records: list[dict]) -> dict:
    """(setting, baseline, mode, group, model) -> mean over seeds of the per-seed gap.

    Per seed: languages averaged inside the run, then tasks of the group with equal
    weight; the baseline is English-only of the same setting and seed (or ``none``).
    """
    runs = _run_means(records)
    per_seed = defaultdict(lambda: defaultdict(list))
    for (model, setting, mode, seed, task), langs in runs.items():
        if setting == "none":
            continue
        base_keys = [("english", setting)] if mode != "english" else [("none", "none")]
        for baseline, base_setting in base_keys:
            base_mode = "english"
            base = runs[(model, base_setting, base_mode, seed, task)]
            gap = np.mean([langs[lg] - base[lg] for lg in langs])
            group = xtreme.TARGET_TASKS[task].group
            per_seed[(setting, baseline, mode, group, model)][seed].append(gap)
    return {
        key: float(np.mean([np.mean(tasks) for tasks in seeds.values()]))
        for key, seeds in per_seed.items()
    }


def _html_scale_rows(html: str) -> list[tuple[list[str], list[str]]]:
    table = html.split('<table id="scale-table">', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th class=\"num\">([^<]+)<br>", table)
    rows = []
    for tr in re.findall(r"<tr><td>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + tr, re.S)
        rows.append((head, cells))
    return rows


def test_every_html_scale_cell_matches_the_records(site):
    root, bundle, html, _ = site
    expected = expected_group_gaps(_records(root))
    group = pd.read_csv(bundle / "scale_group.csv")
    sig = {
        (r.setting, r.baseline, r.mode, r.group, r.model): bool(r.significant)
        for r in group.itertuples()
    }
    rows = _html_scale_rows(html)
    seen = 0
    settings = set()
    for models, cells in rows:
        setting, comparison, grp = (re.sub(r"<.*?>", "", c).strip() for c in cells[:3])
        mode, baseline = comparison.split(" − ")
        settings.add(setting)
        for model, cell in zip(models, cells[3 : 3 + len(models)], strict=True):
            key = (setting, baseline, mode, grp, model.strip())
            if key not in expected:
                assert cell.strip() == "–", key
                continue
            shown = float(re.search(r"([+−-]\d+\.\d\d)", cell).group(1).replace("−", "-"))
            assert shown == pytest.approx(expected[key], abs=0.006), key
            assert ("<b>" in cell) == sig[key], key  # bold = the table's decision
            seen += 1
    assert settings == set(bundle_fixture.SETTINGS[1:])  # both settings, not the last one
    assert seen == len(expected)


def test_known_gaps_are_decided_as_simulated(site):
    _, bundle, _, _ = site
    group = pd.read_csv(bundle / "scale_group.csv")
    big = group[(group["mode"] == "translated") & (group["model"] == "e5-L12")]
    assert (big["decision"] == "decrease").all()  # -20 points in each of 3 seeds
    null = group[group["mode"] == "english+mlm"]
    assert not null["significant"].any()  # true gap 0
    # the interval agrees with the decision in every row
    inter = group.dropna(subset=["ci_lo"])
    excludes = (inter["ci_lo"] > 0) | (inter["ci_hi"] < 0)
    assert (excludes == inter["significant"]).all()
    assert ((inter["p_adj"] < 0.05) == inter["significant"]).all()


def test_paper_scale_table_is_keyed_by_setting_and_baseline(site):
    root, bundle, _, tex_dir = site
    expected = expected_group_gaps(_records(root))
    table = (tex_dir / "table_scale.tex").read_text()
    body = table.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    models = [m for m in bundle_fixture.MODELS]  # smallest first, as the bundle orders them
    checked = 0
    for line in body.splitlines():
        if "&" not in line:
            continue
        cells = [c.strip() for c in line.rstrip("\\ ").split("&")]
        setting = re.sub(r"\\texttt\{(.*?)\}", r"\1", cells[0]).replace("\\_", "_")
        mode, baseline = (x.strip() for x in cells[1].split("$-$"))
        group = cells[2]
        for model, cell in zip(models, cells[3 : 3 + len(models)], strict=True):
            key = (setting, baseline, mode, group, model)
            if key not in expected:
                assert cell == "--"
                continue
            number = re.search(r"(\\ensuremath\{-\}|\+)(\d+\.\d)", cell)
            value = float(number.group(2)) * (-1 if "ensuremath" in number.group(1) else 1)
            assert value == pytest.approx(expected[key], abs=0.051), key
            checked += 1
    assert checked == len(expected)


def test_paper_macros_unique_with_two_settings(site):
    _, _, _, tex_dir = site
    macros = (tex_dir / "macros.tex").read_text()
    names = re.findall(r"\\newcommand\{\\(\w+)\}", macros)
    assert len(names) == len(set(names))
    for setting in ("Mnli", "SquadVOne"):
        assert f"ScaleSlope{setting}TranslatedVsEnglishRetrieval" in names
        assert f"ScaleSlope{setting}EnglishVsNoneRetrieval" in names


def test_main_table_cells_match_the_records(site):
    root, _, html, _ = site
    runs = _run_means(_records(root))
    per_cell = defaultdict(list)
    for (model, setting, mode, _seed, task), langs in runs.items():
        per_cell[(model, setting, mode, task)].append(np.mean(list(langs.values())))
    table = html.split('<table class="main">', 1)[1].split("</table>", 1)[0]
    model = None
    checked = 0
    tasks = [t for t in xtreme.TARGET_TASKS if t in bundle_fixture.TASKS]
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S):
        head = re.search(r'<td colspan="\d+">(\S+) \(', tr)
        if head:
            model = head.group(1)
            continue
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        setting, mode = cells[0], cells[1]
        for task, cell in zip(tasks, cells[2:], strict=False):
            key = (model, setting, mode, task)
            if key not in per_cell:
                assert cell.strip() == "–"
                continue
            shown = float(re.match(r"\s*(\d+\.\d)", cell).group(1))
            assert shown == pytest.approx(np.mean(per_cell[key]), abs=0.051), key
            checked += 1
    assert checked == len(per_cell)


def test_average_uses_shared_tasks_and_says_what_is_missing(site):
    _, bundle, html, _ = site
    xt = pd.read_csv(bundle / "xtreme.csv")
    assert set(xt["avg_tasks"]) == {"xnli, bucc2018, tatoeba"}  # udpos only on e5-L12
    assert "lacks udpos" in html
    assert "udpos not averaged (other rows of the table lack them)" in html


def test_best_setting_is_chosen_on_dev_not_test(site):
    _, bundle, _, _ = site
    ts = pd.read_csv(bundle / "task_scores.csv")
    best = pd.read_csv(bundle / "best_settings.csv")
    xnli = best[(best["model"] == "e5-L12") & (best["task"] == "xnli")].iloc[0]
    cands = ts[(ts["model"] == "e5-L12") & (ts["task"] == "xnli") & (ts["setting"] != "none")]
    assert xnli["selected_on"] == "dev"
    assert xnli["setting"] == cands.loc[cands["dev_score"].idxmax(), "setting"] == "squad_v1"
    assert cands.loc[cands["score"].idxmax(), "setting"] == "mnli"  # test would pick mnli
    assert xnli["score"] == pytest.approx(cands["score"][cands["dev_score"].idxmax()])
    retrieval = best[best["task"] == "tatoeba"]
    assert (retrieval["selected_on"] == "not selected").all()


def test_claim_statuses_follow_the_setup(site):
    _, bundle, html, _ = site
    claims = {c["id"]: c for c in json.loads((bundle / "claims.json").read_text())}
    assert claims[7]["run"]["status"] == "deviates by design"
    assert claims[9]["run"]["status"] == "deviates by design"
    assert claims[5]["published"]["status"] == "restated from source"
    assert claims[6]["published"]["status"] == "partially checkable"
    assert "The seed&#39;s own mark" in html or "The seed's own mark" in html
    assert "Seed ✓ (confidence)" not in html


def test_equal_seed_counts_mark_no_cell(site):
    _, _, html, _ = site
    assert 'class="few-seeds"' not in html and "budget-restricted cells" not in html


def test_cells_with_fewer_seeds_are_marked(tmp_path):
    """The committed cpu-real bundle (a real analysis) restricts some targets to seed 0."""
    bundle_dir = Path(__file__).parents[2] / "results" / "cpu-real" / "bundle"
    if not (bundle_dir / "task_scores.csv").is_file():
        pytest.skip("no committed cpu-real reference results")
    tasks = pd.read_csv(bundle_dir / "task_scores.csv")
    html = report.render_index(bundle_dir, tmp_path / "index.html").read_text()
    few = int((tasks["n_seeds"] < tasks["n_seeds"].max()).sum())
    assert few > 0 and html.count('class="few-seeds"') == few
    assert "(1 in budget-restricted cells)" in html
