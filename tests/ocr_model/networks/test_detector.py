"""The detector as modules: shapes, names, and the shipped weights reproduce onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from network_inputs import document_like_images, onnx_session, random_images
from ocr_model.networks import model_files
from ocr_model.networks.detector import PPOCRV6_SMALL, Detector
from ocr_model.networks.loaders import load_detector, prepare_for_inference

TOLERANCE = 1e-4  # on probabilities


@pytest.fixture(scope="module")
def small():
    return load_detector(), onnx_session(model_files.detection_model_path())


def test_named_submodules_and_size():
    network = Detector(PPOCRV6_SMALL)
    assert [len(stage) for stage in network.backbone.stages] == [2, 3, 5, 3]
    assert network.backbone.stages[2][1].se is not None and network.backbone.stages[2][2].se is None
    assert network.neck.lateral[3].conv.in_channels == 384 and network.head.up2.out_channels == 1
    assert sum(p.numel() for p in network.parameters()) == 2_453_353  # 2.45 M


@pytest.mark.parametrize("make_images", [random_images, document_like_images])
@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 160, 224), (1, 3, 320, 256)])
def test_small_matches_onnxruntime(small, make_images, shape):
    network, session = small
    images = make_images(shape, seed=sum(shape))
    expected = session.run(None, {"x": images})[0]
    with torch.inference_mode():
        actual = torch.sigmoid(network(torch.from_numpy(images))).numpy()
    assert actual.shape == expected.shape == (shape[0], 1, shape[2], shape[3])
    assert np.abs(actual - expected).max() <= TOLERANCE


def test_prepared_for_inference_gives_the_same_map(small):
    network, session = small
    prepared = prepare_for_inference(load_detector())
    images = document_like_images((1, 3, 96, 128), seed=2)
    with torch.inference_mode():
        np.testing.assert_allclose(prepared(torch.from_numpy(images)).numpy(), network(torch.from_numpy(images)).numpy(), atol=1e-4)
    assert prepared.memory_format is torch.channels_last and not any(p.requires_grad for p in prepared.parameters())


def test_double_precision_copy_gives_the_same_map(small):
    network, _ = small
    images = torch.from_numpy(document_like_images((1, 3, 64, 64), seed=5))
    double = Detector().double().eval()
    double.load_state_dict(network.state_dict())
    with torch.inference_mode():
        np.testing.assert_allclose(
            torch.sigmoid(double(images.double())).float().numpy(), torch.sigmoid(network(images)).numpy(), atol=1e-4
        )


@pytest.mark.parametrize("shape", [(1, 3, 100, 96), (1, 3, 64), (1, 1, 64, 64), (0, 3, 64, 64)])
def test_rejects_bad_shapes(shape):
    with pytest.raises(ValueError):
        Detector()(torch.zeros(shape))


def concatenated_neck(neck, features):
    """The neck as the exported graph states it: every level's sum, head and upsampled copy, then one
    concatenation (the form RepLKFPN.forward computes level by level into one map)."""
    merged = [lateral(x) for lateral, x in zip(neck.lateral, features)]
    for index in range(len(merged) - 2, -1, -1):
        merged[index] = merged[index] + torch.nn.functional.interpolate(merged[index + 1], scale_factor=2.0)
    outputs = [level(x) for level, x in zip(neck.levels, merged)]
    upsampled = [torch.nn.functional.interpolate(x, scale_factor=float(2**i)) if i else x for i, x in enumerate(outputs)]
    return torch.cat(upsampled[::-1], dim=1)


@pytest.mark.parametrize("channels_last", [False, True])
def test_neck_matches_the_concatenated_form_with_gradients(channels_last):
    torch.manual_seed(3)
    network = Detector(PPOCRV6_SMALL).double()
    images = torch.rand((2, 3, 96, 128), dtype=torch.float64)
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    features = [f.detach().requires_grad_() for f in network.backbone(images)]
    reference_features = [f.detach().clone().requires_grad_() for f in features]
    actual = network.neck(features)
    expected = concatenated_neck(network.neck, reference_features)
    assert actual.shape == expected.shape == (2, 96, 24, 32)
    assert torch.equal(actual, expected)
    assert actual.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    weights = torch.rand_like(expected)
    (actual * weights).sum().backward()
    (expected * weights).sum().backward()
    for mine, theirs in zip(features, reference_features):
        torch.testing.assert_close(mine.grad, theirs.grad)
    assert all(p.grad is not None for p in network.neck.parameters())


def test_neck_refuses_a_wrong_number_of_feature_maps():
    network = Detector(PPOCRV6_SMALL)
    features = network.backbone(torch.rand((1, 3, 64, 64)))
    with pytest.raises(ValueError, match="4 feature maps"):
        network.neck(features[:3])
