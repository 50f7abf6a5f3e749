import re

import datasets
import pytest

from hf_asr.data import sentences as sentences_module
from hf_asr.data.sentences import (
    FORTUNES_DIR,
    clean_sentence,
    fortune_entries,
    load_sentences,
    load_word_list,
    split_sentences,
)

VALID = re.compile(r"^[a-z']+( [a-z']+)*$")

needs_fortunes = pytest.mark.skipif(
    not (FORTUNES_DIR / "fortunes").is_file(), reason="Debian fortunes-min is not installed"
)


@needs_fortunes
def test_fortune_sentences_are_clean_distinct_and_seeded():
    first = load_sentences(num_sentences=200, seed=0)
    assert len(first) == len(set(first)) == 200
    for sentence in first:
        assert VALID.match(sentence), sentence
        assert 3 <= len(sentence.split()) <= 12, sentence
    assert load_sentences(num_sentences=200, seed=0) == first
    assert load_sentences(num_sentences=200, seed=1) != first


def test_missing_fortunes_name_the_debian_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(sentences_module, "FORTUNES_DIR", tmp_path)
    monkeypatch.setattr(sentences_module.fortune_files, "__defaults__", (tmp_path, ("fortunes",)))
    with pytest.raises(FileNotFoundError, match="apt-get install fortunes-min"):
        load_sentences()


def test_fortune_entries_drop_attributions_and_riddle_prefixes(tmp_path):
    path = tmp_path / "quotes"
    path.write_text(
        "Be yourself.\n\t\t-- Oscar Wilde\n%\nQ:\tWhy did the chicken cross?\nA:\tTo get across.\n%\nOne\nline.\n"
    )
    assert fortune_entries(path) == ["Be yourself.", "Why did the chicken cross? To get across.", "One line."]


def test_split_sentences_keeps_abbreviations_and_initials_whole():
    text = 'Mr. Smith met J. R. R. Tolkien. Was it fun?  Yes! "Quite so." The end.'
    assert split_sentences(text) == [
        "Mr. Smith met J. R. R. Tolkien.",
        "Was it fun?",
        "Yes!",
        '"Quite so."',
        "The end.",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Don't feed the bats tonight.", "don't feed the bats tonight"),
        ("'Tis the season, they said.", "tis the season they said"),  # edge apostrophes are quotes
        ("I have 3 cats at home.", None),  # the TTS would say "three"; the transcript could not
        ("Meet me at 5 & bring $10.", None),
        ("Chapter XIII begins here now.", None),  # roman numerals are read as numbers
        ("Too short.", None),
        ("one two three four five six seven eight nine ten eleven twelve thirteen", None),
        ("Caf\u00e9 au lait is nice.", None),  # letters outside a-z
    ],
)
def test_clean_sentence(raw, expected):
    assert clean_sentence(raw) == expected


def test_sentence_file_is_normalised_filtered_and_deduplicated(tmp_path):
    path = tmp_path / "mine.txt"
    lines = ["The cat sat on the mat.", "the cat sat on the mat", "I owe you 20 dollars.", "", "Dogs bark at night!"]
    path.write_text("\n".join(lines) + "\n")
    result = load_sentences(path, seed=3)
    assert sorted(result) == ["dogs bark at night", "the cat sat on the mat"]
    with pytest.raises(ValueError, match="only 2 usable sentences"):
        load_sentences(path, num_sentences=3)


def test_missing_or_empty_sentence_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_sentences(tmp_path / "nope.txt")
    empty = tmp_path / "numbers.txt"
    empty.write_text("123 456 789\nok\n")
    with pytest.raises(ValueError, match="numbers.txt"):
        load_sentences(empty)


def test_sentences_from_a_datasets_column(tmp_path):
    dataset = datasets.Dataset.from_dict({"sentence": ["Hello there my friend.", "Good morning to you all!", "x"]})
    assert sorted(load_sentences(dataset, column="sentence")) == ["good morning to you all", "hello there my friend"]
    with pytest.raises(KeyError, match=r"no column 'text'.*\['sentence'\]"):
        load_sentences(dataset)
    dataset.save_to_disk(str(tmp_path / "saved"))
    assert len(load_sentences(tmp_path / "saved", column="sentence")) == 2


def test_word_list_gives_each_clean_word_once_in_file_order(tmp_path):
    path = tmp_path / "words"
    path.write_text("Zebra\nzebra\nO'Brien\nnaïve\nrock and roll\nXIV\n\ncat's\nR2D2\napple\n")
    assert load_word_list(path) == ["zebra", "o'brien", "cat's", "apple"]


def test_a_missing_word_list_is_named(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="word list .*nowhere does not exist$"):
        load_word_list(tmp_path / "nowhere")
    monkeypatch.setattr(sentences_module, "DEFAULT_WORD_LIST", tmp_path / "american-english")
    with pytest.raises(FileNotFoundError, match=r"american-english does not exist \(apt-get install wamerican\)"):
        load_word_list(tmp_path / "american-english")
