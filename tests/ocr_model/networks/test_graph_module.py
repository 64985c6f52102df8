"""The graph executor's padding rules and fusions, checked on small hand-made ONNX graphs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from ocr_model.networks import model_files
from ocr_model.networks.fusion import optimize_graph
from ocr_model.networks.graph_module import OnnxGraphModule, same_upper_padding
from ocr_model.networks.onnx_weights import read_onnx_graph

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the test-only reference runtime")


def _model(tmp_path, nodes, initializers, channels):
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, channels, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return path


def _compare(path, shape, optimize):
    graph = read_onnx_graph(path)
    module = OnnxGraphModule(optimize_graph(graph) if optimize else graph).eval()
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with torch.inference_mode():
        actual = module(torch.from_numpy(x)).numpy()
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_same_upper_padding_puts_the_extra_pixel_at_the_end():
    # 7 pixels, kernel 3, stride 2 -> 4 outputs need 2 pixels of padding: 1 before, 1 after.
    assert same_upper_padding([7], [3], [2], [1]) == [1, 1]
    # 8 pixels -> 4 outputs need 1 pixel: 0 before, 1 after.
    assert same_upper_padding([8], [3], [2], [1]) == [0, 1]
    # 2x2 stride 1 (the models' stem): always 0 before, 1 after; last dimension first.
    assert same_upper_padding([10, 11], [2, 2], [1, 1], [1, 1]) == [0, 1, 0, 1]


@pytest.mark.parametrize("optimize", [False, True])
@pytest.mark.parametrize("size", [(7, 9), (8, 8), (5, 12)])
@pytest.mark.parametrize("kernel, stride", [((2, 2), 1), ((3, 3), 2), ((2, 3), 2)])
def test_same_upper_conv_and_max_pool_match_onnxruntime(tmp_path, optimize, size, kernel, stride):
    weight = np.random.default_rng(1).normal(size=(4, 3, *kernel)).astype(np.float32)
    bias = np.random.default_rng(2).normal(size=(1, 4, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=list(kernel), strides=[stride, stride], auto_pad="SAME_UPPER"),
        helper.make_node("Add", ["c", "b"], ["cb"]),
        helper.make_node("Relu", ["cb"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=list(kernel), strides=[stride, stride], auto_pad="SAME_UPPER"),
    ]
    path = _model(tmp_path, nodes, [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")], 3)
    _compare(path, (2, 3, *size), optimize)


def test_the_fusions_apply_to_the_shipped_models():
    def op_types(path):
        return [node.op_type for node in optimize_graph(read_onnx_graph(path)).nodes]

    detection = op_types(model_files.detection_model_path())
    recognition = op_types(model_files.recognition_model_path())
    orientation = op_types(model_files.orientation_model_path())
    for fused in (detection, recognition, orientation):
        assert "Conv" not in fused and "BatchNormalization" not in fused
        assert "Erf" not in fused and "Div" not in fused  # GELU / hardswish patterns fused
    assert detection.count("FusedConvTranspose") == 2
    assert recognition.count("Attention") == 2
    assert recognition.count("LayerNorm") == 5
    assert "MatMul" not in recognition and "Pow" not in recognition
    assert "Clip" not in orientation  # hardswish


def test_subnormal_weights_are_flushed():
    graph = optimize_graph(read_onnx_graph(model_files.detection_model_path()))
    tiny = np.finfo(np.float32).tiny
    for value in graph.constants.values():
        if value.dtype == np.float32:
            assert not ((value != 0) & (np.abs(value) < tiny)).any()
