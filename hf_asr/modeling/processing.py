"""LogMelWav2Vec2Processor: log-mel feature extractor + Wav2Vec2CTCTokenizer (+ an optional LM decoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import ProcessorMixin

from .ctc_labels import greedy_ids, trim_to_lengths
from .lm_decoder import LMDecoder
from .lm_decoder_folder import find_saved_decoder
from .model_folder import check_processor_files, local_folder
from .text_normalizer import NORMALIZER_FILE, TextNormalizer
from .transcripts import report_unknown_characters, require_transcript, tokenizer_alphabet


class LogMelWav2Vec2Processor(ProcessorMixin):
    """Audio -> `input_features`/`attention_mask`, text -> `labels`, logits -> text.

    `decoder` is an optional beam-search decoder with an n-gram LM (see `lm_decoder.py`); `text_normalizer` the
    model's one `TextNormalizer` (default settings when None): transcripts go through it before they become labels,
    and the vocabulary, references and LM text were (or are to be) made with it. Both are saved in and loaded from
    the same folder (`language_model/`, `text_normalizer.json`).
    """

    def __init__(
        self, feature_extractor: Any, tokenizer: Any, decoder: Any = None, text_normalizer: TextNormalizer | None = None
    ) -> None:
        super().__init__(feature_extractor, tokenizer)
        self.decoder = decoder
        if text_normalizer is not None and not isinstance(text_normalizer, TextNormalizer):
            raise TypeError(f"text_normalizer must be a TextNormalizer, got {type(text_normalizer).__name__}")
        self.text_normalizer = text_normalizer or TextNormalizer()

    def __call__(
        self,
        audio: Any = None,
        text: str | list[str] | None = None,
        unknown_characters: str = "warn",
        normalize_text: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Features for `audio` (feature extractor kwargs, e.g. sampling_rate=) and/or label ids for `text`.

        Each text must be a string (else `TranscriptTypeError` naming its index); it goes through `text_normalizer`
        first (`normalize_text=False`: as it is). Characters outside the tokenizer's vocabulary become `<unk>`:
        `unknown_characters="warn"` (default) warns naming each with its count, "raise" raises
        `UnknownCharactersError`, "ignore" tokenizes quietly.
        """
        if audio is None and text is None:
            raise ValueError("Pass audio= and/or text= to the processor.")
        if text is not None:
            text = self._checked_texts(text, unknown_characters, normalize_text)
        inputs = self.feature_extractor(audio, **kwargs) if audio is not None else None
        if text is None:
            return inputs
        labels = self.tokenizer(text).input_ids
        if inputs is None:
            return labels
        inputs["labels"] = labels
        return inputs

    def _checked_texts(self, text: Any, unknown_characters: str, normalize_text: bool) -> str | list[str]:
        """`text` (one or a list) normalised, each checked to be a string, unknown characters reported."""
        single = not isinstance(text, (list, tuple))
        if not single and not text:
            raise ValueError("text= is an empty list: pass at least one transcript")
        texts = [require_transcript(t, None if single else i) for i, t in enumerate([text] if single else text)]
        if normalize_text:
            texts = [self.text_normalizer(t) for t in texts]
        alphabet = tokenizer_alphabet(self.tokenizer)
        if alphabet is not None:
            cased = texts if not getattr(self.tokenizer, "do_lower_case", False) else [t.lower() for t in texts]
            report_unknown_characters(cased, alphabet, unknown_characters, where="text=")
        return texts[0] if single else texts

    def to_dict(self) -> dict[str, Any]:
        # The decoder and the normaliser are saved in their own files, not in processor_config.json.
        decoder, normalizer = self.decoder, self.text_normalizer
        self.decoder, self.text_normalizer = None, None
        try:
            output = super().to_dict()
        finally:
            self.decoder, self.text_normalizer = decoder, normalizer
        output.pop("decoder", None)
        output.pop("text_normalizer", None)
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
        """Save as ProcessorMixin does, plus `text_normalizer.json` and the LM decoder's files (alphabet.json,
        language_model/) if any."""
        files = super().save_pretrained(save_directory, *args, **kwargs)
        self.text_normalizer.save_pretrained(save_directory)
        if isinstance(self.decoder, LMDecoder):
            self.decoder.save_pretrained(save_directory)
        return files

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, load_decoder: bool = True, **kwargs: Any):
        """Load as ProcessorMixin does, plus the text normaliser and the LM decoder when the folder/repo has
        `language_model/`. A folder saved without `text_normalizer.json` was trained with digits dropped: it gets
        that normaliser.

        A present but broken LM raises (naming the file) rather than silently falling back to greedy decoding;
        pass `load_decoder=False` to skip it. A local folder without `vocab.json` raises `MissingModelFileError` (a
        FileNotFoundError) naming the folder.
        """
        folder = local_folder(pretrained_model_name_or_path)
        if folder is not None:
            check_processor_files(folder)
        processor = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        processor.text_normalizer = _saved_normalizer(pretrained_model_name_or_path, kwargs)
        if load_decoder:
            folder = find_saved_decoder(pretrained_model_name_or_path, **kwargs)
            if folder is not None:
                processor.decoder = LMDecoder.from_pretrained(folder)
        return processor


def _saved_normalizer(name_or_path: Any, kwargs: dict[str, Any]) -> TextNormalizer:
    """The `text_normalizer.json` of a local folder or Hub repo; the legacy normaliser when there is none."""
    folder = local_folder(name_or_path)
    if folder is None:
        from transformers.utils import cached_file

        hub_kwargs = {k: kwargs[k] for k in ("cache_dir", "revision", "token", "local_files_only") if k in kwargs}
        path = cached_file(
            str(name_or_path),
            NORMALIZER_FILE,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
            **hub_kwargs,
        )
        folder = Path(path).parent if path else None
    return TextNormalizer.of_model_folder(folder)


def _is_logits(value: Any) -> bool:
    """Float arrays/tensors (or a list of them) are logits, of any shape (a wrong one gets a named error there);
    integer ids go to the tokenizer."""
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, float)):
        value = value[0]
    dtype = getattr(value, "dtype", None)
    return dtype is not None and "float" in str(dtype)


LogMelWav2Vec2Processor.register_for_auto_class("AutoProcessor")

__all__ = ["LogMelWav2Vec2Processor"]
