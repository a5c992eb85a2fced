"""The real files the ``real-split`` source reads, and the one-line error when one is absent.

Every path is relative to ``data.root``, a local XTREME download in the layout that
google-research/xtreme's ``scripts/download_data.sh`` writes (plus three folders it does not
write: ``tatoeba-laser/``, ``pawsx-labelled-test/`` and ``cosmosqa/``, each named with the
place that provides it). The list is checked before any file is read (``require``), so a
missing file stops the data run at once, naming the file.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.data.loaders import TATOEBA_LANG3

_XT = "XTREME's scripts/download_data.sh (google-research/xtreme) provides it"
PROVIDER = {
    "xnli": _XT,
    "pawsx": _XT,
    "panx": _XT + " (PAN-X needs AmazonPhotos.zip fetched by hand first, see XTREME's README)",
    "udpos": _XT + "; its own test files are unlabelled, so use a labelled UD test copy",
    "xquad": "the labelled originals xquad.<lang>.json (github.com/google-deepmind/xquad) "
    "provide it (XTREME's download blanks the answers)",
    "mlqa": _XT + " (MLQA_V1/dev is labelled)",
    "squad_v1": _XT + " (TyDiQA-GoldP English train, the squad_v1 slot's stand-in)",
    "bucc2018": _XT + " (the BUCC 2018 sample split, renamed dev)",
    "tatoeba": "LASER's gold-aligned originals (facebookresearch/LASER data/tatoeba/v1, into "
    "<root>/tatoeba-laser/) provide it; XTREME's tatoeba/ copy sorts the English side",
    "cosmosqa": "Cosmos QA's valid.csv (github.com/wilburOne/cosmosqa data/valid.csv) provides it",
    "commonsenseqa": "CommonsenseQA's dev_rand_split.jsonl (tau-nlp.org/commonsenseqa, or the "
    "Hugging Face tau/commonsense_qa validation split as jsonl) provides it",
}


class RealSplitError(FileNotFoundError):
    """A file the ``real-split`` source needs is absent from ``data.root``."""


def xnli(lang: str) -> str:
    """XNLI dev set (2,490 items, aligned by row across the 15 languages)."""
    return f"xnli/dev-{lang}.tsv"


def pawsx(lang: str) -> str:
    """PAWS-X dev set (2,000 items, aligned by row across the 7 languages)."""
    return f"pawsx/dev-{lang}.tsv"


def pawsx_labelled_test(lang: str) -> str:
    """A labelled PAWS-X test set (converted to XTREME's 3-column layout); not required."""
    return f"pawsx-labelled-test/test-{lang}.tsv"


def panx(split: str, lang: str) -> str:
    """PAN-X ``train-en`` / ``dev-<lang>`` (token TAB BIO tag)."""
    return f"panx/{split}-{lang}.tsv"


def udpos(split: str, lang: str) -> str:
    """UD-POS ``train-en`` / ``dev-en`` / labelled ``test-<lang>`` (token TAB UPOS)."""
    return f"udpos/{split}-{lang}.tsv"


def xquad(lang: str) -> str:
    """Labelled XQuAD original of one language."""
    return f"xquad/xquad.{lang}.json"


def mlqa(lang: str) -> str:
    """MLQA dev file with context and question in the same language."""
    return f"mlqa/MLQA_V1/dev/dev-context-{lang}-question-{lang}.json"


TYDIQA_EN_TRAIN = "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json"
COSMOSQA_VALID = "cosmosqa/valid.csv"
COMMONSENSEQA_DEV = "commonsenseqa/dev_rand_split.jsonl"


def bucc(lang: str, side: str) -> str:
    """BUCC 2018 dev (sample) file of one side (``<lang>``, ``en`` or ``gold``)."""
    return f"bucc2018/{lang}-en.dev.{side}"


def tatoeba(lang: str, side: str) -> str:
    """LASER Tatoeba file: ``side`` ``src`` (the non-English side) or ``eng``."""
    l3 = TATOEBA_LANG3[lang]
    return f"tatoeba-laser/tatoeba.{l3}-eng.{l3 if side == 'src' else 'eng'}"


def needed(slots: dict[str, list[str]]) -> list[tuple[str, str]]:
    """``(relative path, task)`` of every file the slots need.

    Args:
        slots: ``{task: languages}`` of the tasks the profile uses.
    """
    langs = {t: sorted(set(v) | {"en"}) for t, v in slots.items()}
    table = {
        "mnli": lambda: [xnli(lang) for lang in langs["mnli"]],
        "xnli": lambda: [xnli(lang) for lang in langs["xnli"]],
        "mlm": lambda: [xnli(lang) for lang in langs["mlm"]],
        "pawsx": lambda: [pawsx(lang) for lang in langs["pawsx"]],
        "panx": lambda: [panx("train", "en")] + [panx("dev", lang) for lang in langs["panx"]],
        "udpos": lambda: (
            [udpos("train", "en"), udpos("dev", "en")]
            + [udpos("test", lang) for lang in langs["udpos"]]
        ),
        "xquad": lambda: [xquad(lang) for lang in langs["xquad"]],
        "mlqa": lambda: [mlqa(lang) for lang in langs["mlqa"]],
        "squad_v1": lambda: [TYDIQA_EN_TRAIN],
        "cosmosqa": lambda: [COSMOSQA_VALID],
        "commonsenseqa": lambda: [COMMONSENSEQA_DEV],
        "bucc2018": lambda: [
            bucc(lang, side) for lang in slots["bucc2018"] for side in (lang, "en", "gold")
        ],
        "tatoeba": lambda: [
            tatoeba(lang, side) for lang in slots["tatoeba"] for side in ("src", "eng")
        ],
    }
    out = []
    for task in slots:
        # The XNLI family (mnli, xnli, mlm) reads XNLI files: name the task that needs them.
        owner = "xnli" if task in ("mnli", "mlm") else task
        out += [(path, owner) for path in table[task]()]
    return list(dict.fromkeys(out))


def require(root: str | Path, slots: dict[str, list[str]]) -> None:
    """Raise ``RealSplitError`` (one line) for the first needed file absent from ``root``."""
    base = Path(root)
    if not str(root) or not base.is_dir():
        raise RealSplitError(
            f"data.root = {str(root)!r} is not a folder: point it at a local XTREME download "
            f"({_XT})"
        )
    for rel, task in needed(slots):
        if not (base / rel).is_file():
            raise RealSplitError(f"{base / rel} is missing from data.root: {PROVIDER[task]}")
