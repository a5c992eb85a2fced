"""Read and write a dataset folder: ``<root>/<task>/<split>/<lang>.jsonl`` (+ ``cards.json``).

Every phase reads data through this module, so no phase knows whether the rows came
from the mini generator or from the real XTREME files.
"""

from __future__ import annotations

from pathlib import Path

from xstilts import io


def dataset_dir(data_run_dir: str | Path) -> Path:
    """The dataset folder inside a data-phase run folder."""
    return Path(data_run_dir) / "dataset"


def split_path(root: str | Path, task: str, split: str, lang: str) -> Path:
    """Path of one (task, split, language) file."""
    return Path(root) / task / split / f"{lang}.jsonl"


def write_split(root: str | Path, task: str, split: str, lang: str, rows: list[dict]) -> Path:
    """Write one split atomically."""
    return io.write_jsonl(split_path(root, task, split, lang), rows)


def read_split(root: str | Path, task: str, split: str, lang: str) -> list[dict]:
    """Read one split; raise ``FileNotFoundError`` naming the file and the data run."""
    p = split_path(root, task, split, lang)
    if not p.exists():
        raise FileNotFoundError(
            f"{task}/{split}/{lang} is missing from the dataset folder {root} "
            "(is the language in the profile's data.languages?)"
        )
    return io.read_jsonl(p)


def languages(root: str | Path, task: str, split: str) -> list[str]:
    """Languages present for a (task, split)."""
    d = Path(root) / task / split
    return sorted(p.name[: -len(".jsonl")] for p in d.glob("*.jsonl") if ".gold." not in p.name)


def write_gold(root: str | Path, task: str, split: str, lang: str, gold: list[dict]) -> Path:
    """Write BUCC gold pairs beside the sentence file."""
    return io.write_jsonl(Path(root) / task / split / f"{lang}.gold.jsonl", gold)


def read_gold(root: str | Path, task: str, split: str, lang: str) -> list[dict]:
    """Read BUCC gold pairs."""
    return io.read_jsonl(Path(root) / task / split / f"{lang}.gold.jsonl")


def write_cards(root: str | Path, cards: dict) -> Path:
    """Write the data cards of every dataset in the folder."""
    return io.atomic_write_json(Path(root) / "cards.json", cards)


def read_cards(root: str | Path) -> dict:
    """Read the data cards."""
    return io.read_json(Path(root) / "cards.json")
