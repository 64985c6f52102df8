import numpy as np

from ocr_model.reading_order import reading_order


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
