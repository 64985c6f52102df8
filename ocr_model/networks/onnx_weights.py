"""Read the graph, weight tensors and metadata of an ONNX file into plain Python/numpy objects.

Only the ``onnx`` package is used (no onnxruntime). Weights may be stored either as graph
initializers or as ``Constant`` nodes (the orientation classifier stores all of them that way);
both end up in :attr:`OnnxGraph.constants`. ``Identity`` nodes are removed by renaming their
consumers' inputs, so the node list only holds real computations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

CHARACTER_METADATA_KEY = "character"


@dataclass
class OnnxNode:
    """One computation of the graph: an ONNX operator (or a fused one added by our passes)."""

    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class OnnxGraph:
    """A single-input single-output ONNX graph in topological order."""

    nodes: list[OnnxNode]
    constants: dict[str, np.ndarray]  # weights and every other constant tensor, by value name
    input_name: str
    output_name: str
    opset: int
    metadata: dict[str, str]


def _attribute_value(attribute: onnx.AttributeProto) -> Any:
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, list):
        return [item.decode("utf-8") if isinstance(item, bytes) else item for item in value]
    return value


def _constant_node_value(node: onnx.NodeProto) -> np.ndarray:
    attributes = {attribute.name: attribute for attribute in node.attribute}
    if "value" in attributes:
        return numpy_helper.to_array(attributes["value"].t)
    if "value_float" in attributes:
        return np.array(attributes["value_float"].f, dtype=np.float32)
    if "value_floats" in attributes:
        return np.array(list(attributes["value_floats"].floats), dtype=np.float32)
    if "value_int" in attributes:
        return np.array(attributes["value_int"].i, dtype=np.int64)
    if "value_ints" in attributes:
        return np.array(list(attributes["value_ints"].ints), dtype=np.int64)
    raise ValueError(f"Unsupported Constant node attributes {sorted(attributes)} in node {node.name!r}")


def read_onnx_graph(path: str | Path) -> OnnxGraph:
    """Load an ONNX file as an :class:`OnnxGraph` (constants as numpy arrays, Identity removed)."""
    model = onnx.load(str(path))
    graph = model.graph
    constants: dict[str, np.ndarray] = {
        tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer
    }
    initializer_names = set(constants)
    graph_inputs = [value.name for value in graph.input if value.name not in initializer_names]
    if len(graph_inputs) != 1 or len(graph.output) != 1:
        raise ValueError(
            f"{path}: expected one input and one output, got inputs {graph_inputs} "
            f"and outputs {[value.name for value in graph.output]}"
        )

    aliases: dict[str, str] = {}

    def resolve(name: str) -> str:
        while name in aliases:
            name = aliases[name]
        return name

    nodes: list[OnnxNode] = []
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = _constant_node_value(node)
            continue
        if node.op_type == "Identity":
            aliases[node.output[0]] = resolve(node.input[0])
            continue
        nodes.append(
            OnnxNode(
                op_type=node.op_type,
                inputs=[resolve(name) for name in node.input],
                outputs=list(node.output),
                attributes={attribute.name: _attribute_value(attribute) for attribute in node.attribute},
            )
        )

    opset = next(
        (entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0
    )
    return OnnxGraph(
        nodes=nodes,
        constants=constants,
        input_name=graph_inputs[0],
        output_name=resolve(graph.output[0].name),
        opset=opset,
        metadata={entry.key: entry.value for entry in model.metadata_props},
    )


def read_character_list(path: str | Path) -> list[str]:
    """The recognition alphabet stored in the rec model's ``character`` metadata, one entry a line.

    The list is returned exactly as stored (no blank, no trailing space added): in the model's
    CTC output, index 0 is the blank, index ``i + 1`` is ``characters[i]`` and the last index
    (``len(characters) + 1``) is a space " ".
    """
    model = onnx.load(str(path), load_external_data=False)
    metadata = {entry.key: entry.value for entry in model.metadata_props}
    if CHARACTER_METADATA_KEY not in metadata:
        raise ValueError(f"{path} has no '{CHARACTER_METADATA_KEY}' metadata entry")
    return metadata[CHARACTER_METADATA_KEY].splitlines()
