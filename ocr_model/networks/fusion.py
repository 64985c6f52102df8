"""Graph rewrites that keep an ONNX graph's results but make it cheaper to run with torch.

Each pass takes an :class:`OnnxGraph` and returns it rewritten in place. The fused node types
(``FusedConv``, ``Gelu``, ``LayerNorm``, ``Attention``, ...) are executed by
:mod:`ocr_model.networks.graph_module`.
"""

from __future__ import annotations

import numpy as np
import torch

from .onnx_weights import OnnxGraph, OnnxNode

from .graph_module import run_node


def fold_constants(graph: OnnxGraph) -> OnnxGraph:
    """Evaluate once, at load time, every node whose inputs are all constants."""
    kept: list[OnnxNode] = []
    for node in graph.nodes:
        if node.op_type != "Shape" and all(name == "" or name in graph.constants for name in node.inputs):
            args = [None if name == "" else torch.from_numpy(np.array(graph.constants[name])) for name in node.inputs]
            graph.constants[node.outputs[0]] = run_node(node, args).numpy()
            continue
        kept.append(node)
    graph.nodes = kept
    return graph


def remove_unused_constants(graph: OnnxGraph) -> OnnxGraph:
    """Drop constants no node reads any more (for example weights folded into others)."""
    used = {name for node in graph.nodes for name in node.inputs}
    graph.constants = {name: value for name, value in graph.constants.items() if name in used}
    return graph



class _GraphIndex:
    """Who produces and who reads each value, rebuilt by each pass before it matches patterns."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.producer: dict[str, OnnxNode] = {node.outputs[0]: node for node in graph.nodes}
        self.readers: dict[str, list[OnnxNode]] = {}
        for node in graph.nodes:
            for name in node.inputs:
                self.readers.setdefault(name, []).append(node)

    def only_reader(self, name: str) -> OnnxNode | None:
        """The node that reads ``name`` if exactly one does (and it is not the graph output)."""
        readers = self.readers.get(name, [])
        if len(readers) != 1 or name == self.graph.output_name:
            return None
        return readers[0]

    def constant(self, name: str) -> np.ndarray | None:
        return self.graph.constants.get(name)

    def scalar(self, name: str) -> float | None:
        value = self.constant(name)
        if value is None or value.size != 1:
            return None
        return float(value.reshape(()))


def _replace(graph: OnnxGraph, replaced: OnnxNode, new_node: OnnxNode) -> None:
    """Put ``new_node`` where ``replaced`` was (they share the output name)."""
    position = next(i for i, node in enumerate(graph.nodes) if node is replaced)
    graph.nodes[position] = new_node


def remove_dead_nodes(graph: OnnxGraph) -> OnnxGraph:
    """Drop the nodes whose output nobody reads (what the fusions left behind)."""
    while True:
        read = {name for node in graph.nodes for name in node.inputs} | {graph.output_name}
        kept = [node for node in graph.nodes if node.outputs[0] in read]
        if len(kept) == len(graph.nodes):
            return graph
        graph.nodes = kept


def _new_constant(graph: OnnxGraph, base: str, value: np.ndarray) -> str:
    name = base
    while name in graph.constants:
        name += "'"
    graph.constants[name] = value.astype(np.float32)
    return name


def fold_conv_bias_and_batch_norm(graph: OnnxGraph) -> OnnxGraph:
    """Conv [+ BatchNormalization] [+ Add of a per-channel constant] -> one FusedConv with a bias.

    Also handles ConvTranspose followed by a per-channel Add (its weight is (C_in, C_out, kH, kW)).
    """
    index = _GraphIndex(graph)
    for node in list(graph.nodes):
        if node.op_type not in ("Conv", "ConvTranspose") or node.inputs[1] not in graph.constants:
            continue
        transpose = node.op_type == "ConvTranspose"
        weight = graph.constants[node.inputs[1]].astype(np.float64)
        groups = node.attributes.get("group", 1)
        if transpose and groups != 1:
            continue
        out_channels = weight.shape[1] if transpose else weight.shape[0]
        bias = (
            graph.constants[node.inputs[2]].astype(np.float64)
            if len(node.inputs) > 2 and node.inputs[2]
            else np.zeros(out_channels)
        )
        last = node
        follower = index.only_reader(node.outputs[0])
        if not transpose and follower is not None and follower.op_type == "BatchNormalization":
            parameters = [index.constant(name) for name in follower.inputs[1:5]]
            if all(p is not None for p in parameters):
                gamma, beta, mean, variance = (p.astype(np.float64) for p in parameters)
                factor = gamma / np.sqrt(variance + follower.attributes.get("epsilon", 1e-5))
                weight = weight * factor.reshape(-1, 1, 1, 1)
                bias = (bias - mean) * factor + beta
                last = follower
                follower = index.only_reader(follower.outputs[0])
        if follower is not None and follower.op_type == "Add":
            other = [name for name in follower.inputs if name != last.outputs[0]]
            value = index.constant(other[0]) if len(other) == 1 else None
            if value is not None and value.size == out_channels and value.shape[-2:] in ((1, 1), (out_channels,)):
                bias = bias + value.reshape(-1).astype(np.float64)
                last = follower
        if transpose and last is node:
            continue
        attributes = dict(node.attributes)
        if transpose:
            fused = OnnxNode("FusedConvTranspose", [node.inputs[0], node.inputs[1]], list(last.outputs), attributes)
        else:
            fused = OnnxNode("FusedConv", [node.inputs[0]], list(last.outputs), attributes)
            fused.attributes["pointwise"] = (
                weight.shape[2:] == (1, 1)
                and groups == 1
                and list(attributes.get("strides", [1, 1])) == [1, 1]
                and not any(attributes.get("pads", [0, 0, 0, 0]))
                and attributes.get("auto_pad", "NOTSET") in ("NOTSET", "VALID")
            )
            fused.inputs.append(_new_constant(graph, node.inputs[1] + ".folded", weight))
        fused.inputs.append(_new_constant(graph, node.inputs[1] + ".bias", bias))
        _replace(graph, last, fused)
    return remove_dead_nodes(graph)


def fuse_conv_activations(graph: OnnxGraph) -> OnnxGraph:
    """FusedConv / FusedConvTranspose followed by Relu / HardSwish / Silu / Gelu / Sigmoid -> the activation inside it."""
    activation_of = {"Relu": "relu", "HardSwish": "hardswish", "Silu": "silu", "Gelu": "gelu", "Sigmoid": "sigmoid"}
    index = _GraphIndex(graph)
    for node in list(graph.nodes):
        if node.op_type not in ("FusedConv", "FusedConvTranspose") or node.attributes.get("activation", "none") != "none":
            continue
        follower = index.only_reader(node.outputs[0])
        if follower is None or follower.op_type not in activation_of:
            continue
        fused = OnnxNode(node.op_type, list(node.inputs), list(follower.outputs), dict(node.attributes))
        fused.attributes["activation"] = activation_of[follower.op_type]
        _replace(graph, follower, fused)
    return remove_dead_nodes(graph)


def _other_input(node: OnnxNode, known: str) -> str | None:
    others = [name for name in node.inputs if name != known]
    return others[0] if len(others) == 1 else None


def fuse_residual_adds(graph: OnnxGraph) -> OnnxGraph:
    """FusedConv -> Add(other tensor) becomes a FusedConv that adds ``other`` in place;
    Add(x, Mul(x, gate)) becomes ScaledResidual (one torch.addcmul pass)."""
    index = _GraphIndex(graph)
    for node in list(graph.nodes):
        if node.op_type == "Mul" and len(node.inputs) == 2:
            add = index.only_reader(node.outputs[0])
            if add is None or add.op_type != "Add":
                continue
            base = _other_input(add, node.outputs[0])
            if base is None or base not in node.inputs or base in graph.constants:
                continue
            gate = _other_input(node, base)
            if gate is None or gate in graph.constants:
                continue
            _replace(graph, add, OnnxNode("ScaledResidual", [base, gate], list(add.outputs)))
            continue
        if node.op_type != "FusedConv" or node.attributes.get("residual") or len(node.inputs) != 3:
            continue
        add = index.only_reader(node.outputs[0])
        if add is None or add.op_type != "Add":
            continue
        other = _other_input(add, node.outputs[0])
        if other is None or other in graph.constants:
            continue
        fused = OnnxNode("FusedConv", node.inputs + [other], list(add.outputs), dict(node.attributes))
        fused.attributes["residual"] = True
        _replace(graph, add, fused)
    return remove_dead_nodes(graph)


def fuse_gelu(graph: OnnxGraph) -> OnnxGraph:
    """x * 0.5 * (1 + erf(x / sqrt(2))) written as Div/Erf/Add/Mul/Mul -> one Gelu."""
    index = _GraphIndex(graph)
    for divide in list(graph.nodes):
        if divide.op_type != "Div" or not np.isclose(index.scalar(divide.inputs[1]) or 0.0, np.sqrt(2.0), rtol=1e-6):
            continue
        x = divide.inputs[0]
        erf = index.only_reader(divide.outputs[0])
        if erf is None or erf.op_type != "Erf":
            continue
        add = index.only_reader(erf.outputs[0])
        if add is None or add.op_type != "Add" or index.scalar(_other_input(add, erf.outputs[0]) or "") != 1.0:
            continue
        multiply = index.only_reader(add.outputs[0])
        if multiply is None or multiply.op_type != "Mul" or _other_input(multiply, add.outputs[0]) != x:
            continue
        half = index.only_reader(multiply.outputs[0])
        if half is None or half.op_type != "Mul" or index.scalar(_other_input(half, multiply.outputs[0]) or "") != 0.5:
            continue
        _replace(graph, half, OnnxNode("Gelu", [x], list(half.outputs)))
    return remove_dead_nodes(graph)


def fuse_hardswish_and_silu(graph: OnnxGraph) -> OnnxGraph:
    """x * clip(x + 3, 0, 6) / 6 -> HardSwish; x * sigmoid(x) -> Silu."""
    index = _GraphIndex(graph)
    for node in list(graph.nodes):
        if node.op_type == "Sigmoid":
            multiply = index.only_reader(node.outputs[0])
            if multiply is not None and multiply.op_type == "Mul" and _other_input(multiply, node.outputs[0]) == node.inputs[0]:
                _replace(graph, multiply, OnnxNode("Silu", [node.inputs[0]], list(multiply.outputs)))
            continue
        if node.op_type != "Add":
            continue
        x = next((name for name in node.inputs if index.scalar(name) is None), None)
        if x is None or index.scalar(_other_input(node, x) or "") != 3.0:
            continue
        clip = index.only_reader(node.outputs[0])
        if clip is None or clip.op_type != "Clip" or len(clip.inputs) != 3:
            continue
        if index.scalar(clip.inputs[1]) != 0.0 or index.scalar(clip.inputs[2]) != 6.0:
            continue
        multiply = index.only_reader(clip.outputs[0])
        if multiply is None or multiply.op_type != "Mul" or _other_input(multiply, clip.outputs[0]) != x:
            continue
        divide = index.only_reader(multiply.outputs[0])
        if divide is None or divide.op_type != "Div" or divide.inputs[0] != multiply.outputs[0]:
            continue
        if index.scalar(divide.inputs[1]) != 6.0:
            continue
        _replace(graph, divide, OnnxNode("HardSwish", [x], list(divide.outputs)))
    return remove_dead_nodes(graph)


def fuse_layer_norm(graph: OnnxGraph) -> OnnxGraph:
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis -> one LayerNorm."""
    index = _GraphIndex(graph)
    for mean in list(graph.nodes):
        if mean.op_type != "ReduceMean" or mean.attributes.get("axes") != [-1] or not mean.attributes.get("keepdims", 1):
            continue
        x = mean.inputs[0]
        subtract = index.only_reader(mean.outputs[0])
        if subtract is None or subtract.op_type != "Sub" or subtract.inputs != [x, mean.outputs[0]]:
            continue
        centred = subtract.outputs[0]
        readers = index.readers.get(centred, [])
        power = next((n for n in readers if n.op_type == "Pow"), None)
        divide = next((n for n in readers if n.op_type == "Div"), None)
        if len(readers) != 2 or power is None or divide is None or index.scalar(power.inputs[1]) != 2.0:
            continue
        variance = index.only_reader(power.outputs[0])
        if variance is None or variance.op_type != "ReduceMean" or variance.attributes.get("axes") != [-1]:
            continue
        add_eps = index.only_reader(variance.outputs[0])
        epsilon = index.scalar(_other_input(add_eps, variance.outputs[0]) or "") if add_eps is not None else None
        if add_eps is None or add_eps.op_type != "Add" or epsilon is None:
            continue
        root = index.only_reader(add_eps.outputs[0])
        if root is None or root.op_type != "Sqrt" or divide.inputs != [centred, root.outputs[0]]:
            continue
        inputs, last = [x], divide
        scale = index.only_reader(divide.outputs[0])
        if scale is not None and scale.op_type == "Mul":
            gamma = _other_input(scale, divide.outputs[0])
            if gamma is not None and index.constant(gamma) is not None and index.constant(gamma).ndim == 1:
                inputs.append(gamma)
                last = scale
                shift = index.only_reader(scale.outputs[0])
                beta = _other_input(shift, scale.outputs[0]) if shift is not None and shift.op_type == "Add" else None
                if beta is not None and index.constant(beta) is not None and index.constant(beta).ndim == 1:
                    inputs.append(beta)
                    last = shift
        _replace(graph, last, OnnxNode("LayerNorm", inputs, list(last.outputs), {"epsilon": epsilon}))
    return remove_dead_nodes(graph)


def fuse_linear(graph: OnnxGraph) -> OnnxGraph:
    """MatMul by a constant (K, N) matrix [+ Add of a constant (N,) bias] -> Linear (weight stored (N, K))."""
    index = _GraphIndex(graph)
    for node in list(graph.nodes):
        if node.op_type != "MatMul":
            continue
        weight = index.constant(node.inputs[1])
        if weight is None or weight.ndim != 2:
            continue
        inputs = [node.inputs[0], _new_constant(graph, node.inputs[1] + ".t", np.ascontiguousarray(weight.T))]
        last = node
        add = index.only_reader(node.outputs[0])
        if add is not None and add.op_type == "Add":
            bias_name = _other_input(add, node.outputs[0])
            bias = index.constant(bias_name) if bias_name else None
            if bias is not None and bias.shape == (weight.shape[1],):
                inputs.append(bias_name)
                last = add
        _replace(graph, last, OnnxNode("Linear", inputs, list(last.outputs)))
    return remove_dead_nodes(graph)


def fuse_attention(graph: OnnxGraph) -> OnnxGraph:
    """The exported multi-head self-attention block -> one Attention node (scaled_dot_product_attention).

    Pattern (packed qkv of shape (B, T, 3C)): Reshape to (B, T, 3, heads, C / heads) -> Transpose
    (2, 0, 3, 1, 4) -> Slice + Squeeze for q, k, v -> q * scale [+ 0] -> q @ k^T -> Softmax -> @ v ->
    Transpose (0, 2, 1, 3) -> Reshape to (B, T, C).
    """
    index = _GraphIndex(graph)
    for reshape in list(graph.nodes):
        if reshape.op_type != "Reshape":
            continue
        target = index.constant(reshape.inputs[1])
        if target is None or target.shape != (5,) or int(target[2]) != 3:
            continue
        heads = int(target[3])
        split = index.only_reader(reshape.outputs[0])
        if split is None or split.op_type != "Transpose" or split.attributes.get("perm") != [2, 0, 3, 1, 4]:
            continue
        parts: dict[int, str] = {}
        for slice_node in index.readers.get(split.outputs[0], []):
            starts = index.constant(slice_node.inputs[1]) if slice_node.op_type == "Slice" else None
            squeeze = index.only_reader(slice_node.outputs[0])
            if starts is None or squeeze is None or squeeze.op_type != "Squeeze" or squeeze.attributes.get("axes") != [0]:
                break
            parts[int(starts.reshape(-1)[0])] = squeeze.outputs[0]
        if sorted(parts) != [0, 1, 2]:
            continue
        scale_node = index.only_reader(parts[0])
        if scale_node is None or scale_node.op_type != "Mul":
            continue
        scale = index.scalar(_other_input(scale_node, parts[0]) or "")
        scaled_query = index.only_reader(scale_node.outputs[0])
        query_out = scale_node.outputs[0]
        if scaled_query is not None and scaled_query.op_type == "Add" and index.scalar(_other_input(scaled_query, query_out) or "") == 0.0:
            query_out = scaled_query.outputs[0]
        key_transpose = index.only_reader(parts[1])
        if scale is None or key_transpose is None or key_transpose.attributes.get("perm") != [0, 1, 3, 2]:
            continue
        scores = index.only_reader(query_out)
        if scores is None or scores.op_type != "MatMul" or scores.inputs != [query_out, key_transpose.outputs[0]]:
            continue
        softmax = index.only_reader(scores.outputs[0])
        if softmax is None or softmax.op_type != "Softmax" or softmax.attributes.get("axis") not in (3, -1):
            continue
        mixed = index.only_reader(softmax.outputs[0])
        if mixed is None or mixed.op_type != "MatMul" or mixed.inputs != [softmax.outputs[0], parts[2]]:
            continue
        merge = index.only_reader(mixed.outputs[0])
        if merge is None or merge.op_type != "Transpose" or merge.attributes.get("perm") != [0, 2, 1, 3]:
            continue
        flatten = index.only_reader(merge.outputs[0])
        if flatten is None or flatten.op_type != "Reshape":
            continue
        _replace(
            graph,
            flatten,
            OnnxNode("Attention", [reshape.inputs[0]], list(flatten.outputs), {"heads": heads, "scale": scale}),
        )
    return remove_dead_nodes(graph)


def flush_denormal_constants(graph: OnnxGraph) -> OnnxGraph:
    """Replace subnormal float weights (|w| < 1.2e-38) by 0.

    The detector's last backbone stage has ~256k of them; x86 CPUs handle subnormal operands
    in microcode, which made one 1x1 convolution ~50x slower than its FLOPs. The change to any
    output is below 1e-37, far under float32 resolution of the results.
    """
    for name, value in graph.constants.items():
        if value.dtype in (np.float32, np.float64):
            tiny = np.finfo(value.dtype).tiny
            subnormal = (value != 0) & (np.abs(value) < tiny)
            if subnormal.any():
                graph.constants[name] = np.where(subnormal, np.zeros_like(value), value)
    return graph


def optimize_graph(graph: OnnxGraph) -> OnnxGraph:
    """All the rewrites, in order."""
    fold_constants(graph)
    fold_conv_bias_and_batch_norm(graph)
    fuse_gelu(graph)
    fuse_hardswish_and_silu(graph)
    fuse_conv_activations(graph)
    fuse_residual_adds(graph)
    fuse_layer_norm(graph)
    fuse_linear(graph)
    fuse_attention(graph)
    remove_unused_constants(graph)
    flush_denormal_constants(graph)
    return graph
