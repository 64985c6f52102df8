"""The recognizer as modules: shapes, names, and the shipped weights reproduce onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from network_inputs import onnx_session
from ocr_model.networks import model_files
from ocr_model.networks.onnx_import import load_onnx_weights
from ocr_model.networks.recognizer import PPOCRV6_SMALL, Recognizer


TOLERANCE = 1e-4  # on probabilities


@pytest.fixture(scope="module")
def small():
    network = Recognizer(PPOCRV6_SMALL).eval()
    load_onnx_weights(network, model_files.recognition_model_path())
    return network, onnx_session(model_files.recognition_model_path())


def text_like_lines(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Light background with dark vertical strokes, normalised to [-1, 1] like the pipeline."""
    rng = np.random.default_rng(seed)
    pixels = np.full(shape, 230.0, np.float32) + rng.normal(0, 8, shape).astype(np.float32)
    for x in range(2, shape[3] - 3, int(rng.integers(5, 9))):
        pixels[:, :, 12:36, x : x + 2] = rng.uniform(0, 90)
    return ((np.clip(pixels, 0, 255) / 255 - 0.5) / 0.5).astype(np.float32)


@pytest.mark.parametrize("width, expected_steps", [(17, 2), (100, 12), (320, 40), (808, 101)])
def test_output_length_and_classes(width, expected_steps):
    network = Recognizer().eval()
    with torch.inference_mode():
        logits = network(torch.zeros(2, 3, 48, width))
    assert logits.shape == (2, expected_steps, 18710)  # T = floor(ceil(W / 4) / 2)


def test_named_submodules_and_size():
    network = Recognizer()
    assert network.head.fc.out_features == 18710
    assert len(network.backbone.stages) == 3 and len(network.backbone.stages[1]) == 7
    assert network.backbone.stages[1][1].se is not None and network.backbone.stages[1][2].se is None
    assert sum(p.numel() for p in network.parameters()) == 5_266_910  # 5.27 M as PaddleOCR's config


@pytest.mark.parametrize("make", ["random", "text"])
@pytest.mark.parametrize("shape", [(1, 3, 48, 320), (3, 3, 48, 100), (2, 3, 48, 808), (1, 3, 48, 17)])
def test_small_matches_onnxruntime(small, make, shape):
    network, session = small
    seed = sum(shape)
    images = (
        np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32) if make == "random" else text_like_lines(shape, seed)
    )
    expected = session.run(None, {"x": images})[0]
    with torch.inference_mode():
        actual = torch.softmax(network(torch.from_numpy(images)), dim=-1).numpy()
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= TOLERANCE
    np.testing.assert_array_equal(actual.argmax(-1), expected.argmax(-1))


def test_forward_returns_logits_not_probabilities(small):
    network, _ = small
    with torch.inference_mode():
        logits = network(torch.from_numpy(text_like_lines((1, 3, 48, 160), 4)))
    assert not torch.allclose(logits.exp().sum(-1), torch.ones(1, 20), atol=1e-3)


def test_trains_like_any_module():
    network = Recognizer().train()
    logits = network(torch.zeros(2, 3, 48, 64))
    loss = torch.nn.functional.ctc_loss(
        logits.log_softmax(-1).transpose(0, 1), torch.tensor([[5, 6], [7, 8]]), torch.tensor([8, 8]), torch.tensor([2, 2]), blank=0
    )
    loss.backward()
    assert network.backbone.stem.stem1.conv.weight.grad is not None


@pytest.mark.parametrize("shape", [(1, 3, 32, 320), (3, 48, 320), (1, 4, 48, 320), (0, 3, 48, 320)])
def test_rejects_bad_shapes(shape):
    with pytest.raises(ValueError):
        Recognizer()(torch.zeros(shape))


def test_restrict_characters_keeps_the_kept_classes_logits_and_their_order():
    from ocr_model.networks.recognizer import restrict_characters

    torch.manual_seed(0)
    network = Recognizer().eval()
    characters = [chr(0x4E00 + index) for index in range(18708)]  # + blank + the implicit space = 18710
    characters[10], characters[500], characters[18000] = "A", "7", "$"
    images = torch.from_numpy(text_like_lines((2, 3, 48, 160), 9))
    with torch.inference_mode():
        full = network(images)
    kept = restrict_characters(network, characters, {"$", "A", "7", "not in the list"})
    assert kept == ["A", "7", "$"]  # the original order, whatever the order of `keep`
    assert network.head.fc.out_features == network.config.num_classes == 5  # blank, A, 7, $, space
    with torch.inference_mode():
        pruned = network(images)
    np.testing.assert_allclose(pruned.numpy(), full[:, :, [0, 11, 501, 18001, 18709]].numpy(), atol=1e-5)


def test_restrict_characters_refuses_a_list_that_does_not_fit_or_keeps_nothing():
    from ocr_model.networks.recognizer import restrict_characters

    network = Recognizer(PPOCRV6_SMALL)
    with pytest.raises(ValueError, match="do not match"):
        restrict_characters(network, ["a", "b"], {"a"})
    with pytest.raises(ValueError, match="none of the characters"):
        restrict_characters(network, ["x"] * 18708, {"a"})
