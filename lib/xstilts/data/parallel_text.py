"""Real human-translated English-X sentence pairs from gettext catalogues, for Tatoeba and BUCC.

The official Tatoeba and BUCC files cannot be downloaded offline, so the mini profile builds
both retrieval tasks from translations that ship inside packages:

- ``django`` (PyPI, BSD-3-Clause): the compiled ``.mo`` catalogues of Django and its contrib
  apps (``django/conf/locale`` and ``django/contrib/*/locale``), ~100 locales, ~250 usable
  pairs per major language. Always present, because Django is pinned in ``requirements.txt``.
- ``debian`` (LGPL-2.1-or-later): GLib/GTK catalogues under ``/usr/share/locale``
  (``glib20.mo``, ``gtk20.mo``, ``gtk20-properties.mo``; Debian packages ``libglib2.0-data``
  and ``libgtk2.0-common``), ~2,000 more pairs per major language. An extra source: read when
  present, skipped when a machine lacks it.

Both are in ``DEFAULT_SOURCES`` because Django alone is too small for the mini profile's BUCC
(a split of ``retrieval_size=100`` needs 150 pairs per split pool; Django gives ~115-135).
Where the Debian files are missing the data changes; the data card's ``counts.by_source`` and
``fingerprint`` record exactly what was read, and ``sources=("django",)`` pins Django alone.

Compiled ``.mo`` files hold only translations that passed review (``msgfmt`` drops fuzzy
entries), so every pair is a human translation. Texts are UI strings: shorter and more
formulaic than Tatoeba, but real parallel text in real scripts.

    from xstilts.data import parallel_text as pt
    pt.available_languages()                  # languages with >= 100 pairs
    rows = pt.tatoeba_pairs("de", 200)        # [{"id", "lang", "src", "trg"}, ...]
    sents, gold = pt.bucc_split("ru", "test", n_gold=100, n_distractors=50)
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import html
import importlib.metadata
import importlib.util
import random
import re
from pathlib import Path

from xstilts import xtreme

SOURCE_DJANGO = "django"
SOURCE_DEBIAN = "debian"
ALL_SOURCES: tuple[str, ...] = (SOURCE_DJANGO, SOURCE_DEBIAN)
DEFAULT_SOURCES: tuple[str, ...] = ALL_SOURCES
MIN_ENGLISH_WORDS = 4
DEBIAN_LOCALE_ROOT = Path("/usr/share/locale")
DEBIAN_CATALOGUES = ("glib20.mo", "gtk20.mo", "gtk20-properties.mo")

SOURCE_INFO: dict[str, dict] = {
    SOURCE_DJANGO: {
        "name": "Django locale catalogues (django/conf/locale, django/contrib/*/locale)",
        "package": "django (PyPI)",
        "licence": "BSD-3-Clause",
    },
    SOURCE_DEBIAN: {
        "name": "GLib/GTK gettext catalogues (" + ", ".join(DEBIAN_CATALOGUES) + ")",
        "package": "libglib2.0-data, libgtk2.0-common (Debian)",
        "licence": "LGPL-2.1-or-later",
    },
}

# XTREME language code -> locale folder name, where the folder is not the code itself.
_DJANGO_LOCALE = {"zh": "zh_Hans"}
_DEBIAN_LOCALE = {"zh": "zh_CN"}

# Candidate languages: every non-English language of an XTREME target task.
CANDIDATE_LANGUAGES: tuple[str, ...] = tuple(
    sorted({lang for spec in xtreme.TARGET_TASKS.values() for lang in spec.languages} - {"en"})
)

LANGUAGE_SOURCES: dict[str, dict[str, dict]] = {
    lang: {
        SOURCE_DJANGO: {**SOURCE_INFO[SOURCE_DJANGO], "locale": _DJANGO_LOCALE.get(lang, lang)},
        SOURCE_DEBIAN: {**SOURCE_INFO[SOURCE_DEBIAN], "locale": _DEBIAN_LOCALE.get(lang, lang)},
    }
    for lang in CANDIDATE_LANGUAGES
}

# Scripts of the candidate languages (for the data card and the >= 3 non-Latin check).
SCRIPTS: dict[str, str] = {
    **{lang: "Latin" for lang in CANDIDATE_LANGUAGES},
    **dict.fromkeys(("ar", "fa", "ur"), "Arabic"),
    **dict.fromkeys(("bg", "kk", "ru"), "Cyrillic"),
    **dict.fromkeys(("hi", "mr"), "Devanagari"),
    "bn": "Bengali",
    "el": "Greek",
    "he": "Hebrew",
    "ja": "Japanese",
    "ka": "Georgian",
    "ko": "Hangul",
    "ml": "Malayalam",
    "my": "Myanmar",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "zh": "Han",
}

# --------------------------------------------------------------------------- text cleaning

# Removed from both sides: HTML/XML tags, printf and Python format placeholders.
_TAG = re.compile(r"<[/A-Za-z%][^<>]{0,400}>")  # <b>, </a>, <a href="...">, <%s>
_PLACEHOLDER = re.compile(
    r"%%"  # an escaped percent sign: kept as "%"
    r"|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"  # %(name)s
    r"|%\d+\$[-#0+]*\d*(?:\.\d+)?[a-zA-Z]"  # %1$s
    # %s %d %.2f %lu %r, and strftime codes (%H:%M); no space flag, so "50% sure" survives
    r"|%[-#0+_^]*\d*(?:\.\d+)?(?:l{1,2}|h|z)?[A-Za-z]"
    r"|\{[^{}]{0,40}\}"  # {0} {name}
)
# GTK mnemonics: "_Open" in English, "打开(_O)" in CJK translations.
_MNEMONIC_SUFFIX = re.compile(r"\s*[(（]_[^)）]{1,2}[)）]")
_MNEMONIC = re.compile(r"(?<!_)_(?=[^\W_])")
_HOLE = "\x00"
_HOLE_RUN = re.compile(r"\x00(?:\s*\x00)+")
_HOLE_BEFORE_PUNCT = re.compile(r" ?\x00+ ?(?=[.,;:!?)\]。、，：；！？])")
# Quotes or brackets left empty once a placeholder inside them is gone: “” «» „“ () ...
_EMPTY_PAIR = re.compile(
    "|".join(
        f"{re.escape(o)}[\\s\x00]*{re.escape(c)}"
        for o, c in (
            "“”",
            "„“",
            "„”",
            "«»",
            "»«",
            "‘’",
            "‚‘",
            '""',
            "''",
            "「」",
            "『』",
            "《》",
            "()",
            "（）",
            "[]",
        )
    )
)
_SPACE = re.compile(r"\s+")
# Chinese and Japanese put no spaces between words: a hole between two such characters
# closes up instead of becoming a space (Korean is not included: it spaces its words).
_CJK = "\u3000-\u30ff\u3400-\u9fff\uff00-\uffef"
_CJK_HOLE = re.compile(f"(?<=[{_CJK}])\\s*\x00\\s*(?=[{_CJK}])")
_LETTER = re.compile(r"[^\W\d_]")


def clean_text(text: str, gui: bool = False) -> str:
    """Strip placeholders, tags and mnemonics from a UI string, keeping the sentence.

    Removed pieces first become a marker ("hole") so that the spacing around them can be
    repaired in one place: quotes left empty vanish, a hole before punctuation or between two
    Chinese/Japanese characters closes up, any other hole becomes one space.

    Args:
        text: A msgid or msgstr.
        gui: Also strip GTK keyboard mnemonics (``_Open``, ``(_O)``); off for Django, whose
            strings can contain literal underscores.

    Returns:
        The cleaned, whitespace-normalised string ("" when nothing textual remains).
    """
    text = html.unescape(_TAG.sub(_HOLE, text))
    text = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else _HOLE, text)
    if gui:
        text = _MNEMONIC.sub("", _MNEMONIC_SUFFIX.sub("", text))
    previous = None
    while previous != text:  # nested empties, e.g. "(“%s”)"
        previous, text = text, _EMPTY_PAIR.sub(_HOLE, text)
    text = _HOLE_BEFORE_PUNCT.sub("", _HOLE_RUN.sub(_HOLE, text))
    text = _CJK_HOLE.sub("", text).replace(_HOLE, " ")
    return _SPACE.sub(" ", text).strip(" -:")


def _keep(english: str, foreign: str) -> bool:
    """Filter: a real sentence on both sides that is actually translated."""
    return (
        sum(bool(_LETTER.search(word)) for word in english.split()) >= MIN_ENGLISH_WORDS
        and bool(_LETTER.search(foreign))
        and foreign.casefold() != english.casefold()
    )


# --------------------------------------------------------------------------- catalogue reading


def _django_root() -> Path | None:
    spec = importlib.util.find_spec("django")
    return Path(next(iter(spec.submodule_search_locations))) if spec else None


def catalogue_files(lang: str, source: str) -> list[Path]:
    """List the ``.mo`` files of one language and source that exist on this machine."""
    locale = LANGUAGE_SOURCES[lang][source]["locale"]
    if source == SOURCE_DJANGO:
        root = _django_root()
        if root is None:
            return []
        return sorted(root.glob(f"**/locale/{locale}/LC_MESSAGES/*.mo"))
    folder = DEBIAN_LOCALE_ROOT / locale / "LC_MESSAGES"
    return [folder / name for name in DEBIAN_CATALOGUES if (folder / name).is_file()]


def read_mo(path: Path) -> list[tuple[str, str]]:
    """Return the (msgid, msgstr) pairs of a compiled catalogue.

    Plural entries contribute their singular form only (index 0 of the English singular);
    ``msgctxt`` contexts are dropped from the key.
    """
    with open(path, "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    pairs = []
    for key, value in catalog.items():
        if isinstance(key, tuple):  # plural: (msgid, index)
            if key[1] != 0:
                continue
            key = key[0]
        key = key.split("\x04", 1)[-1]  # "context\x04msgid"
        if key and value:
            pairs.append((key, value))
    return pairs


@functools.lru_cache(maxsize=128)
def aligned_pairs(lang: str, sources: tuple[str, ...] = DEFAULT_SOURCES) -> tuple[dict, ...]:
    """All cleaned, filtered, de-duplicated pairs of a language, in sorted order.

    Duplicates are removed on both sides (case-insensitively): each English sentence and each
    translation occurs once, so a pair's partner is unique, which retrieval scoring assumes.
    Earlier sources win ties (Django before Debian).

    Args:
        lang: XTREME language code.
        sources: Catalogue families to read (``"django"``, ``"debian"``).

    Returns:
        Tuple of ``{"en", "xx", "source"}`` dicts sorted by English text.

    Raises:
        KeyError: Unknown language or source.
    """
    if lang not in LANGUAGE_SOURCES:
        raise KeyError(f"unknown language {lang!r}; allowed: {' '.join(CANDIDATE_LANGUAGES)}")
    candidates = []
    for rank, source in enumerate(sources):
        if source not in SOURCE_INFO:
            raise KeyError(f"unknown source {source!r}; allowed: {', '.join(SOURCE_INFO)}")
        for path in catalogue_files(lang, source):
            for msgid, msgstr in read_mo(path):
                gui = source == SOURCE_DEBIAN
                english, foreign = clean_text(msgid, gui), clean_text(msgstr, gui)
                if _keep(english, foreign):
                    candidates.append((english, foreign, rank, source))
    seen_en: set[str] = set()
    seen_xx: set[str] = set()
    pairs = []
    for english, foreign, _rank, source in sorted(candidates):
        en_key, xx_key = english.casefold(), foreign.casefold()
        if en_key in seen_en or xx_key in seen_xx:
            continue
        seen_en.add(en_key)
        seen_xx.add(xx_key)
        pairs.append({"en": english, "xx": foreign, "source": source})
    return tuple(pairs)


def _shuffled(pairs, seed: int, salt: str) -> list[dict]:
    """Seeded shuffle of the sorted pairs (sort first, so the order never depends on I/O)."""
    out = list(pairs)
    random.Random(f"{salt}:{seed}").shuffle(out)
    return out


def _split_of(pair: dict) -> str:
    """Seed-independent dev/test assignment (hash of the English side), so splits never meet."""
    digest = hashlib.sha256(pair["en"].casefold().encode("utf-8")).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


# --------------------------------------------------------------------------- public API


def available_languages(
    min_pairs: int = 100, sources: tuple[str, ...] = DEFAULT_SOURCES
) -> list[str]:
    """Return the candidate languages with at least ``min_pairs`` aligned pairs, sorted."""
    return [
        lang
        for lang in CANDIDATE_LANGUAGES
        if len(aligned_pairs(lang, tuple(sources))) >= min_pairs
    ]


def tatoeba_pairs(
    lang: str, n: int, seed: int = 0, sources: tuple[str, ...] = DEFAULT_SOURCES
) -> list[dict]:
    """Return ``n`` aligned pairs in the Tatoeba schema.

    Args:
        lang: XTREME language code.
        n: Number of pairs.
        seed: Sampling seed (same seed, same rows).
        sources: Catalogue families to read.

    Returns:
        Rows ``{"id": "de-000000", "lang", "src": foreign sentence, "trg": English}``;
        row ``i`` is one aligned pair.

    Raises:
        ValueError: Fewer than ``n`` pairs exist for ``lang``.
    """
    pairs = aligned_pairs(lang, tuple(sources))
    if n > len(pairs):
        raise ValueError(
            f"tatoeba {lang}: asked for {n} pairs, only {len(pairs)} available from sources "
            f"{list(sources)}"
        )
    chosen = _shuffled(pairs, seed, f"tatoeba:{lang}")[:n]
    return [
        {"id": f"{lang}-{i:06d}", "lang": lang, "src": p["xx"], "trg": p["en"]}
        for i, p in enumerate(chosen)
    ]


def tatoeba_dev_pairs(
    lang: str, n: int, test_size: int, seed: int = 0, sources: tuple[str, ...] = DEFAULT_SOURCES
) -> list[dict]:
    """Return up to ``n`` aligned pairs disjoint from ``tatoeba_pairs(lang, test_size, seed)``.

    The dev pairs are the next ``n`` pairs of the same seeded order after the test pairs,
    so the test set is unchanged by adding a dev split. Used to choose the retrieval
    read-out layer on held-out parallel text, never on the test pairs.

    Raises:
        ValueError: Fewer than 20 pairs are left after the test pairs.
    """
    pairs = aligned_pairs(lang, tuple(sources))
    chosen = _shuffled(pairs, seed, f"tatoeba:{lang}")[test_size : test_size + n]
    if len(chosen) < 20:
        raise ValueError(
            f"tatoeba {lang}: only {len(chosen)} pairs left for dev after {test_size} test pairs"
        )
    return [
        {"id": f"{lang}-dev-{i:06d}", "lang": lang, "src": p["xx"], "trg": p["en"]}
        for i, p in enumerate(chosen)
    ]


def bucc_split(
    lang: str,
    split: str,
    n_gold: int,
    n_distractors: int,
    seed: int = 0,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
) -> tuple[list[dict], list[dict]]:
    """Build a BUCC-style mining split: gold pairs hidden among non-parallel sentences.

    Each side gets the ``n_gold`` gold sentences plus ``n_distractors`` sentences whose
    translation is *not* on the other side (drawn from disjoint pairs), so a miner must also
    decide when to emit nothing. Each side is shuffled separately and numbered in that order,
    so ids reveal nothing about alignment. Dev and test come from disjoint pair pools.

    Args:
        lang: XTREME language code (BUCC: de fr ru zh).
        split: ``"dev"`` or ``"test"``.
        n_gold: Parallel pairs.
        n_distractors: Non-parallel sentences added to *each* side.
        seed: Sampling seed.
        sources: Catalogue families to read.

    Returns:
        ``(sentences, gold)``: rows ``{"id", "lang", "side": "src"|"trg", "text"}`` with ids
        ``<lang>-NNNNNN`` on the foreign side and ``en-NNNNNN`` on the English side, and gold
        rows ``{"src_id", "trg_id"}``.

    Raises:
        ValueError: Unknown split, or the split's pool is too small.
    """
    if split not in ("dev", "test"):
        raise ValueError(f"split must be 'dev' or 'test', got {split!r}")
    pool = [p for p in aligned_pairs(lang, tuple(sources)) if _split_of(p) == split]
    need = n_gold + 2 * n_distractors
    if need > len(pool):
        raise ValueError(
            f"bucc {lang}/{split}: needs {need} pairs (n_gold + 2*n_distractors), pool has "
            f"{len(pool)} from sources {list(sources)}; lower retrieval_size or install the "
            "Debian catalogues (apt-get install libglib2.0-data libgtk2.0-common)"
        )
    rng = random.Random(f"bucc:{lang}:{split}:{seed}")
    rng.shuffle(pool)
    gold = pool[:n_gold]
    src_only = pool[n_gold : n_gold + n_distractors]  # foreign side kept, English dropped
    trg_only = pool[n_gold + n_distractors : need]  # English side kept, foreign dropped
    src = [(p["xx"], k) for k, p in enumerate(gold)] + [(p["xx"], None) for p in src_only]
    trg = [(p["en"], k) for k, p in enumerate(gold)] + [(p["en"], None) for p in trg_only]
    rng.shuffle(src)
    rng.shuffle(trg)
    rows, src_id, trg_id = [], {}, {}
    for side, items, prefix, ids in (("src", src, lang, src_id), ("trg", trg, "en", trg_id)):
        for i, (text, k) in enumerate(items):
            row_id = f"{prefix}-{i:06d}"
            rows.append({"id": row_id, "lang": lang, "side": side, "text": text})
            if k is not None:
                ids[k] = row_id
    gold_rows = sorted(
        ({"src_id": src_id[k], "trg_id": trg_id[k]} for k in range(n_gold)),
        key=lambda r: r["src_id"],
    )
    return rows, gold_rows


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def card(lang: str, sources: tuple[str, ...] = DEFAULT_SOURCES) -> dict:
    """Return the data card of one language: source, licence, realness and counts.

    The fingerprint hashes the pairs, so two machines can check they built the same data
    (Debian catalogues in particular may differ or be missing).
    """
    pairs = aligned_pairs(lang, tuple(sources))
    by_source = {s: sum(p["source"] == s for p in pairs) for s in sources}
    used = [s for s in sources if by_source[s]]
    digest = hashlib.sha256("\n".join(f"{p['en']}\t{p['xx']}" for p in pairs).encode("utf-8"))
    return {
        "lang": lang,
        "script": SCRIPTS.get(lang, "unknown"),
        "source": "; ".join(SOURCE_INFO[s]["name"] for s in used) or "none",
        "licence": " AND ".join(SOURCE_INFO[s]["licence"] for s in used) or "none",
        "real": True,
        "human_translated": True,
        "domain": "software UI strings",
        "versions": {"django": _version("django")},
        "locales": {s: LANGUAGE_SOURCES[lang][s]["locale"] for s in sources},
        "counts": {
            "pairs": len(pairs),
            "by_source": by_source,
            "dev_pool": sum(_split_of(p) == "dev" for p in pairs),
            "test_pool": sum(_split_of(p) == "test" for p in pairs),
        },
        "fingerprint": digest.hexdigest()[:16],
    }
