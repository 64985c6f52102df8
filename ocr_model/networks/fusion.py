"""Graph rewrites that keep an ONNX graph's results but make it cheaper to run with torch.

Each pass takes an :class:`OnnxGraph` and returns it rewritten in place. The fused node types
(``FusedConv``, ``Gelu``, ``LayerNorm``, ``Attention``, ...) are executed by
:mod:`ocr_model.networks.graph_module`.
"""

from __future__ import annotations

import numpy as np
import torch

from ocr_model.onnx_tensors import OnnxGraph, OnnxNode

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


def optimize_graph(graph: OnnxGraph) -> OnnxGraph:
    """All the rewrites, in order."""
    fold_constants(graph)
    remove_unused_constants(graph)
    return graph
