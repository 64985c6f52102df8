"""CER, line and word accuracy on hand-made cases."""

from __future__ import annotations

import pytest

from ocr_model.finetune.metrics import edit_distance, score_lines


@pytest.mark.parametrize(
    "a, b, distance",
    [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3), ("TOTAL", "T0TAL", 1), ("ab", "ba", 2)],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_scores_on_a_hand_made_case():
    references = ["TOTAL 12.50", "CASH", "THANK YOU"]
    predictions = ["TOTAL 12.58", "CASH", "THANKYOU"]
    scores = score_lines(references, predictions)
    # characters: 11 + 4 + 9 = 24; errors: one substitution + one deleted space = 2
    assert scores.cer == pytest.approx(2 / 24)
    assert scores.line_accuracy == pytest.approx(1 / 3)
    # reference words: TOTAL 12.50 CASH THANK YOU = 5; matched: TOTAL, CASH = 2
    assert scores.word_accuracy == pytest.approx(2 / 5)
    # predicted words: TOTAL 12.58 CASH THANKYOU = 4 -> precision 2/4, recall 2/5
    assert scores.word_f1 == pytest.approx(2 * 0.5 * 0.4 / 0.9)
    assert scores.lines == 3


def test_words_repeat_as_a_multiset_and_case_is_ignored_for_words():
    scores = score_lines(["1 1 1 ITEM"], ["1 item"])
    assert scores.word_accuracy == pytest.approx(2 / 4)
    assert scores.cer > 0  # case counts for characters unless asked not to


def test_ignore_case():
    assert score_lines(["Total"], ["TOTAL"], ignore_case=True).cer == 0.0
    assert score_lines(["Total"], ["TOTAL"]).cer == pytest.approx(4 / 5)


def test_mismatched_or_empty_inputs_are_refused():
    with pytest.raises(ValueError):
        score_lines(["a"], [])
    with pytest.raises(ValueError):
        score_lines([], [])
