import numpy as np
import pytest

from ocr_model.config import OcrConfig
from ocr_model.pipeline.detection import (
    boxes_from_probabilities,
    detection_size,
    map_to_original,
    order_clockwise,
    prepare_detection_input,
    unclip,
)


@pytest.mark.parametrize("height,width", [(1, 1), (30, 400), (933, 461), (7016, 4961), (100, 20000), (5000, 5000)])
def test_detection_size_is_a_bounded_multiple_of_32(height, width):
    config = OcrConfig()
    det_h, det_w = detection_size(height, width, config)
    assert det_h % 32 == 0 and det_w % 32 == 0 and det_h >= 32 and det_w >= 32
    assert max(det_h, det_w) <= config.det_max_side + 16
    assert det_h * det_w <= config.det_max_pixels * 1.1 + 32 * 32 * 4


def test_small_images_are_upscaled_but_at_most_by_the_cap():
    config = OcrConfig(det_min_side=736, det_max_upscale=2.0)
    assert detection_size(100, 300, config) == (192, 608)  # 2x, not 7.36x
    assert detection_size(500, 600, config) == (736, 896)  # 1.472x reaches the min side


def test_large_images_are_downscaled_to_the_max_side():
    config = OcrConfig(det_max_side=1600)
    det_h, det_w = detection_size(7016, 4961, config)
    assert det_h == 1600 and abs(det_w - 4961 * 1600 / 7016) <= 16


def test_prepare_detection_input_normalizes_in_bgr_order_and_records_scale():
    image = np.zeros((40, 70, 3), dtype=np.uint8)
    image[..., 0] = 255  # pure red in RGB
    det = prepare_detection_input(image, OcrConfig(det_min_side=32, det_max_upscale=1.0))
    assert det.tensor.shape == (1, 3, 32, 64)
    assert det.tensor.dtype.is_floating_point
    assert float(det.tensor[0, 2].mean()) == pytest.approx(1.0)  # red is the last BGR channel
    assert float(det.tensor[0, 0].mean()) == pytest.approx(-1.0)
    assert det.scale_x == pytest.approx(64 / 70) and det.scale_y == pytest.approx(32 / 40)


def test_order_clockwise_starts_top_left():
    shuffled = np.array([[10, 5], [0, 0], [0, 5], [10, 0]], dtype=np.float32)
    np.testing.assert_array_equal(order_clockwise(shuffled), [[0, 0], [10, 0], [10, 5], [0, 5]])


def test_unclip_grows_a_box_by_the_db_distance():
    quad = np.array([[10, 10], [110, 10], [110, 30], [10, 30]], dtype=np.float32)
    grown = unclip(quad, 1.5)
    distance = 100 * 20 * 1.5 / 240
    assert grown[:, 0].min() == pytest.approx(10 - distance, abs=1.0)
    assert grown[:, 1].max() == pytest.approx(30 + distance, abs=1.0)


def synthetic_probability_map():
    probabilities = np.zeros((128, 256), dtype=np.float32)
    probabilities[20:32, 30:150] = 0.9  # a text line
    probabilities[70:84, 60:220] = 0.8  # another
    probabilities[100:110, 10:40] = 0.35  # above the pixel threshold but a weak box: dropped
    probabilities[5:6, 5:6] = 0.99  # a speck: too small
    return probabilities


def test_db_postprocessing_finds_the_text_boxes_and_unclips_them():
    quads, scores = boxes_from_probabilities(synthetic_probability_map(), OcrConfig())
    assert len(quads) == 2
    top_first = sorted(zip(quads, scores), key=lambda pair: pair[0][:, 1].min())
    (first, first_score), (second, second_score) = top_first
    # the box score is the mean probability inside the fitted rectangle (its border
    # includes a few zero pixels), so it is a bit under the plateau value
    assert 0.7 < first_score <= 0.9 and 0.6 < second_score <= 0.8 and first_score > second_score
    # the kernel was 120x12 at (30, 20); unclipping grows it on every side
    assert first[:, 0].min() < 30 and first[:, 0].max() > 150
    assert first[:, 1].min() < 20 and first[:, 1].max() > 32
    assert first[:, 1].min() > 10 and first[:, 1].max() < 45


def test_box_threshold_and_max_regions_are_applied():
    probabilities = synthetic_probability_map()
    _, scores = boxes_from_probabilities(probabilities, OcrConfig())
    between = (max(scores) + min(scores)) / 2
    quads, kept_scores = boxes_from_probabilities(probabilities, OcrConfig(det_box_threshold=between))
    assert len(quads) == 1 and kept_scores[0] == max(scores)
    quads, _ = boxes_from_probabilities(probabilities, OcrConfig(max_text_regions=1))
    assert len(quads) == 1 and quads[0][:, 0].max() > 200  # the largest region is kept


def test_many_regions_are_capped():
    probabilities = np.zeros((320, 320), dtype=np.float32)
    for row in range(0, 320, 16):
        for col in range(0, 320, 16):
            probabilities[row + 2 : row + 10, col + 2 : col + 12] = 0.9
    quads, _ = boxes_from_probabilities(probabilities, OcrConfig(max_text_regions=50))
    assert len(quads) == 50


def test_map_to_original_undoes_the_scale_and_clips():
    quad = np.array([[0, 0], [64, 0], [64, 32], [0, 32]], dtype=np.float32)
    (mapped,) = map_to_original([quad], scale_x=0.5, scale_y=0.25, image_height=100, image_width=1000)
    np.testing.assert_allclose(mapped, [[0, 0], [128, 0], [128, 100], [0, 100]])
    assert mapped.dtype == np.float32
