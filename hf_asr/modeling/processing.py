"""LogMelWav2Vec2Processor: log-mel feature extractor + Wav2Vec2CTCTokenizer (+ an optional LM decoder)."""

from __future__ import annotations

from typing import Any

from transformers import ProcessorMixin

from .ctc_labels import greedy_ids, trim_to_lengths
from .lm_decoder import LMDecoder
from .lm_decoder_folder import find_saved_decoder
from .model_folder import check_processor_files, local_folder
from .transcripts import report_unknown_characters, require_transcript, tokenizer_alphabet


class LogMelWav2Vec2Processor(ProcessorMixin):
    """Audio -> `input_features`/`attention_mask`, text -> `labels`, logits -> text.

    `decoder` is an optional beam-search decoder with an n-gram LM (see `lm_decoder.py`); it is saved in
    and loaded from the same folder.
    """

    def __init__(self, feature_extractor: Any, tokenizer: Any, decoder: Any = None) -> None:
        super().__init__(feature_extractor, tokenizer)
        self.decoder = decoder

    def __call__(
        self,
        audio: Any = None,
        text: str | list[str] | None = None,
        unknown_characters: str = "warn",
        **kwargs: Any,
    ) -> Any:
        """Features for `audio` (feature extractor kwargs, e.g. sampling_rate=) and/or label ids for `text`.

        Each text must be a string (else `TranscriptTypeError` naming its index). Characters outside the tokenizer's
        vocabulary become `<unk>`: `unknown_characters="warn"` (default) warns naming each with its count, "raise"
        raises `UnknownCharactersError`, "ignore" tokenizes quietly.
        """
        if audio is None and text is None:
            raise ValueError("Pass audio= and/or text= to the processor.")
        if text is not None:
            self._check_texts(text, unknown_characters)
        inputs = self.feature_extractor(audio, **kwargs) if audio is not None else None
        if text is None:
            return inputs
        labels = self.tokenizer(text).input_ids
        if inputs is None:
            return labels
        inputs["labels"] = labels
        return inputs

    def _check_texts(self, text: Any, unknown_characters: str) -> None:
        if isinstance(text, (list, tuple)):
            if not text:
                raise ValueError("text= is an empty list: pass at least one transcript")
            texts = [require_transcript(t, i) for i, t in enumerate(text)]
        else:
            texts = [require_transcript(text)]
        alphabet = tokenizer_alphabet(self.tokenizer)
        if alphabet is None:
            return
        if getattr(self.tokenizer, "do_lower_case", False):
            texts = [t.lower() for t in texts]
        report_unknown_characters(texts, alphabet, unknown_characters, where="text=")

    def to_dict(self) -> dict[str, Any]:
        decoder, self.decoder = self.decoder, None  # the decoder is saved in its own files, not in JSON
        try:
            output = super().to_dict()
        finally:
            self.decoder = decoder
        output.pop("decoder", None)
        return output

    def batch_decode(self, *args: Any, **kwargs: Any) -> Any:
        """Token ids -> list of texts, through the tokenizer (CTC collapse of repeats and blanks).

        Float logits (B, T, V) or a list of (T_i, V) -> `LMDecoderOutput` (`.text`, `.word_offsets`) through the
        LM decoder when there is one (kwargs: logit_lengths, num_processes, beam_width, hotwords, ...), else greedy
        texts (kwargs: logit_lengths and the tokenizer's). NaN/inf logits raise an error naming the utterance.
        """
        if args and _is_logits(args[0]):
            if self.decoder is not None:
                return self.decoder.decode_batch(*args, **kwargs)
            return self._greedy_batch_decode(*args, **kwargs)
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> str:
        """Token ids -> text; float (T, V) logits -> text through the LM decoder when there is one, else greedy."""
        if args and _is_logits(args[0]):
            if self.decoder is not None:
                return self.decoder.decode(*args, **kwargs)
            return self.tokenizer.decode(greedy_ids(args[0], len(self.tokenizer)), *args[1:], **kwargs)
        return self.tokenizer.decode(*args, **kwargs)

    def _greedy_batch_decode(self, logits: Any, logit_lengths: Any = None, **kwargs: Any) -> list[str]:
        if logit_lengths is not None:
            logits = trim_to_lengths(logits, logit_lengths)
        ids = [greedy_ids(x, len(self.tokenizer), f"utterance {i}") for i, x in enumerate(logits)]
        return [self.tokenizer.decode(x, **kwargs) for x in ids]

    # --- LM decoder save/load -------------------------------------------------------------------------------------
    def save_pretrained(self, save_directory: Any, *args: Any, **kwargs: Any) -> Any:
        """Save as ProcessorMixin does, plus the LM decoder's files (alphabet.json, language_model/) if any."""
        files = super().save_pretrained(save_directory, *args, **kwargs)
        if isinstance(self.decoder, LMDecoder):
            self.decoder.save_pretrained(save_directory)
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, load_decoder: bool = True, **kwargs: Any):
        """Load as ProcessorMixin does, plus the LM decoder when the folder/repo has `language_model/`.

        A present but broken LM raises (naming the file) rather than silently falling back to greedy decoding;
        pass `load_decoder=False` to skip it. A local folder without `vocab.json` raises `MissingModelFileError` (a
        FileNotFoundError) naming the folder.
        """
        folder = local_folder(pretrained_model_name_or_path)
        if folder is not None:
            check_processor_files(folder)
        processor = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        if load_decoder:
            folder = find_saved_decoder(pretrained_model_name_or_path, **kwargs)
            if folder is not None:
                processor.decoder = LMDecoder.from_pretrained(folder)
        return processor


def _is_logits(value: Any) -> bool:
    """Float arrays/tensors (or a list of them) are logits, of any shape (a wrong one gets a named error there);
    integer ids go to the tokenizer."""
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, float)):
        value = value[0]
    dtype = getattr(value, "dtype", None)
    return dtype is not None and "float" in str(dtype)


LogMelWav2Vec2Processor.register_for_auto_class("AutoProcessor")

__all__ = ["LogMelWav2Vec2Processor"]
