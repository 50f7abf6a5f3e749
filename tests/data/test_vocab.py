import pytest
from transformers import Wav2Vec2CTCTokenizer

from hf_asr.data.text import normalize_transcript
from hf_asr.data.vocab import build_tokenizer, build_vocab

TEXTS = [normalize_transcript(t) for t in ["Hello, world!", "Don't look back.", "A bookkeeper's ledger"]]


def test_vocab_layout_special_tokens_first_then_sorted_characters():
    vocab = build_vocab(TEXTS)
    assert (vocab["<pad>"], vocab["<unk>"], vocab["|"]) == (0, 1, 2)
    characters = sorted(set("".join(TEXTS)) - {" "})
    assert [token for token, _ in sorted(vocab.items(), key=lambda kv: kv[1])][3:] == characters
    assert sorted(vocab.values()) == list(range(len(vocab)))
    assert " " not in vocab


def test_tokenizer_round_trips_normalised_text():
    tokenizer = build_tokenizer(TEXTS)
    for text in TEXTS:
        ids = tokenizer(text).input_ids
        assert tokenizer.unk_token_id not in ids
        # Labels: no grouping (the default groups repeats like CTC output, "bookkeeper" -> "bokeper").
        assert tokenizer.decode(ids, group_tokens=False) == text
    # CTC-style output (blank between repeated letters) decodes with the default grouping.
    ctc = []
    for i in tokenizer("bookkeeper").input_ids:
        ctc += [i, i, tokenizer.pad_token_id]
    assert tokenizer.decode(ctc) == "bookkeeper"


def test_tokenizer_size_and_no_sentence_markers():
    vocab = build_vocab(TEXTS)
    tokenizer = build_tokenizer(TEXTS)
    assert len(tokenizer) == len(vocab)
    assert tokenizer.pad_token_id == 0 and tokenizer.unk_token_id == 1
    assert tokenizer.bos_token is None and tokenizer.eos_token is None
    assert "<s>" not in tokenizer.get_vocab() and "</s>" not in tokenizer.get_vocab()


def test_tokenizer_saved_to_out_dir_reloads(tmp_path):
    tokenizer = build_tokenizer(TEXTS, out_dir=tmp_path)
    reloaded = Wav2Vec2CTCTokenizer.from_pretrained(tmp_path)
    assert reloaded.get_vocab() == tokenizer.get_vocab()
    assert reloaded("hello world").input_ids == tokenizer("hello world").input_ids
    assert reloaded.bos_token is None and len(reloaded) == len(tokenizer)


def test_unknown_characters_become_unk_which_is_why_transcripts_are_checked():
    tokenizer = build_tokenizer(TEXTS)
    assert tokenizer("hello zq").input_ids[-2:] == [tokenizer.unk_token_id] * 2


def test_word_delimiter_inside_text_is_rejected():
    with pytest.raises(ValueError, match="text 1"):
        build_vocab(["fine", "a|b"])
