"""OCR_COMPILE: the opt-in torch.compile of the recognizer."""

from __future__ import annotations

import pytest

from ocr_model.networks.compiled import COMPILE_ENV, compile_requested


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("off", False), ("1", True), (" TRUE ", True), ("yes", True)])
def test_compile_is_off_unless_asked_for(monkeypatch, value, expected):
    monkeypatch.setenv(COMPILE_ENV, value)
    assert compile_requested() is expected


def test_compile_is_off_when_unset(monkeypatch):
    monkeypatch.delenv(COMPILE_ENV, raising=False)
    assert compile_requested() is False


def test_a_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(COMPILE_ENV, "maybe")
    with pytest.raises(ValueError, match=COMPILE_ENV):
        compile_requested()
