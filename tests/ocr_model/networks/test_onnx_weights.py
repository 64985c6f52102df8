"""Reading ONNX files (weights as initializers or Constant nodes, Identity removal, metadata)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ocr_model.networks import model_files
from ocr_model.networks.onnx_weights import read_character_list, read_onnx_graph


def _save(tmp_path, nodes, initializers=(), metadata=None, name="model.onnx"):
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        initializer=list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_constants_come_from_initializers_and_constant_nodes(tmp_path):
    weight = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    bias = np.array([0.5, -0.5], dtype=np.float32)
    path = _save(
        tmp_path,
        [
            helper.make_node("Constant", [], ["b"], value=numpy_helper.from_array(bias)),
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Identity", ["xw"], ["xw_alias"]),
            helper.make_node("Add", ["xw_alias", "b"], ["sum"]),
            helper.make_node("Identity", ["sum"], ["y"]),
        ],
        initializers=[numpy_helper.from_array(weight, "w")],
    )
    graph = read_onnx_graph(path)
    np.testing.assert_array_equal(graph.constants["w"], weight)
    np.testing.assert_array_equal(graph.constants["b"], bias)
    assert [node.op_type for node in graph.nodes] == ["MatMul", "Add"]
    assert graph.nodes[1].inputs == ["xw", "b"]  # the Identity alias is resolved
    assert graph.input_name == "x"
    assert graph.output_name == "sum"  # the output Identity is resolved too
    assert graph.opset == 11


def test_character_list_is_split_on_newlines(tmp_path):
    path = _save(
        tmp_path,
        [helper.make_node("Identity", ["x"], ["y"])],
        metadata={"character": "a\nb\n中\n"},
    )
    assert read_character_list(path) == ["a", "b", "中"]


def test_character_list_missing_is_a_clear_error(tmp_path):
    path = _save(tmp_path, [helper.make_node("Identity", ["x"], ["y"])])
    with pytest.raises(ValueError, match="character"):
        read_character_list(path)


def test_the_shipped_models_read():
    detection = read_onnx_graph(model_files.detection_model_path())
    orientation = read_onnx_graph(model_files.orientation_model_path())
    assert detection.input_name == "x" and len(detection.constants) > 100
    # The orientation model keeps all its weights in Constant nodes (no initializers).
    assert "conv1_weights" in orientation.constants
    assert all(node.op_type not in ("Constant", "Identity") for node in detection.nodes + orientation.nodes)
