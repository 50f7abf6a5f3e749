import unicodedata

import pytest

from hf_asr.data.text import UnknownCharactersError, check_transcripts, find_unknown_characters, normalize_transcript

ALPHABET = "abcdefghijklmnopqrstuvwxyz'"


def test_nfd_forms_compose_into_one_character():
    nfd = unicodedata.normalize("NFD", "Café Noël")
    assert len(nfd) == len("Café Noël") + 2  # the input really is decomposed
    assert normalize_transcript(nfd) == "café noël"
    assert normalize_transcript(nfd) == normalize_transcript("Café Noël")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Don\u2019t  STOP\u2014now!", "don't stop now"),  # curly apostrophe, em dash, case
        ("\ufb01ne,\tthanks...  ", "fine thanks"),  # ligature (NFKC), tab, punctuation
        ("STRASSE Straße", "strasse strasse"),  # casefold, not just lower
        ("route 66 is long", "route sixty six is long"),  # digits are spoken
        ("well-known", "well known"),
    ],
)
def test_normalize_transcript(raw, expected):
    assert normalize_transcript(raw) == expected


def test_normalized_text_is_a_fixed_point():
    for raw in ["Hello, World!", "It\u2019s 5 o'clock", "ÀÉÎ õü"]:
        once = normalize_transcript(raw)
        assert normalize_transcript(once) == once


def test_find_unknown_characters_counts_each_character():
    counts = find_unknown_characters(["héllo wörld", "é!", "fine"], ALPHABET)
    assert counts == {"é": 2, "ö": 1, "!": 1}
    assert find_unknown_characters(["all known here"], ALPHABET) == {}


def test_check_transcripts_names_character_count_and_first_sample():
    texts = ["fine", "also fine", "caf\u00e9 caf\u00e9", "na\u00efve", "x\u00e9"]
    with pytest.raises(UnknownCharactersError) as info:
        check_transcripts(texts, ALPHABET)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "'é' (LATIN SMALL LETTER E WITH ACUTE): 3 time(s), first in sample 2" in message
    assert "'ï' (LATIN SMALL LETTER I WITH DIAERESIS): 1 time(s), first in sample 3" in message


def test_check_transcripts_reports_unnormalised_nfd_text():
    with pytest.raises(UnknownCharactersError, match="COMBINING ACUTE ACCENT"):
        check_transcripts([unicodedata.normalize("NFD", "cafe\u0301")], ALPHABET)


def test_check_transcripts_accepts_known_characters():
    check_transcripts(["don't panic", normalize_transcript("DON\u2019T PANIC")], ALPHABET)
