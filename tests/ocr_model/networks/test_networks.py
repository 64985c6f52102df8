"""The torch networks must reproduce the ONNX graphs (checked against onnxruntime)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from ocr_model.networks import model_files
from ocr_model.networks import (
    load_character_list,
    load_detection_network,
    load_orientation_network,
    load_recognition_network,
)

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the test-only reference runtime")

DETECTION_TOLERANCE = 1e-4
RECOGNITION_TOLERANCE = 1e-3


def _session(path) -> "ort.InferenceSession":
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def random_images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)


def document_like_images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Light page with dark text-like strokes, normalised like the pipeline does ([-1, 1])."""
    rng = np.random.default_rng(seed)
    batch, _, height, width = shape
    pixels = np.full((batch, height, width, 3), 235.0, dtype=np.float32)
    pixels += rng.normal(0.0, 6.0, pixels.shape).astype(np.float32)
    for image in pixels:
        for _ in range(max(2, height // 24)):
            top = int(rng.integers(0, max(1, height - 12)))
            line_height = int(rng.integers(6, 14))
            left = int(rng.integers(0, max(1, width // 3)))
            right = int(rng.integers(left + 1, width + 1))
            for x in range(left, right, int(rng.integers(3, 8))):
                image[top : top + line_height, x : x + 2] = rng.uniform(10, 80)
    pixels = np.clip(pixels, 0, 255)
    return ((pixels / 255.0 - 0.5) / 0.5).transpose(0, 3, 1, 2).copy()


@pytest.fixture(scope="module")
def detection():
    return load_detection_network(), _session(model_files.detection_model_path())


@pytest.fixture(scope="module")
def recognition():
    return load_recognition_network(), _session(model_files.recognition_model_path())


@pytest.fixture(scope="module")
def orientation():
    return load_orientation_network(), _session(model_files.orientation_model_path())


def _torch_output(network, images: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return network(torch.from_numpy(images)).numpy()


@pytest.mark.parametrize("make_images", [random_images, document_like_images])
@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 160, 224), (1, 3, 320, 256)])
def test_detection_matches_onnxruntime(detection, make_images, shape):
    network, session = detection
    images = make_images(shape, seed=sum(shape))
    expected = session.run(None, {"x": images})[0]
    actual = _torch_output(network, images)
    assert actual.shape == expected.shape == (shape[0], 1, shape[2], shape[3])
    assert np.abs(actual - expected).max() <= DETECTION_TOLERANCE


@pytest.mark.parametrize("make_images", [random_images, document_like_images])
@pytest.mark.parametrize("shape", [(1, 3, 48, 320), (3, 3, 48, 100), (2, 3, 48, 808)])
def test_recognition_matches_onnxruntime(recognition, make_images, shape):
    network, session = recognition
    images = make_images(shape, seed=sum(shape))
    expected = session.run(None, {"x": images})[0]
    actual = _torch_output(network, images)
    assert actual.shape == expected.shape
    assert actual.shape[2] == len(load_character_list()) + 2
    assert np.abs(actual - expected).max() <= RECOGNITION_TOLERANCE
    assert (actual.argmax(-1) == expected.argmax(-1)).mean() > 0.99


def test_recognition_logits_give_the_probabilities(recognition):
    network, _ = recognition
    images = torch.from_numpy(document_like_images((2, 3, 48, 160), seed=3))
    with torch.inference_mode():
        logits = network.logits(images)
        probabilities = network(images)
    torch.testing.assert_close(torch.softmax(logits, dim=-1), probabilities)
    assert not torch.allclose(logits, probabilities)


def test_recognition_best_classes_match_onnxruntime(recognition):
    network, session = recognition
    images = document_like_images((3, 3, 48, 256), seed=8)
    expected = session.run(None, {"x": images})[0]
    with torch.inference_mode():
        best_class, best_probability = network.best_classes(torch.from_numpy(images))
    assert best_class.dtype == torch.int64 and best_class.shape == expected.shape[:2]
    assert (best_class.numpy() == expected.argmax(-1)).mean() > 0.99
    np.testing.assert_allclose(best_probability.numpy(), expected.max(-1), atol=RECOGNITION_TOLERANCE)


@pytest.mark.parametrize("make_images", [random_images, document_like_images])
@pytest.mark.parametrize("batch", [1, 5])
def test_orientation_matches_onnxruntime(orientation, make_images, batch):
    network, session = orientation
    images = make_images((batch, 3, 48, 192), seed=batch)
    expected = session.run(None, {"x": images})[0]
    actual = _torch_output(network, images)
    assert actual.shape == expected.shape == (batch, 2)
    assert np.abs(actual - expected).max() <= DETECTION_TOLERANCE


def test_orientation_matches_onnxruntime_on_upside_down_lines(orientation):
    network, session = orientation
    upright = document_like_images((1, 3, 48, 192), seed=11)
    flipped = upright[:, :, ::-1, ::-1].copy()
    batch = np.concatenate([upright, flipped])
    np.testing.assert_allclose(_torch_output(network, batch), session.run(None, {"x": batch})[0], atol=1e-4)


def test_character_list_layout():
    characters = load_character_list()
    assert len(characters) == 18708
    assert characters[0] == "!"
    assert all(len(character) >= 1 for character in characters)
    assert " " not in characters  # the space is the extra last class, not part of the stored list


@pytest.mark.parametrize(
    "shape", [(1, 3, 100, 96), (1, 3, 64), (1, 1, 64, 64), (0, 3, 64, 64)]
)
def test_detection_rejects_bad_shapes(detection, shape):
    network, _ = detection
    with pytest.raises(ValueError):
        network(torch.zeros(shape))


@pytest.mark.parametrize("shape", [(1, 3, 32, 320), (3, 48, 320), (1, 4, 48, 320), (0, 3, 48, 320)])
def test_recognition_rejects_bad_shapes(recognition, shape):
    network, _ = recognition
    with pytest.raises(ValueError):
        network.logits(torch.zeros(shape))


def test_networks_load_on_cpu_in_eval_float32():
    for network in (load_detection_network(), load_recognition_network(), load_orientation_network()):
        assert not network.training
        tensors = list(network.state_dict().values())
        assert tensors, "the weights must be part of the module state"
        assert all(t.device.type == "cpu" for t in tensors)
        assert all(t.dtype == torch.float32 for t in tensors if t.is_floating_point())
        weights = list(network.parameters())
        assert weights and not any(weight.requires_grad for weight in weights)


def test_double_precision_copy_gives_the_same_map(detection):
    network, _ = detection
    images = document_like_images((1, 3, 64, 64), seed=5)
    single = _torch_output(network, images)
    double = copy.deepcopy(network).double()
    with torch.inference_mode():
        result = double(torch.from_numpy(images).double()).float().numpy()
    np.testing.assert_allclose(result, single, atol=1e-4)
