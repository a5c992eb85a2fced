"""Real parallel text from Django's catalogues: coverage, cleaning, determinism, BUCC splits."""

from __future__ import annotations

import pytest

from xstilts.data import parallel_text as pt


def test_at_least_ten_languages_and_three_non_latin_scripts():
    langs = pt.available_languages(min_pairs=100)
    assert len(langs) >= 10, langs
    scripts = {pt.SCRIPTS[lang] for lang in langs} - {"Latin"}
    assert len(scripts) >= 3, scripts
    assert {"de", "fr", "ru", "zh"} <= set(langs)  # the BUCC languages


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("“%(value)s” is not a valid UUID.", "is not a valid UUID."),
        (
            "Ensure this value has at most %(limit_value)d characters.",
            "Ensure this value has at most characters.",
        ),
        ('<a href="%(url)s">Log in</a> again &amp; go', "Log in again & go"),
        ("Item {0} removed from %s", "Item removed from"),
        ("打开文件（%s）失败", "打开文件失败"),
        ("%s 파일을 열 수 없습니다", "파일을 열 수 없습니다"),
        ("100%% done", "100% done"),
    ],
)
def test_clean_text(raw, clean):
    assert pt.clean_text(raw) == clean


def test_gui_mnemonics_are_stripped_only_for_gui_catalogues():
    assert pt.clean_text("Be_fore the _Open item", gui=True) == "Before the Open item"
    assert pt.clean_text("打开(_O)", gui=True) == "打开"
    assert pt.clean_text("field user_name is required") == "field user_name is required"


def test_pairs_are_filtered_and_unique():
    pairs = pt.aligned_pairs("ru")  # literal "<" (e.g. "angle bracket “<”") is real text
    assert len(pairs) >= 100
    for p in pairs:
        assert len(p["en"].split()) >= pt.MIN_ENGLISH_WORDS
        assert p["xx"] and p["xx"] != p["en"]
        assert "%(" not in p["en"] and "%s" not in p["xx"] and "<a " not in p["en"]
    assert len({p["en"].casefold() for p in pairs}) == len(pairs)
    assert len({p["xx"].casefold() for p in pairs}) == len(pairs)


def test_tatoeba_rows_are_deterministic_and_seeded():
    rows = pt.tatoeba_pairs("de", 100, seed=0)
    assert rows == pt.tatoeba_pairs("de", 100, seed=0)
    assert rows != pt.tatoeba_pairs("de", 100, seed=1)
    assert rows[0]["id"] == "de-000000" and set(rows[0]) == {"id", "lang", "src", "trg"}
    assert len({r["src"] for r in rows}) == len({r["trg"] for r in rows}) == 100
    with pytest.raises(ValueError, match="only"):
        pt.tatoeba_pairs("de", 10_000)


@pytest.mark.parametrize("lang", ["de", "fr", "ru", "zh"])
def test_bucc_dev_and_test_are_disjoint_with_valid_gold(lang):
    splits = {
        s: pt.bucc_split(lang, s, n_gold=40, n_distractors=20, seed=0) for s in ("dev", "test")
    }
    texts = {}
    for split, (rows, gold) in splits.items():
        assert rows == pt.bucc_split(lang, split, n_gold=40, n_distractors=20, seed=0)[0]
        src = {r["id"]: r["text"] for r in rows if r["side"] == "src"}
        trg = {r["id"]: r["text"] for r in rows if r["side"] == "trg"}
        assert len(src) == len(trg) == 60 and len(gold) == 40
        assert all(g["src_id"] in src and g["trg_id"] in trg for g in gold)
        assert all(i.startswith(f"{lang}-") for i in src) and all(i.startswith("en-") for i in trg)
        # Distractors really are unpaired: their translation is not on the other side.
        english_of = {p["xx"]: p["en"] for p in pt.aligned_pairs(lang)}
        paired_src = {g["src_id"] for g in gold}
        trg_texts = set(trg.values())
        for sid, text in src.items():
            assert (english_of[text] in trg_texts) == (sid in paired_src)
        texts[split] = set(src.values()) | set(trg.values())
    assert not texts["dev"] & texts["test"]
    # Disjointness does not depend on the seed.
    other_seed = pt.bucc_split(lang, "test", n_gold=40, n_distractors=20, seed=7)[0]
    assert not texts["dev"] & {r["text"] for r in other_seed}


def test_bucc_rejects_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        pt.bucc_split("de", "train", 10, 5)
    with pytest.raises(ValueError, match="pool"):
        pt.bucc_split("de", "dev", 1000, 500)


def test_card_and_sources():
    card = pt.card("zh", sources=(pt.SOURCE_DJANGO,))
    assert card["real"] is True and card["licence"] == "BSD-3-Clause"
    assert card["counts"]["pairs"] == len(pt.aligned_pairs("zh", (pt.SOURCE_DJANGO,)))
    assert card["counts"]["dev_pool"] + card["counts"]["test_pool"] == card["counts"]["pairs"]
    assert card["locales"]["django"] == "zh_Hans" and card["script"] == "Han"
    assert pt.LANGUAGE_SOURCES["de"]["debian"]["licence"] == "LGPL-2.1-or-later"
    full = pt.card("zh")
    assert sum(full["counts"]["by_source"].values()) == full["counts"]["pairs"]


def test_django_alone_meets_the_coverage_floor():
    """A machine without the Debian catalogues still has >= 10 languages, >= 3 non-Latin."""
    langs = pt.available_languages(min_pairs=100, sources=(pt.SOURCE_DJANGO,))
    assert len(langs) >= 10 and {"de", "fr", "ru", "zh"} <= set(langs)
    assert len({pt.SCRIPTS[lang] for lang in langs} - {"Latin"}) >= 3


def test_debian_catalogues_are_an_optional_extra():
    django_only = pt.aligned_pairs("de", (pt.SOURCE_DJANGO,))
    with_debian = pt.aligned_pairs("de", pt.ALL_SOURCES)
    assert len(with_debian) >= len(django_only)
    if not pt.catalogue_files("de", pt.SOURCE_DEBIAN):
        pytest.skip("no Debian GLib/GTK catalogues on this machine")
    assert any(p["source"] == "debian" for p in with_debian)
    # The mini profile's BUCC (retrieval_size=100: 50 gold + 50 distractors a side) fits.
    for lang in ("de", "fr", "ru", "zh"):
        rows, gold = pt.bucc_split(lang, "test", n_gold=50, n_distractors=50)
        assert len(rows) == 200 and len(gold) == 50
