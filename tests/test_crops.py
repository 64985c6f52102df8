import numpy as np

from ocr_model.crops import crop_quad, pad_quad


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
