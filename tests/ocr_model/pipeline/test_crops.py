import numpy as np

from ocr_model.pipeline.crops import crop_quad, pad_quad


def gradient_image():
    ys, xs = np.mgrid[0:100, 0:200]
    return np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=2).astype(np.uint8)


def test_axis_aligned_crop_matches_the_slice():
    image = gradient_image()
    quad = np.array([[20, 10], [120, 10], [120, 40], [20, 40]], dtype=np.float32)
    crop = crop_quad(image, quad)
    assert crop.shape == (30, 100, 3) and crop.dtype == np.uint8
    np.testing.assert_allclose(crop[2:-2, 2:-2].astype(int), image[12:38, 22:118].astype(int), atol=2)


def test_tall_crops_are_turned_to_horizontal():
    image = gradient_image()
    quad = np.array([[50, 0], [60, 0], [60, 80], [50, 80]], dtype=np.float32)
    crop = crop_quad(image, quad)
    assert crop.shape[:2] == (10, 80)


def test_rotated_quad_is_rectified():
    image = np.full((200, 200, 3), 255, dtype=np.uint8)
    image[90:110, 40:160] = 0  # a dark bar; crop a slightly larger rotated-by-0 quad as a 45° check below
    center = np.array([100.0, 100.0])
    angle = np.deg2rad(30)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    quad = np.stack(
        [center - 50 * along - 10 * across, center + 50 * along - 10 * across, center + 50 * along + 10 * across, center - 50 * along + 10 * across]
    ).astype(np.float32)
    crop = crop_quad(image, quad)
    assert abs(crop.shape[1] - 100) <= 1 and abs(crop.shape[0] - 20) <= 1


def test_padding_grows_the_quad_by_a_fraction_of_its_height():
    quad = np.array([[10, 10], [110, 10], [110, 30], [10, 30]], dtype=np.float32)
    np.testing.assert_allclose(pad_quad(quad, 0.25), [[5, 5], [115, 5], [115, 35], [5, 35]], atol=1e-4)
    assert pad_quad(quad, 0.0) is quad


# --- the device pipeline's crops (grid_sample) against the OpenCV ones ---------------------

import pytest  # noqa: E402
import torch  # noqa: E402

from ocr_model.pipeline.crops import image_to_device, line_geometry, sample_lines  # noqa: E402
from ocr_model.pipeline.lines import DeviceLines, HostLines, prepare_line_batch  # noqa: E402


def text_like_image():
    rng = np.random.default_rng(0)
    image = np.full((240, 400, 3), 235, dtype=np.uint8)
    for top in (20, 70, 130):
        for left in range(30, 330, 14):
            image[top : top + 22, left : left + 6] = rng.integers(0, 90, size=3)
    image[20:200, 350:380] = 60  # a tall block (read turned)
    return image


QUADS = [
    np.array([[25, 15], [340, 15], [340, 47], [25, 47]], dtype=np.float32),  # 32 px: enlarged
    np.array([[25, 66], [200, 62], [201, 96], [26, 100]], dtype=np.float32),  # skewed
    np.array([[345, 18], [385, 18], [385, 205], [345, 205]], dtype=np.float32),  # vertical
    np.array([[20, 110], [390, 110], [390, 200], [20, 200]], dtype=np.float32),  # 90 px: shrunk 2x
]


@pytest.mark.parametrize("padding", [0.0, 0.08])
def test_device_crops_match_the_opencv_crops(padding):
    image = text_like_image()
    expected = prepare_line_batch([crop_quad(image, quad, padding) for quad in QUADS], 48, 640)
    geometries = [line_geometry(quad, padding) for quad in QUADS]
    actual = sample_lines(image_to_device(image, "cpu"), geometries, 48, 640)
    assert actual.shape == expected.shape and actual.dtype == torch.float32
    for row in range(len(QUADS)):
        # same size and padding: the filled columns are the same, the rest is exactly 0
        filled = expected[row].abs().sum(dim=(0, 1)) > 0
        assert torch.equal(actual[row].abs().sum(dim=(0, 1)) > 0, filled)
        # same pixels up to interpolation (bicubic/area vs grid_sample): a few grey levels
        assert float((actual[row] - expected[row]).abs().mean()) < 0.03


def test_line_geometry_has_the_crop_size_and_turns_by_180():
    image = text_like_image()
    for quad in QUADS:
        crop = crop_quad(image, quad, 0.08)
        geometry = line_geometry(quad, 0.08)
        assert (geometry.width, geometry.height) == (crop.shape[1], crop.shape[0])
        source = image_to_device(image, "cpu")
        upright = sample_lines(source, [geometry], 48, 320)
        turned = sample_lines(source, [geometry.rotated_180()], 48, 320)
        width = int((upright[0].abs().sum(dim=(0, 1)) > 0).sum())
        torch.testing.assert_close(turned[0, :, :, :width], upright[0, :, :, :width].flip(1, 2), atol=0.03, rtol=0)


def test_device_lines_of_two_images_come_back_in_the_asked_order():
    first, second = text_like_image(), 255 - text_like_image()
    lines = DeviceLines([(image_to_device(first, "cpu"), line_geometry(QUADS[0]))]) + DeviceLines(
        [(image_to_device(second, "cpu"), line_geometry(QUADS[0])), (image_to_device(first, "cpu"), line_geometry(QUADS[1]))]
    )
    host = HostLines([crop_quad(first, QUADS[0]), crop_quad(second, QUADS[0]), crop_quad(first, QUADS[1])])
    order = [1, 0, 2]
    batch, reference = lines.batch(order, 48, 480, torch.device("cpu")), host.batch(order, 48, 480, torch.device("cpu"))
    assert lines.sizes() == host.sizes()
    for row in range(3):
        assert float((batch[row] - reference[row]).abs().mean()) < 0.03
