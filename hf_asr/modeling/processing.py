"""LogMelWav2Vec2Processor: log-mel feature extractor + Wav2Vec2CTCTokenizer (+ an optional LM decoder)."""

from __future__ import annotations

from typing import Any

from transformers import ProcessorMixin


class LogMelWav2Vec2Processor(ProcessorMixin):
    """Audio -> `input_features`/`attention_mask`, text -> `labels`, logits -> text.

    `decoder` is an optional beam-search decoder with an n-gram LM (see `lm_decoder.py`); it is saved in
    and loaded from the same folder.
    """

    def __init__(self, feature_extractor: Any, tokenizer: Any, decoder: Any = None) -> None:
        super().__init__(feature_extractor, tokenizer)
        self.decoder = decoder

    def __call__(self, audio: Any = None, text: str | list[str] | None = None, **kwargs: Any) -> Any:
        """Features for `audio` (feature extractor kwargs, e.g. sampling_rate=) and/or label ids for `text`."""
        if audio is None and text is None:
            raise ValueError("Pass audio= and/or text= to the processor.")
        inputs = self.feature_extractor(audio, **kwargs) if audio is not None else None
        if text is None:
            return inputs
        labels = self.tokenizer(text).input_ids
        if inputs is None:
            return labels
        inputs["labels"] = labels
        return inputs

    def to_dict(self) -> dict[str, Any]:
        decoder, self.decoder = self.decoder, None  # the decoder is saved in its own files, not in JSON
        try:
            output = super().to_dict()
        finally:
            self.decoder = decoder
        output.pop("decoder", None)
        return output

    def batch_decode(self, *args: Any, **kwargs: Any) -> list[str]:
        """Token ids -> text, through the tokenizer (CTC collapse of repeats and blanks)."""
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> str:
        return self.tokenizer.decode(*args, **kwargs)


LogMelWav2Vec2Processor.register_for_auto_class("AutoProcessor")

__all__ = ["LogMelWav2Vec2Processor"]
