"""Validation numbers for recognised lines against their transcriptions.

- CER: character edit distance (insertions + deletions + substitutions) summed over lines, divided by the
  number of reference characters. Spaces count; case too, unless the labels are case-insensitive.
- Line accuracy: share of lines read exactly.
- Word accuracy and word F1: per line, the multiset intersection of whitespace-split, upper-cased words (the
  team's SROIE-style word metric, here on given lines rather than detected ones); accuracy = matched words /
  reference words, F1 from matched / predicted and matched / reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def edit_distance(reference: str, prediction: str) -> int:
    """Levenshtein distance between two strings (unit costs)."""
    if len(reference) < len(prediction):
        reference, prediction = prediction, reference
    previous = list(range(len(prediction) + 1))
    for i, ref_char in enumerate(reference, start=1):
        current = [i]
        for j, pred_char in enumerate(prediction, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_char != pred_char)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class Scores:
    lines: int
    cer: float
    line_accuracy: float
    word_accuracy: float
    word_f1: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 6) if isinstance(value, float) else value for key, value in asdict(self).items()}

    def summary(self) -> str:
        return (
            f"CER {100 * self.cer:.2f} %, line accuracy {100 * self.line_accuracy:.1f} %, "
            f"word accuracy {100 * self.word_accuracy:.1f} %, word F1 {self.word_f1:.3f} ({self.lines} lines)"
        )


def score_lines(references: Sequence[str], predictions: Sequence[str], ignore_case: bool = False) -> Scores:
    """Scores of `predictions` against `references`; with `ignore_case`, CER and line accuracy compare
    upper-cased texts too (for transcriptions written in capitals whatever the print)."""
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    if not references:
        raise ValueError("no lines to score")
    errors = characters = exact = matched = reference_words = predicted_words = 0
    for reference, prediction in zip(references, predictions):
        if ignore_case:
            reference, prediction = reference.upper(), prediction.upper()
        errors += edit_distance(reference, prediction)
        characters += len(reference)
        exact += reference == prediction
        ref_words, pred_words = Counter(reference.upper().split()), Counter(prediction.upper().split())
        matched += sum((ref_words & pred_words).values())
        reference_words += sum(ref_words.values())
        predicted_words += sum(pred_words.values())
    precision = matched / predicted_words if predicted_words else 0.0
    recall = matched / reference_words if reference_words else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        lines=len(references),
        cer=errors / max(characters, 1),
        line_accuracy=exact / len(references),
        word_accuracy=recall,
        word_f1=f1,
    )
