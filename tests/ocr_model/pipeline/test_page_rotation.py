"""Page orientation: rotations and their inverse, line directions, the decision, and the real
engine on a generated page turned by 0/90/180/270 degrees."""

from types import SimpleNamespace

import numpy as np
import pytest

from ocr_model.config import OcrConfig
from ocr_model.pipeline.page_rotation import choose_rotation, line_axes, rotate_image, rotate_points_back
from pdf_samples import RECEIPT_LINES as LINES
from pdf_samples import receipt_page


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_points_found_in_the_turned_image_map_back_onto_the_same_pixels(rotation):
    image = np.zeros((30, 50, 3), dtype=np.uint8)
    image[4, 7] = 255  # one marked pixel: its centre is (7.5, 4.5)
    turned = rotate_image(image, rotation)
    assert turned.shape[:2] == ((30, 50) if rotation in (0, 180) else (50, 30))
    rows, cols = np.nonzero(turned[:, :, 0])
    back = rotate_points_back(np.array([[cols[0] + 0.5, rows[0] + 0.5]]), rotation, (30, 50))
    np.testing.assert_allclose(back, [[7.5, 4.5]])


def test_rotate_image_refuses_other_angles():
    with pytest.raises(ValueError, match="rotation"):
        rotate_image(np.zeros((2, 2, 3), np.uint8), 45)


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_line_axes_weigh_long_lines_and_ignore_square_boxes():
    across, upright = line_axes([box(0, 0, 100, 10), box(0, 20, 10, 220), box(0, 0, 10, 10)])
    assert across == pytest.approx(10) and upright == pytest.approx(20)


class Reader:
    """Stand-in recognizer: confident on crops whose left half is darker (the 'upright' way)."""

    def __init__(self):
        self.calls = []

    def __call__(self, crops):
        self.calls.append(len(crops))
        readings = []
        for crop in crops:
            half = crop.shape[1] // 2
            upright = crop[:, :half].mean() < crop[:, half:].mean()
            readings.append(SimpleNamespace(confidence=0.95 if upright else 0.6))
        return readings


def page_with_lines_dark_on_the_left():
    image = np.full((200, 300, 3), 255, dtype=np.uint8)
    for top in (20, 80, 140):
        image[top : top + 20, 20:100] = 0  # the "start" of each line is dark
        image[top : top + 20, 100:260] = 200
    return image, [box(20, top, 260, top + 20) for top in (20, 80, 140)]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_choose_rotation_finds_the_turn_that_makes_lines_upright(rotation):
    image, lines = page_with_lines_dark_on_the_left()
    turn = (360 - rotation) % 360  # the page as it arrives
    turned = rotate_image(image, turn)
    # the lines as a detector finds them in the turned image (clockwise from top-left there)
    height, width = image.shape[:2]
    turned_lines = []
    for line in lines:
        points = rotate_points_back(line, (360 - turn) % 360, turned.shape[:2])  # upright -> turned
        order = np.argsort(points[:, 0] + points[:, 1])  # top-left first
        start = int(order[0])
        turned_lines.append(np.roll(points, -start, axis=0))
    reader = Reader()
    assert choose_rotation(turned, turned_lines, reader) == rotation
    if rotation in (90, 270):
        assert reader.calls == [2 * len(lines)]  # one batch: every sampled line both ways up
    else:
        # lines across: as cut first, then turned by 180° (skipped when as cut is already sure)
        assert reader.calls[0] == len(lines) and reader.calls in ([len(lines)], [len(lines), len(lines)])


def test_choose_rotation_skips_the_turned_reads_when_the_lines_read_surely_as_cut():
    image, lines = page_with_lines_dark_on_the_left()
    calls = []

    def sure(crops):
        calls.append(len(crops))
        return [SimpleNamespace(confidence=0.97) for _ in crops]

    # 0.97 + margin 0.05 >= 1: no turned read can win by the margin, so it is not made.
    assert choose_rotation(image, lines, sure, margin=0.05) == 0 and calls == [len(lines)]
    calls.clear()
    assert choose_rotation(image, lines, sure, margin=0.02) == 0 and calls == [len(lines), len(lines)]


def test_choose_rotation_keeps_upright_pages_on_a_close_call_and_empty_pages():
    image, lines = page_with_lines_dark_on_the_left()

    def unsure(crops):  # 0.8 as cut, 0.83 turned by 180° (the dark start is then on the right)
        return [SimpleNamespace(confidence=0.8 if crop[:, : crop.shape[1] // 2].mean() < crop[:, crop.shape[1] // 2 :].mean() else 0.83) for crop in crops]

    assert choose_rotation(image, lines, unsure, margin=0.05) == 0
    assert choose_rotation(image, lines, unsure, margin=0.0) == 180
    assert choose_rotation(image, [], unsure) == 0
    assert choose_rotation(image, [box(0, 0, 10, 10)], unsure) == 0  # nothing line-like


def test_page_rotation_option_values():
    assert OcrConfig(page_rotation="90").manual_rotation() == 90
    assert OcrConfig(page_rotation=270).manual_rotation() == 270
    assert OcrConfig(page_rotation="off").manual_rotation() == 0
    assert OcrConfig().manual_rotation() is None
    for bad in ("45", 45, "sideways", True):
        with pytest.raises(ValueError, match="page_rotation"):
            OcrConfig(page_rotation=bad)


@pytest.fixture(scope="module")
def model():
    from ocr_model import get_model

    return get_model()


@pytest.mark.slow  # the real model over a page, turned four ways
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_real_engine_reads_a_turned_page_as_upright_with_polygons_in_its_pixels(model, turn):
    page = receipt_page()
    turned = rotate_image(page, turn)
    prediction = model.predict(turned)
    assert prediction.texts == LINES
    assert prediction.rotation == (360 - turn) % 360
    assert prediction.to_dict()["rotation"] == prediction.rotation
    assert prediction.image_size == turned.shape[:2]
    # each line's polygon, turned back upright, lies where the line was drawn
    upright = [rotate_points_back(polygon, turn, page.shape[:2]) for polygon in prediction.polygons]
    for row, polygon in enumerate(upright):
        centre_y = polygon[:, 1].mean()
        assert 30 + row * 90 <= centre_y <= 30 + row * 90 + 40
        # the first point is the line's own top-left as it reads
        assert polygon[0, 0] < polygon[1, 0] and polygon[0, 1] < polygon[3, 1]


@pytest.mark.slow  # the real model over a page, turned four ways
def test_manual_rotation_is_applied_as_asked(model):
    turned = rotate_image(receipt_page(), 90)
    assert model.predict(turned, page_rotation=270).texts == LINES
    assert model.predict(turned, page_rotation=270).rotation == 270
    forced = model.predict(turned, page_rotation="off")
    assert forced.rotation == 0 and forced.texts != LINES


def test_choose_rotation_reuses_the_readings_as_cut_for_lines_across():
    image, lines = page_with_lines_dark_on_the_left()
    reader = Reader()
    # Given as-cut reads of 0.3 (the Reader itself would give 0.95), the turned reads (0.6) win:
    # so the given readings were used, and only the 180° reads were made.
    readings = [SimpleNamespace(confidence=0.3) for _ in lines]
    assert choose_rotation(image, lines, reader, readings=readings) == 180
    assert reader.calls == [len(lines)]
    sure = [SimpleNamespace(confidence=0.99) for _ in lines]
    reader.calls.clear()
    assert choose_rotation(image, lines, reader, readings=sure) == 0 and reader.calls == []


def test_choose_rotation_cuts_no_crop_when_the_given_reads_as_cut_decide(monkeypatch):
    from ocr_model.pipeline import page_rotation

    image, lines = page_with_lines_dark_on_the_left()
    cut = []
    real_crop = page_rotation.crop_quad
    monkeypatch.setattr(page_rotation, "crop_quad", lambda *args, **kwargs: cut.append(1) or real_crop(*args, **kwargs))
    sure = [SimpleNamespace(confidence=0.99) for _ in lines]
    assert choose_rotation(image, lines, Reader(), readings=sure) == 0 and cut == []  # upright: nothing cut
    unsure = [SimpleNamespace(confidence=0.3) for _ in lines]
    assert choose_rotation(image, lines, Reader(), readings=unsure) == 180 and len(cut) == len(lines)
