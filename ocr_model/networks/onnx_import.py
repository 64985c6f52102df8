"""Copy the weights of an exported PaddleOCR ONNX file into our modules, positionally.

The initializers carry Paddle's automatic names (`conv2d_112.w_0`, `linear_0.w_0`), not module
paths, so the mapping is by order: the graph's weight-bearing operations (Conv, ConvTranspose,
BatchNormalization, MatMul by a constant, LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add)
are walked in graph order and matched one to one with the module's Conv2d / ConvTranspose2d /
BatchNorm2d / Linear / LayerNorm layers in `weight_layers()` order. Every shape is asserted, and so are
the kinds, the presence of biases and the norms' eps (a LayerNorm eps 1e-6 where the file has 1e-5
changes the outputs by 8e-5).

This module is the only code that reads ONNX (through `onnx_weights`, the `onnx` package only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .layers import layer_kind
from .onnx_weights import OnnxGraph, OnnxNode, read_onnx_graph


class WeightMismatch(ValueError):
    """The ONNX file's weights do not fit the module (count, kind or shape)."""


@dataclass
class WeightRecord:
    """The tensors of one weight-bearing operation of the graph, in the module's layout."""

    kind: str  # "conv", "conv_transpose", "batch_norm", "linear", "layer_norm"
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # weight, bias, running_mean, running_var
    eps: float | None = None
    where: str = ""  # the graph's name of the weight, for messages


def _fold_constants(graph: OnnxGraph) -> dict[str, np.ndarray]:
    """Constants plus the results of shape-only ops applied to constants (biases stored as
    Reshape(constant, shape) in the older exports)."""
    constants = dict(graph.constants)
    for node in graph.nodes:
        if node.op_type == "Reshape" and all(name in constants for name in node.inputs[:2]):
            constants[node.outputs[0]] = constants[node.inputs[0]].reshape(constants[node.inputs[1]])
    return constants


def read_weight_records(graph: OnnxGraph) -> list[WeightRecord]:
    """The graph's weight-bearing operations in graph order (see the module docstring)."""
    constants = _fold_constants(graph)
    consumers: dict[str, list[OnnxNode]] = {}
    producer: dict[str, OnnxNode] = {}
    for node in graph.nodes:
        for name in node.inputs:
            consumers.setdefault(name, []).append(node)
        for name in node.outputs:
            producer[name] = node

    def only_consumer(name: str, op_type: str) -> OnnxNode | None:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    def constant_operand(node: OnnxNode | None, value: str) -> np.ndarray | None:
        if node is None:
            return None
        others = [name for name in node.inputs if name != value]
        return constants[others[0]] if len(others) == 1 and others[0] in constants else None

    def following_bias(output: str, size: int) -> np.ndarray | None:
        bias = constant_operand(only_consumer(output, "Add"), output)
        if bias is None or bias.size != size:
            return None
        return bias.reshape(size)

    records: list[WeightRecord] = []
    for node in graph.nodes:
        op = node.op_type
        if op in ("Conv", "ConvTranspose") and node.inputs[1] in constants:
            weight = constants[node.inputs[1]]
            out_channels = weight.shape[0] if op == "Conv" else weight.shape[1] * node.attributes.get("group", 1)
            bias = constants.get(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
            if bias is None:
                bias = following_bias(node.outputs[0], out_channels)
            tensors = {"weight": weight}
            if bias is not None:
                tensors["bias"] = bias.reshape(-1)
            kind = "conv" if op == "Conv" else "conv_transpose"
            records.append(WeightRecord(kind, tensors, where=node.inputs[1]))
        elif op == "BatchNormalization":
            names = ("weight", "bias", "running_mean", "running_var")
            tensors = {key: constants[name] for key, name in zip(names, node.inputs[1:5])}
            records.append(WeightRecord("batch_norm", tensors, float(node.attributes.get("epsilon", 1e-5)), node.inputs[1]))
        elif op == "MatMul" and node.inputs[1] in constants and constants[node.inputs[1]].ndim == 2:
            weight = constants[node.inputs[1]]  # Paddle's Linear stores [in, out]
            tensors = {"weight": weight.T.copy()}
            bias = following_bias(node.outputs[0], weight.shape[1])
            if bias is not None:
                tensors["bias"] = bias
            records.append(WeightRecord("linear", tensors, where=node.inputs[1]))
        elif op == "LayerNormalization":
            tensors = {"weight": constants[node.inputs[1]], "bias": constants[node.inputs[2]]}
            records.append(WeightRecord("layer_norm", tensors, float(node.attributes.get("epsilon", 1e-5)), node.inputs[1]))
        elif op == "Sqrt":
            record = _decomposed_layer_norm(node, constants, producer, only_consumer, constant_operand)
            if record is not None:
                records.append(record)
    return records


def _decomposed_layer_norm(sqrt, constants, producer, only_consumer, constant_operand) -> WeightRecord | None:
    """LayerNorm exported as (x - mean) / sqrt(var + eps) * gamma + beta: read eps, gamma, beta."""
    add_eps = producer.get(sqrt.inputs[0])
    if add_eps is None or add_eps.op_type != "Add":
        return None
    variance = next((name for name in add_eps.inputs if name not in constants), None)
    eps = constant_operand(add_eps, variance)
    divide = only_consumer(sqrt.outputs[0], "Div")
    scale = only_consumer(divide.outputs[0], "Mul") if divide is not None else None
    gamma = constant_operand(scale, divide.outputs[0]) if scale is not None else None
    shift = only_consumer(scale.outputs[0], "Add") if scale is not None else None
    beta = constant_operand(shift, scale.outputs[0]) if shift is not None else None
    if eps is None or gamma is None or beta is None:
        return None
    tensors = {"weight": gamma.reshape(-1), "bias": beta.reshape(-1)}
    return WeightRecord("layer_norm", tensors, float(eps.reshape(-1)[0]), divide.outputs[0])


def weight_layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, layer) of the weight-bearing layers in the order the export lists them: the
    module's own `weight_layers()` when it has one, else registration order."""
    if hasattr(module, "weight_layers"):
        return list(module.weight_layers())
    return [(name, layer) for name, layer in module.named_modules() if layer_kind(layer) is not None]


def _eps_matches(expected: float, actual: float) -> bool:
    return abs(expected - actual) <= 1e-3 * expected


@torch.no_grad()
def copy_records(module: nn.Module, records: list[WeightRecord], source: str = "the ONNX file") -> None:
    """Copy `records` into `module`'s weight layers one to one; WeightMismatch on any disagreement."""
    layers = weight_layers(module)
    if len(layers) != len(records):
        raise WeightMismatch(f"{source} has {len(records)} weight layers, the module {len(layers)}")
    for (name, layer), record in zip(layers, records):
        kind = layer_kind(layer)
        if kind != record.kind:
            raise WeightMismatch(f"{name}: the module has a {kind}, {source} a {record.kind} ({record.where})")
        if record.eps is not None and not _eps_matches(record.eps, layer.eps):
            raise WeightMismatch(f"{name}: eps {layer.eps} in the module, {record.eps} in {source}")
        expected = {key: value for key, value in (*layer.named_parameters(recurse=False), *layer.named_buffers(recurse=False)) if value is not None and key != "num_batches_tracked"}
        if set(expected) != set(record.tensors):
            raise WeightMismatch(
                f"{name}: the module has {sorted(expected)}, {source} {sorted(record.tensors)} ({record.where})"
            )
        for key, target in expected.items():
            value = record.tensors[key]
            if tuple(value.shape) != tuple(target.shape):
                raise WeightMismatch(
                    f"{name}.{key}: shape {tuple(target.shape)} in the module, {tuple(value.shape)} in {source} ({record.where})"
                )
            target.copy_(torch.from_numpy(np.array(value, copy=True)).to(target.dtype))


def load_onnx_weights(module: nn.Module, path: str | Path) -> OnnxGraph:
    """Fill `module` from the ONNX file at `path`; returns the graph (for its metadata)."""
    graph = read_onnx_graph(path)
    copy_records(module, read_weight_records(graph), source=Path(path).name)
    return graph
