"""Character error rate as an `evaluate` metric, on jiwer 4 (the Hub's `cer` script calls jiwer.compute_measures,
which jiwer 4 removed, and needs the network). Load it by path: `hf_asr.metrics.load_metric("cer")`."""
# Deliberately alike: wer.py and cer.py share their boilerplate because evaluate loads each script as a standalone
# module, so they cannot import a common helper.

import datasets
import evaluate
import jiwer

_DESCRIPTION = "CER = character edits / reference characters (spaces count), pooled over the corpus."
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of transcripts (str).
    references: list of reference transcripts (str), same length; none may be empty.
Returns:
    float: corpus CER (total character edits / total reference characters); may exceed 1.
Example:
    >>> load_metric("cer").compute(predictions=["ab"], references=["ac"])
    0.5
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CER(evaluate.Metric):
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
            reference_urls=["https://en.wikipedia.org/wiki/Word_error_rate (applied to characters)"],
        )

    def _compute(self, predictions=None, references=None):
        empty = [i for i, reference in enumerate(references) if not reference.strip()]
        if empty:
            raise ValueError(f"references {empty[:10]} are empty: CER is undefined for them")
        return jiwer.cer(list(references), list(predictions))
