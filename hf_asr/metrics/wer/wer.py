"""Word error rate as an `evaluate` metric, on jiwer 4 (the Hub's `wer` script calls jiwer.compute_measures,
which jiwer 4 removed, and needs the network). Load it by path: `hf_asr.metrics.load_metric("wer")`."""
# Deliberately alike: wer.py and cer.py share their boilerplate because evaluate loads each script as a standalone
# module, so they cannot import a common helper.

import datasets
import evaluate
import jiwer

_DESCRIPTION = "WER = (substitutions + deletions + insertions) / reference words, pooled over the corpus."
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of transcripts (str).
    references: list of reference transcripts (str), same length; none may be empty.
Returns:
    float: corpus WER (total errors / total reference words); may exceed 1.
Example:
    >>> load_metric("wer").compute(predictions=["a b"], references=["a c"])
    0.5
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WER(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Value("string", id="sequence"),
                }
            ),
            reference_urls=["https://en.wikipedia.org/wiki/Word_error_rate"],
        )

    def _compute(self, predictions=None, references=None):
        empty = [i for i, reference in enumerate(references) if not reference.strip()]
        if empty:
            raise ValueError(f"references {empty[:10]} are empty: WER is undefined for them")
        return jiwer.wer(list(references), list(predictions))
