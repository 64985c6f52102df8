"""The result view shows a turned page upright (issue 18, item 2): boxes and written text in the upright
frame, the JSON in the uploaded image's pixels. Checked by pixels: what a box covers on the upright view is
what its JSON polygon covers on the uploaded image."""

import numpy as np
import pytest
from PIL import Image

from demo import handlers
from demo.config import AppConfig
from demo.render import decode_jpeg, turn_points
from ocr_model.pipeline.page_rotation import rotate_image, rotate_points_back
from ocr_model.types import Predictions
from pdf_samples import RECEIPT_LINES as LINES
from pdf_samples import receipt_page

CONFIG = AppConfig(max_display_size=400, max_results_in_memory=3)


def bbox_crop(image: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    points = np.asarray(polygon, dtype=np.float64)
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    return image[max(0, y0) : y1, max(0, x0) : x1]


def gray(crop: np.ndarray, size: tuple[int, int] = (160, 24)) -> np.ndarray:
    return np.asarray(Image.fromarray(crop).convert("L").resize(size, Image.Resampling.BILINEAR), dtype=np.float64)


def assert_boxes_cover_the_same_text(uploaded: np.ndarray, view: handlers.ResultView, rotation: int) -> None:
    """Each line: the crop under its box on the upright view matches the crop under its JSON polygon on
    the uploaded image (turned upright), and matches it better than any other line's crop."""
    shown = decode_jpeg(view.display_jpeg)
    assert view.explorer["width"] == shown.shape[1] and view.explorer["height"] == shown.shape[0]
    on_view = [gray(bbox_crop(shown, polygon)) for polygon in view.display_polygons]
    on_upload = [gray(rotate_image(bbox_crop(uploaded, np.array(line["polygon"])), rotation)) for line in view.record["lines"]]
    assert len(on_view) == len(on_upload) >= 2
    for index, crop in enumerate(on_view):
        errors = [np.abs(crop - other).mean() for other in on_upload]
        assert int(np.argmin(errors)) == index, errors
        assert errors[index] < 12, errors  # JPEG and resampling differences only
        # the crop has text in it (not a blank strip that would match anything blank)
        assert crop.min() < 100


def test_turn_points_is_the_inverse_of_the_engines_rotate_points_back_and_follows_rotate_image():
    size = (30, 50)  # height, width
    points = np.array([[0.0, 0.0], [50.0, 0.0], [50.0, 30.0], [0.0, 30.0], [12.5, 7.5]])
    for rotation in (0, 90, 180, 270):
        turned_size = size if rotation in (0, 180) else size[::-1]
        turned = turn_points(points, rotation, size)
        np.testing.assert_allclose(rotate_points_back(turned, rotation, size), points, atol=1e-5)
        # a marked pixel lands where rotate_image moves it
        image = np.zeros(size + (3,), dtype=np.uint8)
        image[7, 12] = 255  # the pixel spanning [12, 13] x [7, 8]; its centre is (12.5, 7.5)
        moved = rotate_image(image, rotation)
        assert moved.shape[:2] == turned_size
        x, y = turn_points(np.array([[12.5, 7.5]]), rotation, size)[0]
        assert moved[int(y), int(x)].max() == 255
    with pytest.raises(ValueError, match="rotation"):
        turn_points(points, 45, size)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_turned_page_is_shown_upright_with_boxes_over_the_same_text_as_the_json_polygons(rotation):
    """Predictions as the engine gives them for a page it turned to read: polygons in the uploaded pixels."""
    page = receipt_page()
    uploaded = rotate_image(page, (360 - rotation) % 360)  # the photo as taken: reading it needs `rotation`
    boxes = [np.array([[25, 25 + r * 90], [420, 25 + r * 90], [420, 70 + r * 90], [25, 70 + r * 90]], dtype=np.float64) for r in range(4)]
    predictions = Predictions(
        polygons=[rotate_points_back(box, rotation, uploaded.shape[:2]) for box in boxes],
        texts=list(LINES),
        confidences=[0.9] * 4,
        image_size=uploaded.shape[:2],
        rotation=rotation,
    )
    result = handlers.make_result(uploaded, predictions, name="turned.png", note=None, options={}, config=CONFIG)
    view = handlers.render_view(result, show_text=True)
    shown = decode_jpeg(view.display_jpeg)
    assert shown.shape[:2] == rotate_image(decode_jpeg(result.preview_jpeg), rotation).shape[:2]
    assert shown.shape[1] > shown.shape[0]  # the page is landscape when upright
    assert decode_jpeg(view.annotated_jpeg).shape == shown.shape
    # upright: every box runs across the view, lines top to bottom in reading order
    for polygon in view.display_polygons:
        width, height = np.ptp(polygon, axis=0)
        assert width > 4 * height
    tops = [polygon[:, 1].min() for polygon in view.display_polygons]
    assert tops == sorted(tops)
    # the JSON stays in the uploaded image's pixels
    assert view.record["image_size"] == {"height": uploaded.shape[0], "width": uploaded.shape[1]}
    for line, polygon in zip(view.record["lines"], predictions.polygons):
        np.testing.assert_allclose(line["polygon"], polygon, atol=0.01)
    assert_boxes_cover_the_same_text(uploaded, view, rotation)
    assert "shown upright" in view.summary


def test_an_unturned_page_keeps_its_stored_preview_as_the_view(fake_engine):
    image = receipt_page()
    result = handlers.make_result(image, fake_engine.predict(image), name="a.png", note=None, options={}, config=CONFIG)
    view = handlers.render_view(result)
    assert view.display_jpeg == result.preview_jpeg
    assert (view.explorer["height"], view.explorer["width"]) == result.transform.display_size
    assert "turned" not in view.summary


def test_forcing_a_turn_says_it_was_chosen_not_needed_to_read(fake_engine):
    """Forcing 180° on an upright page said "turned 180° clockwise to read"."""
    image = receipt_page()
    forced = fake_engine.predict(image)
    forced = Predictions(forced.polygons, forced.texts, forced.confidences, forced.image_size, rotation=180)
    chosen = handlers.make_result(image, forced, name="a.png", note=None, options={"page_rotation": 180}, config=CONFIG)
    summary = handlers.render_view(chosen).summary
    assert "turned 180° as chosen under Orientation" in summary
    assert "to read" not in summary and "clockwise" not in summary
    found = handlers.make_result(image, forced, name="a.png", note=None, options={}, config=CONFIG)
    assert "turned 180° to read; shown upright" in handlers.render_view(found).summary
    quarter = Predictions(forced.polygons, forced.texts, forced.confidences, forced.image_size, rotation=270)
    chosen_quarter = handlers.make_result(image, quarter, name="a.png", note=None, options={"page_rotation": 270}, config=CONFIG)
    assert "turned 90° counter-clockwise as chosen" in handlers.render_view(chosen_quarter).summary


@pytest.fixture(scope="module")
def model():
    from ocr_model import get_model

    return get_model()


@pytest.mark.slow  # the real model
def test_real_engine_on_a_page_photographed_sideways_shows_it_upright_over_the_same_text(model):
    """The issue's check end to end: render text, turn it 90°, read it (Orientation auto), map back."""
    uploaded = np.ascontiguousarray(np.rot90(receipt_page()))  # turned counter-clockwise: reading needs 90° clockwise
    predictions = model.predict(uploaded)
    assert predictions.rotation == 90 and predictions.texts == LINES
    result = handlers.make_result(uploaded, predictions, name="sideways.png", note=None, options={}, config=AppConfig())
    view = handlers.render_view(result, show_text=True)
    assert "turned 90° clockwise to read; shown upright" in view.summary
    assert_boxes_cover_the_same_text(uploaded, view, 90)
    assert [line["text"] for line in view.explorer["lines"]] == LINES
