import numpy as np

from ocr_model.pipeline.reading_order import reading_order, reading_order_of_upside_down_page


def box(x, y, w=50, h=20):
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)


def test_rows_top_to_bottom_and_left_to_right_within_a_row():
    polygons = [box(200, 102), box(10, 10), box(10, 100), box(300, 8), box(150, 12)]
    assert reading_order(polygons) == [1, 4, 3, 2, 0]


def test_slightly_skewed_row_stays_one_row_and_distinct_rows_stay_apart():
    polygons = [box(300, 16), box(10, 10), box(10, 40)]
    assert reading_order(polygons) == [1, 0, 2]


def test_empty():
    assert reading_order([]) == []


def test_upside_down_page_is_read_bottom_to_top_and_right_to_left():
    # rows of a page turned by 180°: its first row sits at the bottom, its first word at the right
    polygons = [box(10, 10), box(300, 8), box(10, 100), box(200, 102)]
    assert reading_order_of_upside_down_page(polygons, width=400, height=200) == [3, 2, 1, 0]


def test_the_layout_rows_and_the_reading_rows_are_two_rules_for_two_purposes():
    """A photo turned by ~6°: the price far right of the first item sits as low as the second item.
    The layout text (de-skewed) puts it on the item's row; the results' order (image axes, kept so line
    numbers stay) reads it after the second item. Both group by the one SAME_ROW_OVERLAP."""
    from ocr_model import config
    from ocr_model.exporters import layout
    from ocr_model.pipeline import reading_order as order

    def line(x0: float, x1: float, y0: float) -> np.ndarray:
        slope, height = 0.1, 20
        return np.array(
            [[x0, y0 + slope * x0], [x1, y0 + slope * x1], [x1, y0 + height + slope * x1], [x0, y0 + height + slope * x0]],
            dtype=np.float32,
        )

    polygons = [line(0, 200, 100), line(400, 500, 100), line(0, 200, 140)]  # item, its price, next item
    assert order.reading_rows(polygons) == [[0], [2, 1]]
    assert [[box.index for box in row] for row in layout.layout_rows(layout.line_boxes(polygons, "abc"))] == [[0, 1], [2]]
    assert order.SAME_ROW_OVERLAP is layout.SAME_ROW_OVERLAP is config.SAME_ROW_OVERLAP
