"""The generalisation corpus: held-out voices, disjoint sentences, an unlabelled pool, LM text, reuse by recipe."""

import dataclasses

import datasets
import pytest

from hf_asr.data import speaker_corpus
from hf_asr.data.speaker_corpus import (
    CorpusRecipe,
    build_speaker_corpus,
    corpus_info,
    plan_utterances,
    read_lm_text,
    stored_recipe,
)
from hf_asr.data.speakers import speaker_voice
from hf_asr.data.tts import ESPEAK, FESTIVAL, FLITE

from .conftest import SENTENCES

EXTRA = [
    f"{a} {b} {c}" for a in ("red", "blue", "green", "old") for b in ("cats", "dogs", "birds") for c in ("run", "sleep")
]
CANDIDATES = [f"sentence number {i}" for i in range(400)]  # sentences to plan with, never spoken
RECIPE = CorpusRecipe(
    train_sentences=8,
    unlabelled_sentences=6,
    validation_sentences=2,
    test_sentences=3,
    train_speakers=5,
    heldout_speakers=2,
)


@pytest.fixture(scope="module")
def sentence_source(tmp_path_factory):
    path = tmp_path_factory.mktemp("prose") / "sentences.txt"
    path.write_text("\n".join(SENTENCES + EXTRA) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory, sentence_source):
    out = tmp_path_factory.mktemp("speaker_corpus") / "corpus"
    build_speaker_corpus(out, dataclasses.replace(RECIPE, sentence_source=sentence_source))
    return out


def _texts(split):
    return set(split.select_columns(["text"])["text"])


def test_splits_voices_and_sentences_are_disjoint(corpus_dir):
    corpus = datasets.load_from_disk(str(corpus_dir))
    assert set(corpus) == {"train", "unlabelled", "validation", "test", "test_seen_voices"}
    sizes = [len(corpus[s]) for s in ("train", "unlabelled", "validation", "test", "test_seen_voices")]
    assert sizes == [8, 6, 2, 3, 3]
    assert "text" not in corpus["unlabelled"].column_names  # the pretraining pool carries no transcripts
    voices = {name: {speaker_voice(s) for s in split["speaker"]} for name, split in corpus.items()}
    assert not voices["test"] & voices["train"] and not voices["validation"] & voices["train"]
    train_speakers = {speaker_voice(v.id) for v in speaker_corpus.draw_speakers(5, 2).train}
    assert voices["unlabelled"] <= train_speakers and voices["test_seen_voices"] <= train_speakers
    assert _texts(corpus["test_seen_voices"]) == _texts(corpus["test"])
    ids = {name: set(split["sentence_id"]) for name, split in corpus.items() if name != "test_seen_voices"}
    names = list(ids)
    assert all(not ids[a] & ids[b] for a in names for b in names if a < b)
    lm_text = set(read_lm_text(corpus_dir))
    held_out = _texts(corpus["test"]) | _texts(corpus["validation"])
    assert not any(text in sentence for sentence in lm_text for text in held_out)
    assert _texts(corpus["train"]) <= lm_text and len(lm_text) == len(SENTENCES + EXTRA) - 5
    info = corpus_info(corpus_dir)
    assert info["splits"]["train"] == 8 and set(info["voices"]["test"]) == set(corpus["test"]["speaker"])


def test_same_recipe_is_reused_and_a_change_rebuilds(corpus_dir, monkeypatch):
    recipe = dataclasses.replace(RECIPE, sentence_source=stored_recipe(corpus_dir)["sentence_source"])

    def no_synthesis(*args, **kwargs):
        raise RuntimeError("synthesis started")

    monkeypatch.setattr(speaker_corpus, "_synthesize_splits", no_synthesis)
    reused = build_speaker_corpus(corpus_dir, recipe)  # would raise if it synthesised
    assert len(reused["train"]) == 8
    changed = dataclasses.replace(recipe, seed=1)
    with pytest.raises(RuntimeError, match="synthesis started"):
        build_speaker_corpus(corpus_dir, changed)
    with pytest.raises(RuntimeError, match="synthesis started"):
        build_speaker_corpus(corpus_dir, recipe, reuse=False)
    assert stored_recipe(corpus_dir) == recipe.to_json()  # a failed rebuild leaves the old corpus in place
    assert not [p for p in corpus_dir.parent.iterdir() if p.name.startswith(".")]


def test_recipe_errors(sentence_source, tmp_path):
    with pytest.raises(ValueError, match="test_sentences must be at least 1"):
        CorpusRecipe(test_sentences=0)
    with pytest.raises(ValueError, match="flite_share"):
        CorpusRecipe(flite_share=1.5)
    with pytest.raises(ValueError, match="heldout_flite_share must lie in"):
        CorpusRecipe(heldout_flite_share=-0.1)
    with pytest.raises(ValueError, match="needs 3760 distinct sentences but the source has 32"):
        build_speaker_corpus(tmp_path / "c", CorpusRecipe(train_sentences=1000, sentence_source=sentence_source))


def test_train_side_settings_leave_validation_and_test_unchanged():
    """A train-side experiment (more train sentences or speakers, more recorded voices, another engine) is measured
    on the same test utterances: same sentences, same speakers."""
    base = CorpusRecipe(train_sentences=100, unlabelled_sentences=50, test_sentences=40, validation_sentences=20)
    plan = plan_utterances(base, CANDIDATES)
    for change in (
        dict(train_sentences=200),
        dict(unlabelled_sentences=0),
        dict(train_speakers=90),
        dict(flite_share=0.6),
        dict(engines=(ESPEAK, FLITE, FESTIVAL)),
    ):
        other = plan_utterances(dataclasses.replace(base, **change), CANDIDATES)
        for split in ("validation", "test"):
            assert other[split] == plan[split], change
        assert (other["train"] != plan["train"]) == ("unlabelled_sentences" not in change), change
    # the held-out settings do change them
    for change in (dict(heldout_flite_share=0.6), dict(heldout_speakers=30), dict(seed=1)):
        assert plan_utterances(dataclasses.replace(base, **change), CANDIDATES)["test"] != plan["test"], change


def test_flite_shares_set_each_side():
    recipe = CorpusRecipe(
        train_sentences=300,
        unlabelled_sentences=0,
        validation_sentences=20,
        test_sentences=60,
        flite_share=0.8,
        heldout_flite_share=0.0,
    )
    plan = plan_utterances(recipe, CANDIDATES)
    train_engines = [voice.engine for _, _, voice, _ in plan["train"]]
    assert train_engines.count(FLITE) / len(train_engines) > 0.6
    assert {voice.engine for _, _, voice, _ in plan["test"]} == {ESPEAK}
