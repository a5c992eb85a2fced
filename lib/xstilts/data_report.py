"""Data cards for the data phase's HTML report: one row per dataset, sizes, label balance.

Sizes and label balance are computed from the written files (not copied from a generator's
own description), so the card shows what the training phases will actually read.
"""

from __future__ import annotations

from collections import Counter
from html import escape

import pandas as pd

from xstilts import xtreme
from xstilts.data import store

# Which field holds the label, by task kind; None = no single label per row.
LABEL_FIELD = {"classification": "label", "multiple_choice": "label"}


def label_balance(rows: list[dict], kind: str) -> dict:
    """Fraction of rows per label (classification / multiple choice) or per tag (tagging)."""
    if kind in LABEL_FIELD:
        counts = Counter(str(r[LABEL_FIELD[kind]]) for r in rows)
    elif kind == "tagging":
        counts = Counter(t for r in rows for t in r["tags"])
    elif kind == "qa":
        counts = Counter("unanswerable" if not r["answers"]["text"] else "answerable" for r in rows)
    else:
        return {}
    total = sum(counts.values()) or 1
    return {k: round(v / total, 3) for k, v in sorted(counts.items())}


def dataset_table(summary: dict) -> pd.DataFrame:
    """One row per (task, split, language) file with size and label balance."""
    root = summary["dataset_dir"]
    rows = []
    for f in summary["files"]:
        kind = xtreme.task(f["task"]).kind
        data = store.read_split(root, f["task"], f["split"], f["lang"])
        balance = label_balance(data, kind)
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(balance.items())[:6])
        rows.append(
            {
                **f,
                "kind": kind,
                "translated": any(r.get("translated") for r in data[:5]),
                "real_annotated": bool(data) and "-real-" in data[0]["id"],
                "balance": top,
            }
        )
    return pd.DataFrame(rows)


def _card_rows(cards: dict) -> list[dict]:
    out = []
    for task, card in cards.items():
        if "languages" in card and isinstance(card["languages"], dict):
            for lang, c in card["languages"].items():
                out.append(
                    {
                        "dataset": f"{task} ({lang})",
                        "source": c.get("source", ""),
                        "licence": c.get("licence", c.get("license", "")),
                        "real": "real" if c.get("real", True) else "generated",
                    }
                )
        else:
            out.append(
                {
                    "dataset": task,
                    "source": card.get("source", ""),
                    "licence": card.get("licence", card.get("license", "")),
                    "real": "real" if card.get("real") else "generated",
                }
            )
            for lang, c in card.get("real_test_sets", {}).items():
                out.append(
                    {
                        "dataset": f"{task} test ({lang})",
                        "source": f"{c['source']}; {c['package']}; {c['n']} of "
                        f"{c['corpus_sentences']} sentences (<= {c['max_words']} words)",
                        "licence": c["licence"],
                        "real": "real (annotated)",
                    }
                )
    return out


def hygiene_rows(cards: dict) -> list[dict]:
    """Split hygiene per task: held-out dev, test text skipped while generating, overlap left."""
    out = []
    for task, card in cards.items():
        held = card.get("heldout_dev")
        overlap = card.get("test_overlap", {})
        skipped = card.get("skipped_as_test_text", {})
        if not (held or overlap or skipped):
            continue
        out.append(
            {
                "dataset": task,
                "held-out dev": (
                    f"{held['n_dev']} of {held['n_dev'] + held['n_train']} English train rows "
                    f"(seed {held['seed']})"
                    if held
                    else ""
                ),
                "items skipped as test text": ", ".join(f"{k}: {v}" for k, v in skipped.items()),
                "rows containing test text": ", ".join(f"{k}: {v}" for k, v in overlap.items()),
            }
        )
    return out


def cards_html(summary: dict) -> str:
    """HTML tables: data cards (source, licence, real/generated) and per-file sizes."""
    cards = pd.DataFrame(_card_rows(summary["cards"]))
    files = dataset_table(summary)
    pivot = files.pivot_table(index=["task", "split"], columns="lang", values="n", aggfunc="sum")
    note = (
        "<p><b>Note.</b> Rows marked <i>generated</i> come from the deterministic mini-XTREME "
        "generator (templated, synthetic); <i>real</i> rows are human translations shipped "
        "in packages, and <i>real (annotated)</i> rows are human-annotated test sets shipped "
        "in packages (test only, reported apart from the task averages). Labels of the "
        "generated dev/test sets are identical across languages.</p>"
    )
    balance = files[["task", "split", "lang", "real_annotated", "balance"]].drop_duplicates(
        ["task", "split", "real_annotated"]
    )
    return (
        "<h3>Data cards</h3>"
        + cards.to_html(index=False, escape=True)
        + note
        + "<h3>Split hygiene</h3><p>No training split may contain a test item's text (nor a "
        "translation of one), and a dev split none of the tests it selects for; texts are "
        "compared normalised (NFKC, case-folded, no punctuation). Generated items that do are "
        "skipped; official splits are kept as published and the count is shown.</p>"
        + pd.DataFrame(hygiene_rows(summary["cards"])).to_html(index=False, escape=True)
        + "<h3>Examples per file</h3>"
        + pivot.fillna(0).astype(int).to_html(escape=True)
        + "<h3>Label balance (first language of each split; real annotated sets apart)</h3>"
        + balance.to_html(index=False, escape=True)
        + f"<p>Built in {escape(str(summary['wall_s']))} s.</p>"
    )


def plot_sizes(summary: dict):
    """Bar chart of examples per task and split."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    files = pd.DataFrame(summary["files"])
    agg = files.groupby(["task", "split"], as_index=False)["n"].sum()
    fig, ax = plt.subplots(figsize=(8, 3))
    sns.barplot(data=agg, x="task", y="n", hue="split", ax=ax)
    ax.set(ylabel="examples (all languages)", xlabel="")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def metrics(summary: dict) -> dict:
    """What the data run writes to ``metrics.json``."""
    return {
        "phase": "data",
        "status": "ok",
        "dataset_dir": summary["dataset_dir"],
        "cards": summary["cards"],
        "files": summary["files"],
        "wall_s": summary["wall_s"],
    }
