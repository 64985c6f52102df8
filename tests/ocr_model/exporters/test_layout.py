"""Layout text: rows joined left to right with gap-following spacing, skew and rotation tolerant."""

import math

import numpy as np
import pytest

from ocr_model.exporters.layout import (
    layout_rows,
    layout_text,
    layout_text_and_spans,
    line_boxes,
    predictions_layout_text,
    reading_angle,
)
from ocr_model.pipeline.page_rotation import rotate_points_back
from ocr_model.types import Predictions

CHAR = 10.0  # px per character in these synthetic pages


def line(x, y, text, height=20.0):
    """Axis-aligned line polygon whose width is CHAR px per character (clockwise from top-left)."""
    width = CHAR * len(text)
    return np.array([[x, y], [x + width, y], [x + width, y + height], [x, y + height]], dtype=np.float32), text


RECEIPT = [
    line(40, 20, "COFFEE HOUSE"),
    line(0, 80, "Cappuccino"),
    line(300, 82, "3.80"),  # a little lower than its item: same row still
    line(0, 110, "Muffin"),
    line(300, 109, "2.50"),
    line(0, 200, "TOTAL"),  # far below: a new block
    line(290, 201, "6.30"),
]

EXPECTED = "\n".join(
    [
        "    COFFEE HOUSE",
        "",
        "Cappuccino" + " " * 20 + "3.80",
        "Muffin" + " " * 24 + "2.50",
        "",
        "TOTAL" + " " * 24 + "6.30",
    ]
)


def polygons_and_texts(lines):
    return [p for p, _ in lines], [t for _, t in lines]


def test_items_and_prices_share_a_row_at_columns_that_follow_their_position():
    assert layout_text(*polygons_and_texts(RECEIPT)) == EXPECTED


def test_input_order_does_not_matter():
    shuffled = [RECEIPT[i] for i in (6, 2, 0, 5, 3, 1, 4)]
    assert layout_text(*polygons_and_texts(shuffled)) == EXPECTED


def turn(polygons, degrees, centre=(200.0, 150.0)):
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return [((np.asarray(p, np.float64) - centre) @ rotation.T + centre).astype(np.float32) for p in polygons]


@pytest.mark.parametrize("degrees", [-4.0, 3.0])
def test_a_slightly_skewed_photo_lays_out_like_the_upright_page(degrees):
    polygons, texts = polygons_and_texts(RECEIPT)
    skewed = turn(polygons, degrees)
    assert reading_angle(skewed) == pytest.approx(math.radians(degrees), abs=1e-6)
    assert layout_text(skewed, texts) == EXPECTED
    # without de-skewing, a 4° tilt over 300 px (21 px) would split item and price rows


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_page_read_sideways_lays_out_from_its_polygons_in_the_input_pixels(rotation):
    polygons, texts = polygons_and_texts(RECEIPT)
    # the engine returns polygons in the pixels of the turned input, points still in reading order
    size = (400, 400)
    back = [rotate_points_back(p, rotation, size) for p in polygons]
    assert layout_text(back, texts) == EXPECTED


def test_rows_are_grouped_and_sorted_left_to_right():
    rows = layout_rows(line_boxes(*polygons_and_texts(RECEIPT)))
    assert [[box.text for box in row] for row in rows] == [
        ["COFFEE HOUSE"], ["Cappuccino", "3.80"], ["Muffin", "2.50"], ["TOTAL", "6.30"]
    ]


def test_lines_that_touch_get_at_least_one_space_and_empty_input_gives_empty_text():
    touching = [line(0, 0, "abc"), line(29, 0, "def")]  # overlaps the end of "abc" by 1 px
    assert layout_text(*polygons_and_texts(touching)) == "abc def"
    assert layout_text([], []) == ""


def test_very_wide_gaps_are_capped():
    wide = [line(0, 0, "a"), line(100000, 0, "b")]
    assert len(layout_text(*polygons_and_texts(wide))) <= 402


def test_predictions_layout_text_reads_the_predictions():
    polygons, texts = polygons_and_texts(RECEIPT)
    prediction = Predictions(polygons, texts, [0.9] * len(texts), (300, 400))
    assert predictions_layout_text(prediction) == EXPECTED
    assert prediction.layout_text == EXPECTED
    assert prediction.full_text == "\n".join(texts)  # the plain line list stays available


# A receipt where the same texts occur on several rows: a search for a line's text finds the first one.
REPEATS = [
    line(0, 0, "Tea"),
    line(200, 0, "1.00"),
    line(0, 30, "Tea"),
    line(200, 30, "1.00"),
    line(0, 60, "Total"),
    line(200, 60, "2.00"),
]


def sliced(text, spans):
    return [None if span is None else text[span[0] : span[1]] for span in spans]


def test_each_line_gets_its_own_span_even_when_its_text_repeats():
    text, spans = layout_text_and_spans(*polygons_and_texts(REPEATS))
    assert text == "Tea" + " " * 17 + "1.00\n" + "Tea" + " " * 17 + "1.00\n" + "Total" + " " * 15 + "2.00"
    assert spans == [(0, 3), (20, 24), (25, 28), (45, 49), (50, 55), (70, 74)]
    assert sliced(text, spans) == [t for _, t in REPEATS]
    assert spans[3] != (text.index("1.00"), text.index("1.00") + 4)  # the second "1.00" is not the first


def test_spans_follow_the_lines_in_the_order_given_blocks_included():
    order = (6, 2, 0, 5, 3, 1, 4)
    shuffled = [RECEIPT[i] for i in order]
    text, spans = layout_text_and_spans(*polygons_and_texts(shuffled))
    assert text == EXPECTED == layout_text(*polygons_and_texts(shuffled))
    assert sliced(text, spans) == [t for _, t in shuffled]
    assert spans[order.index(5)] == (EXPECTED.index("TOTAL"), EXPECTED.index("TOTAL") + 5)  # after two blank lines


@pytest.mark.parametrize("degrees", [-4.0, 3.0])
def test_spans_of_a_skewed_photo_are_those_of_the_upright_page(degrees):
    polygons, texts = polygons_and_texts(RECEIPT)
    upright = layout_text_and_spans(polygons, texts)
    assert layout_text_and_spans(turn(polygons, degrees), texts) == upright
    assert sliced(*upright) == texts


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_spans_of_a_page_read_sideways_slice_back_its_lines(rotation):
    polygons, texts = polygons_and_texts(REPEATS)
    back = [rotate_points_back(p, rotation, (400, 400)) for p in polygons]
    text, spans = layout_text_and_spans(back, texts)
    assert (text, spans) == layout_text_and_spans(polygons, texts)
    assert sliced(text, spans) == texts


def test_a_blank_line_has_no_span_and_a_padded_one_spans_its_stripped_text():
    lines = [line(0, 0, "  abc "), line(100, 0, "   "), line(0, 40, "def")]
    text, spans = layout_text_and_spans(*polygons_and_texts(lines))
    assert text == "abc\ndef"
    assert spans == [(0, 3), None, (4, 7)]
    assert layout_text_and_spans([], []) == ("", [])
