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
