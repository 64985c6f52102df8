import pytest

from ocr_model.config import OcrConfig


def test_with_options_returns_a_changed_copy_and_leaves_the_original_alone():
    base = OcrConfig()
    changed = base.with_options(det_box_threshold=0.7, orientation="off")
    assert changed.det_box_threshold == 0.7 and changed.orientation == "off"
    assert base.det_box_threshold == OcrConfig().det_box_threshold
    assert base.orientation == OcrConfig().orientation


def test_unknown_option_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_option"):
        OcrConfig().with_options(no_such_option=1)


@pytest.mark.parametrize(
    "options",
    [
        {"orientation": "sideways"},
        {"det_threshold": 1.5},
        {"det_max_side": 8},
        {"max_text_regions": 0},
        {"max_text_regions": 10**6},  # above the hard cap
        {"det_max_pixels": 10**9},
        {"det_max_side": 100_000},
        {"det_max_upscale": 50.0},
        {"det_text_height": 1.0},
        {"det_probe_side": 8},
        {"det_probe_reuse": 0.5},
        {"det_probe_percentile": 101.0},
    ],
)
def test_invalid_values_are_rejected(options):
    with pytest.raises(ValueError):
        OcrConfig().with_options(**options)


def test_positive_int_from_env(monkeypatch):
    from ocr_model.config import positive_int_from_env

    monkeypatch.delenv("OCR_TEST_COUNT", raising=False)
    assert positive_int_from_env("OCR_TEST_COUNT") is None
    monkeypatch.setenv("OCR_TEST_COUNT", " 7 ")
    assert positive_int_from_env("OCR_TEST_COUNT") == 7
    for bad in ("0", "-2", "many", "1.5"):
        monkeypatch.setenv("OCR_TEST_COUNT", bad)
        with pytest.raises(ValueError, match="OCR_TEST_COUNT must be a positive integer"):
            positive_int_from_env("OCR_TEST_COUNT")
