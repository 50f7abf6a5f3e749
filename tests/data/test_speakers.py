"""Train and held-out speakers: disjoint whole engine voices, seeded, with named errors."""

import pytest

from hf_asr.data.speakers import (
    DEFAULT_HELDOUT,
    draw_speakers,
    matches_heldout,
    speaker_voice,
    voice_name,
)
from hf_asr.data.tts import ESPEAK, FESTIVAL, FLITE


def test_heldout_patterns():
    assert matches_heldout(FLITE, "rms", ["flite:rms"]) and not matches_heldout(FLITE, "slt", ["flite:rms"])
    assert matches_heldout(ESPEAK, "en-us+m7", ["espeak-ng:+m7"])
    assert not matches_heldout(ESPEAK, "en-us+m1", ["espeak-ng:+m7"])
    assert matches_heldout(ESPEAK, "en-029+f2", ["espeak-ng:en-029"])
    assert matches_heldout(ESPEAK, "en-029", ["espeak-ng:en-029"])
    assert not matches_heldout(ESPEAK, "en-us", ["espeak-ng:en-029", "flite:rms"])
    assert not matches_heldout(FLITE, "rms", ["espeak-ng:rms"])  # the engine must match too


def test_train_and_heldout_speakers_share_no_engine_voice():
    pools = draw_speakers(160, 24, seed=0)
    train_voices = {voice_name(v) for v in pools.train}
    heldout_voices = {voice_name(v) for v in pools.heldout}
    assert len({v.id for v in pools.train}) == 160 and len({v.id for v in pools.heldout}) == 24
    assert not train_voices & heldout_voices
    assert all(matches_heldout(v.engine, v.name, DEFAULT_HELDOUT) for v in pools.heldout)
    assert not any(matches_heldout(v.engine, v.name, DEFAULT_HELDOUT) for v in pools.train)
    assert {v.engine for v in pools.train} == {ESPEAK, FLITE} == {v.engine for v in pools.heldout}
    assert "flite:rms" in heldout_voices  # a whole flite voice is kept out of train
    assert len(train_voices) >= 100
    assert draw_speakers(160, 24, seed=0) == pools and draw_speakers(160, 24, seed=1) != pools
    assert speaker_voice(pools.heldout[0].id) == voice_name(pools.heldout[0])


def test_festival_speakers_share_the_recorded_voices_share():
    pools = draw_speakers(400, 24, seed=0, engines=(ESPEAK, FLITE, FESTIVAL), flite_share=0.5)
    engines = [v.engine for v in pools.train]
    recorded = engines.count(FLITE) + engines.count(FESTIVAL)
    assert 160 < recorded < 240  # half of the speakers, flite's and festival's together
    # festival has one voice beside flite's four train voices: about a fifth of the recorded ones
    assert 0.1 < engines.count(FESTIVAL) / recorded < 0.3
    assert FESTIVAL not in {v.engine for v in pools.heldout}  # nothing of festival is held out by default
    assert draw_speakers(160, 24, seed=0, engines=(ESPEAK, FLITE)) == draw_speakers(160, 24, seed=0)


def test_speaker_errors_name_the_problem():
    with pytest.raises(ValueError, match="match no voice"):
        draw_speakers(4, 2, heldout=["flite:nobody"])
    with pytest.raises(ValueError, match="no engine voice is left for the train"):
        every_flite_voice = ["flite:kal", "flite:kal16", "flite:awb", "flite:rms", "flite:slt"]
        draw_speakers(4, 2, engines=[FLITE], heldout=every_flite_voice)


def test_each_side_has_exactly_its_share_of_recorded_voices():
    for train_share, heldout_share in ((0.25, 0.25), (0.5, 0.125)):
        pools = draw_speakers(160, 24, seed=3, flite_share=train_share, heldout_flite_share=heldout_share)
        assert [v.engine for v in pools.train].count(FLITE) == round(160 * train_share)
        assert [v.engine for v in pools.heldout].count(FLITE) == round(24 * heldout_share)
    shares = draw_speakers(160, 24, seed=3, flite_share=0.5), draw_speakers(160, 24, seed=3)
    assert shares[0].heldout != shares[1].heldout  # None: the held-out side follows flite_share
