"""The orientation classifier as modules reproduces onnxruntime, before and after BN folding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from network_inputs import document_like_images, onnx_session, random_images
from ocr_model.networks import model_files
from ocr_model.networks.loaders import load_orientation_classifier, prepare_for_inference

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def classifier():
    return load_orientation_classifier(), onnx_session(model_files.orientation_model_path())


@pytest.mark.parametrize("make_images", [random_images, document_like_images])
@pytest.mark.parametrize("batch", [1, 5])
def test_matches_onnxruntime(classifier, make_images, batch):
    network, session = classifier
    images = make_images((batch, 3, 48, 192), seed=batch)
    expected = session.run(None, {"x": images})[0]
    with torch.inference_mode():
        actual = torch.softmax(network(torch.from_numpy(images)), dim=1).numpy()
    assert actual.shape == expected.shape == (batch, 2)
    assert np.abs(actual - expected).max() <= TOLERANCE


def test_upside_down_lines_after_folding_the_batch_norms(classifier):
    _, session = classifier
    network = prepare_for_inference(load_orientation_classifier())
    assert not any(layer.bn is not None for layer in network.modules() if hasattr(layer, "bn"))
    upright = document_like_images((1, 3, 48, 192), seed=11)
    batch = np.concatenate([upright, upright[:, :, ::-1, ::-1].copy()])
    with torch.inference_mode():
        actual = torch.softmax(network(torch.from_numpy(batch)), dim=1).numpy()
    np.testing.assert_allclose(actual, session.run(None, {"x": batch})[0], atol=TOLERANCE)
