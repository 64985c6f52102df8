"""Synthetic lines: rendered with a system font, within the checkpoint's characters, repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_model.finetune.synthetic import synthetic_lines, system_fonts, vocabulary

pytestmark = pytest.mark.skipif(not system_fonts(), reason="no system font (Debian: fonts-dejavu-core)")


def test_lines_from_the_vocabulary_within_the_alphabet():
    texts = ["TOTAL 12.50", "CASH 20.00", "CHANGE €7.50"]
    alphabet = set("TOALCSHNGE0123456789. ") | set("tolashnge")
    lines = synthetic_lines(texts, 30, seed=1, alphabet=alphabet)
    assert len(lines) == 30
    words = set(vocabulary(texts))
    for line in lines:
        assert line.text and set(line.text) <= alphabet
        assert line.crop.shape[0] == 48 and line.patch is not None and not line.fold_case
    # the vocabulary's words come back (in some case), beside fresh numbers
    assert any(word.upper() in words for line in lines for word in line.text.split())


def test_same_seed_same_lines():
    first = synthetic_lines(["TOTAL 12.50"], 5, seed=7)
    second = synthetic_lines(["TOTAL 12.50"], 5, seed=7)
    assert [line.text for line in first] == [line.text for line in second]
    assert all(np.array_equal(a.crop, b.crop) for a, b in zip(first, second))


def test_no_font_no_lines():
    assert synthetic_lines(["TOTAL"], 5, seed=0, fonts=[]) == []
