"""Run an :class:`~ocr_model.networks.onnx_weights.OnnxGraph` with torch operators, as an ``nn.Module``.

Every float constant the graph computes with becomes a frozen parameter, so ``.to(device)``,
``parameters()`` and ``state_dict()`` work as for any module. ``forward`` walks the (already fused,
see :mod:`ocr_model.networks.fusion`) node list once, calling one torch function per node.

Shape arithmetic never touches a device: ``Shape`` yields a host numpy int64 vector, integer
constants and the constants that ops only read as settings (Reshape targets, Slice bounds, Resize
scales, Clip limits) stay host numpy arrays, and Slice/Squeeze/Unsqueeze/Concat/Cast/Reshape of such
values are computed in numpy. So every tensor ``forward`` makes lives on the input's device, and no
op reads a device tensor back to the host (no GPU synchronisation inside a network).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .onnx_weights import OnnxGraph, OnnxNode

OpFunction = Callable[[OnnxNode, list], torch.Tensor]

# Inputs that ops read as settings, never as data: (op type) -> input positions. Constants
# used only there are kept as host numpy arrays (see the module docstring).
HOST_INPUTS: dict[str, frozenset[int]] = {
    "Reshape": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Resize": frozenset({1, 2, 3}),
    "Clip": frozenset({1, 2}),
}


def _is_host(value: object) -> bool:
    """A host (numpy) value: shape arithmetic and settings, never device data."""
    return isinstance(value, np.ndarray)


def _host_list(value: object) -> list:
    """The values of a settings input (numpy array or a CPU tensor at load-time folding)."""
    return np.asarray(value).reshape(-1).tolist() if _is_host(value) else value.reshape(-1).tolist()


def same_upper_padding(
    input_size: Sequence[int], kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> list[int]:
    """ONNX ``auto_pad=SAME_UPPER`` padding as an ``F.pad`` list (last dim first, extra pad at the end)."""
    pads: list[int] = []
    for size, k, s, d in reversed(list(zip(input_size, kernel, stride, dilation))):
        output = math.ceil(size / s)
        total = max(0, (output - 1) * s + (k - 1) * d + 1 - size)
        pads += [total // 2, total - total // 2]
    return pads


def onnx_pads_to_torch(pads: Sequence[int]) -> tuple[list[int] | None, list[int]]:
    """Split ONNX ``pads`` (begins then ends) into symmetric conv padding or an explicit F.pad list."""
    half = len(pads) // 2
    begins, ends = list(pads[:half]), list(pads[half:])
    if begins == ends:
        return None, begins
    explicit: list[int] = []
    for begin, end in reversed(list(zip(begins, ends))):
        explicit += [begin, end]
    return explicit, [0] * half


def _spatial_padding(node: OnnxNode, x: torch.Tensor, kernel: Sequence[int]) -> tuple[list[int] | None, list[int]]:
    """(explicit F.pad list or None, symmetric padding for the torch op) for a Conv/Pool node."""
    spatial = len(kernel)
    strides = node.attributes.get("strides", [1] * spatial)
    dilations = node.attributes.get("dilations", [1] * spatial)
    auto_pad = node.attributes.get("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = same_upper_padding(x.shape[2:], kernel, strides, dilations)
        if auto_pad == "SAME_LOWER":
            pads = [pads[i + 1] if i % 2 == 0 else pads[i - 1] for i in range(len(pads))]
        if all(p == 0 for p in pads):
            return None, [0] * spatial
        return pads, [0] * spatial
    if auto_pad == "VALID":
        return None, [0] * spatial
    return onnx_pads_to_torch(node.attributes.get("pads", [0] * (2 * spatial)))


def _conv(node: OnnxNode, args: list) -> torch.Tensor:
    x, weight = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    explicit, padding = _spatial_padding(node, x, weight.shape[2:])
    if explicit is not None:
        x = F.pad(x, explicit)
    spatial = weight.dim() - 2
    return F.conv2d(
        x,
        weight,
        bias,
        stride=node.attributes.get("strides", [1] * spatial),
        padding=padding,
        dilation=node.attributes.get("dilations", [1] * spatial),
        groups=node.attributes.get("group", 1),
    )


def _conv_transpose(node: OnnxNode, args: list) -> torch.Tensor:
    x, weight = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    attributes = node.attributes
    if "output_shape" in attributes or attributes.get("auto_pad", "NOTSET") != "NOTSET":
        raise NotImplementedError("ConvTranspose with output_shape or auto_pad")
    spatial = weight.dim() - 2
    pads = attributes.get("pads", [0] * (2 * spatial))
    if list(pads[:spatial]) != list(pads[spatial:]):
        raise NotImplementedError("ConvTranspose with asymmetric pads")
    return F.conv_transpose2d(
        x,
        weight,
        bias,
        stride=attributes.get("strides", [1] * spatial),
        padding=list(pads[:spatial]),
        output_padding=attributes.get("output_padding", [0] * spatial),
        groups=attributes.get("group", 1),
        dilation=attributes.get("dilations", [1] * spatial),
    )


def _fused_conv_transpose(node: OnnxNode, args: list) -> torch.Tensor:
    """ConvTranspose with bias and activation; kernel == stride (no overlap) as one GEMM + shuffle."""
    x, weight, bias = args[0], args[1], args[2]
    attributes = node.attributes
    kernel = list(weight.shape[2:])
    simple = (
        list(attributes.get("strides", [1, 1])) == kernel
        and not any(attributes.get("pads", [0, 0, 0, 0]))
        and not any(attributes.get("output_padding", [0, 0]))
        and attributes.get("group", 1) == 1
        and list(attributes.get("dilations", [1, 1])) == [1, 1]
    )
    if not simple:
        y = _conv_transpose(node, args)
    else:
        batch, in_channels, height, width = x.shape
        out_channels = weight.shape[1]
        kernel_h, kernel_w = kernel
        # (C_in, C_out, kh, kw) -> rows ordered (kh, kw, C_out): each input pixel's output block.
        matrix = weight.permute(2, 3, 1, 0).reshape(kernel_h * kernel_w * out_channels, in_channels)
        block_bias = bias.repeat(kernel_h * kernel_w)
        pixels = x.permute(0, 2, 3, 1)  # a view: contiguous when x is channels_last
        blocks = F.linear(pixels, matrix, block_bias)
        blocks = _INPLACE_ACTIVATIONS[attributes.get("activation", "none")](blocks)
        blocks = blocks.view(batch, height, width, kernel_h, kernel_w, out_channels)
        shuffled = blocks.permute(0, 1, 3, 2, 4, 5).reshape(batch, height * kernel_h, width * kernel_w, out_channels)
        return shuffled.permute(0, 3, 1, 2)
    return _INPLACE_ACTIVATIONS[attributes.get("activation", "none")](y)


def _max_pool(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    kernel = node.attributes["kernel_shape"]
    explicit, padding = _spatial_padding(node, x, kernel)
    if explicit == [0, 1, 0, 1] and list(kernel) == [2, 2] and list(node.attributes.get("strides", [1, 1])) == [1, 1]:
        return _max_pool_2x2_same(x)
    if explicit is not None:
        x = F.pad(x, explicit, value=float("-inf"))
    return F.max_pool2d(
        x,
        kernel,
        stride=node.attributes.get("strides", [1] * len(kernel)),
        padding=padding,
        dilation=node.attributes.get("dilations", [1] * len(kernel)),
        ceil_mode=bool(node.attributes.get("ceil_mode", 0)),
    )


def _max_pool_2x2_same(x: torch.Tensor) -> torch.Tensor:
    """2x2 stride-1 max pooling padded at the bottom/right (SAME_UPPER), as two shifted maxima.

    Exactly F.pad(-inf) + F.max_pool2d, measured 4-30x faster on CPU (no padded copy).
    """
    rows = torch.empty_like(x)
    torch.maximum(x[..., :-1, :], x[..., 1:, :], out=rows[..., :-1, :])
    rows[..., -1:, :] = x[..., -1:, :]
    out = torch.empty_like(x)
    torch.maximum(rows[..., :, :-1], rows[..., :, 1:], out=out[..., :, :-1])
    out[..., :, -1:] = rows[..., :, -1:]
    return out


def _average_pool(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    kernel = node.attributes["kernel_shape"]
    explicit, padding = _spatial_padding(node, x, kernel)
    if explicit is not None:
        raise NotImplementedError("AveragePool with asymmetric or automatic padding")
    return F.avg_pool2d(
        x,
        kernel,
        stride=node.attributes.get("strides", [1] * len(kernel)),
        padding=padding,
        ceil_mode=bool(node.attributes.get("ceil_mode", 0)),
        count_include_pad=bool(node.attributes.get("count_include_pad", 0)),
    )


def _resize(node: OnnxNode, args: list) -> torch.Tensor:
    attributes = node.attributes
    x = args[0]
    if attributes.get("mode", "nearest") != "nearest":
        raise NotImplementedError(f"Resize mode {attributes.get('mode')}")
    if attributes.get("coordinate_transformation_mode", "half_pixel") != "asymmetric" or attributes.get(
        "nearest_mode", "round_prefer_floor"
    ) != "floor":
        raise NotImplementedError("Resize is only supported as nearest/asymmetric/floor")
    scales = _host_list(args[2]) if len(args) > 2 and args[2] is not None else []
    sizes = _host_list(args[3]) if len(args) > 3 and args[3] is not None else []
    if sizes:
        return F.interpolate(x, size=[int(v) for v in sizes[2:]], mode="nearest")
    if not scales:
        raise ValueError("Resize needs scales or sizes")
    factors = [float(v) for v in scales]
    if factors[:2] != [1.0, 1.0]:
        raise NotImplementedError("Resize over batch or channel axes")
    return F.interpolate(x, scale_factor=factors[2:], mode="nearest")


def _softmax(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    axis = node.attributes.get("axis", 1)
    axis = axis % x.dim()
    if axis == x.dim() - 1:
        return torch.softmax(x, dim=-1)
    # Opset < 13: softmax over all the dimensions from ``axis`` on, flattened.
    flat = x.reshape(*x.shape[:axis], -1)
    return torch.softmax(flat, dim=-1).reshape(x.shape)


def _reshape(node: OnnxNode, args: list) -> torch.Tensor:
    x, shape = args[0], [int(v) for v in _host_list(args[1])]
    target = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return x.reshape(target)


def _slice(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    starts = [int(v) for v in _host_list(args[1])]
    ends = [int(v) for v in _host_list(args[2])]
    axes = [int(v) for v in _host_list(args[3])] if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    steps = [int(v) for v in _host_list(args[4])] if len(args) > 4 and args[4] is not None else [1] * len(starts)
    index: list = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step != 1:
            raise NotImplementedError("Slice with step != 1")
        size = x.shape[axis]
        start = max(0, min(size, start + size if start < 0 else start))
        end = max(0, min(size, end + size if end < 0 else end))
        index[axis] = slice(start, end)
    return x[tuple(index)]


def _squeeze(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    axes = node.attributes.get("axes")
    if _is_host(x):
        return np.squeeze(x, axis=None if axes is None else tuple(a % x.ndim for a in axes))
    if axes is None:
        return x.squeeze()
    for axis in sorted((a % x.dim() for a in axes), reverse=True):
        x = x.squeeze(axis)
    return x


def _unsqueeze(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    output_rank = x.ndim + len(node.attributes["axes"])
    for axis in sorted(a % output_rank for a in node.attributes["axes"]):
        x = np.expand_dims(x, axis) if _is_host(x) else x.unsqueeze(axis)
    return x


def _reduce_mean(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    axes = node.attributes.get("axes", list(range(x.dim())))
    return x.mean(dim=axes, keepdim=bool(node.attributes.get("keepdims", 1)))


def _clip(node: OnnxNode, args: list) -> torch.Tensor:
    low = args[1] if len(args) > 1 and args[1] is not None else None
    high = args[2] if len(args) > 2 and args[2] is not None else None
    return torch.clamp(
        args[0],
        None if low is None else float(_host_list(low)[0]),
        None if high is None else float(_host_list(high)[0]),
    )


_ONNX_TO_TORCH_DTYPE = {
    1: torch.float32,
    6: torch.int32,
    7: torch.int64,
    9: torch.bool,
    10: torch.float16,
    11: torch.float64,
}


_ONNX_TO_NUMPY_DTYPE = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def _concat(node: OnnxNode, args: list) -> torch.Tensor:
    if all(_is_host(a) for a in args):
        return np.concatenate(args, axis=node.attributes["axis"])
    return torch.cat(args, dim=node.attributes["axis"])


def _cast(node: OnnxNode, args: list) -> torch.Tensor:
    if _is_host(args[0]):
        return args[0].astype(_ONNX_TO_NUMPY_DTYPE[node.attributes["to"]])
    return args[0].to(_ONNX_TO_TORCH_DTYPE[node.attributes["to"]])


def _batch_norm(node: OnnxNode, args: list) -> torch.Tensor:
    x, scale, bias, mean, variance = args[:5]
    return F.batch_norm(x, mean, variance, scale, bias, training=False, eps=node.attributes.get("epsilon", 1e-5))


def _layer_norm(node: OnnxNode, args: list) -> torch.Tensor:
    x = args[0]
    weight = args[1] if len(args) > 1 else None
    bias = args[2] if len(args) > 2 else None
    return F.layer_norm(x, x.shape[-1:], weight, bias, eps=node.attributes["epsilon"])


def pointwise_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A 1x1 convolution as one matrix product, in the memory layout ``x`` already has.

    (torch sends small 1x1 convolutions to a slow im2col path; a GEMM avoids both that and the
    layout reorders of oneDNN.)
    """
    batch, channels, height, width = x.shape
    matrix = weight.reshape(weight.shape[0], channels)
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return F.linear(x.permute(0, 2, 3, 1), matrix, bias).permute(0, 3, 1, 2)
    flat = x.reshape(batch, channels, height * width)
    if bias is None:
        out = torch.matmul(matrix, flat)
    elif batch == 1:
        out = torch.addmm(bias.unsqueeze(1), matrix, flat[0]).unsqueeze(0)
    else:
        out = torch.baddbmm(bias.view(1, -1, 1), matrix.expand(batch, -1, -1), flat)
    return out.view(batch, -1, height, width)


# oneDNN post-op names of the activations it can apply inside the convolution kernel.
_ONEDNN_ACTIVATIONS = {
    "none": ("none", ""),
    "relu": ("relu", ""),
    "hardswish": ("hardswish", ""),
    "silu": ("swish", ""),
    "sigmoid": ("sigmoid", ""),
    "gelu": ("gelu", "none"),  # exact (erf) GELU
}
# 1x1 convolutions over at least this many pixels (N*H*W) go to oneDNN with the activation
# fused; smaller ones are cheaper as a plain GEMM (oneDNN's per-call cost dominates there).
POINTWISE_ONEDNN_MIN_PIXELS = 2048
USE_ONEDNN_FUSED_CONV = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


def _onednn_conv(node: OnnxNode, args: list, activation: str) -> torch.Tensor:
    """Conv + bias + activation in one oneDNN call (what torch.compile's CPU backend emits)."""
    x, weight, bias = args[0], args[1], args[2]
    explicit, padding = _spatial_padding(node, x, weight.shape[2:])
    if explicit is not None:
        x = F.pad(x, explicit)
    spatial = weight.dim() - 2
    return torch.ops.mkldnn._convolution_pointwise(
        x,
        weight,
        bias,
        padding,
        list(node.attributes.get("strides", [1] * spatial)),
        list(node.attributes.get("dilations", [1] * spatial)),
        node.attributes.get("group", 1),
        _ONEDNN_ACTIVATIONS[activation][0],
        [],
        _ONEDNN_ACTIVATIONS[activation][1],
    )


def _fused_conv(node: OnnxNode, args: list) -> torch.Tensor:
    """A Conv with bias and an optional activation (see fusion.fold_conv_bias_and_batch_norm)."""
    activation = node.attributes.get("activation", "none")
    x = args[0]
    # oneDNN's fused kernels take float32 and bfloat16 (2x faster where the CPU has AVX512-BF16).
    onednn = USE_ONEDNN_FUSED_CONV and activation in _ONEDNN_ACTIVATIONS and x.dtype in (torch.float32, torch.bfloat16) and x.device.type == "cpu"
    if node.attributes.get("pointwise") and not (onednn and x.shape[0] * x.shape[2] * x.shape[3] >= POINTWISE_ONEDNN_MIN_PIXELS):
        y = pointwise_conv(x, args[1], args[2] if len(args) > 2 else None)
        y = _INPLACE_ACTIVATIONS[activation](y)
    elif onednn:
        y = _onednn_conv(node, args, activation)
    else:
        y = _INPLACE_ACTIVATIONS[activation](_conv(node, args))
    if node.attributes.get("residual"):
        y += args[3]  # in place: no new (page-faulting) buffer for the sum
    return y


def _attention(node: OnnxNode, args: list) -> torch.Tensor:
    """Multi-head self-attention from a packed qkv tensor (B, T, 3 * C) to (B, T, C)."""
    qkv = args[0]
    heads = node.attributes["heads"]
    batch, tokens, packed = qkv.shape
    channels = packed // 3
    qkv = qkv.reshape(batch, tokens, 3, heads, channels // heads).permute(2, 0, 3, 1, 4)
    output = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], scale=node.attributes["scale"])
    return output.transpose(1, 2).reshape(batch, tokens, channels)


# Applied to a freshly computed convolution output, so they may overwrite it.
_INPLACE_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda x: x,
    "relu": torch.relu_,
    "gelu": F.gelu,
    "silu": lambda x: F.silu(x, inplace=True),
    "hardswish": lambda x: F.hardswish(x, inplace=True),
    "sigmoid": torch.sigmoid_,
}


OPS: dict[str, OpFunction] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": lambda node, a: a[0].mean(dim=(2, 3), keepdim=True),
    "BatchNormalization": _batch_norm,
    "Resize": _resize,
    "Add": lambda node, a: a[0] + a[1],
    "Sub": lambda node, a: a[0] - a[1],
    "Mul": lambda node, a: a[0] * a[1],
    "Div": lambda node, a: a[0] / a[1],
    "Pow": lambda node, a: torch.pow(a[0], a[1]),
    "Sqrt": lambda node, a: torch.sqrt(a[0]),
    "Erf": lambda node, a: torch.erf(a[0]),
    "Relu": lambda node, a: F.relu(a[0]),
    "Sigmoid": lambda node, a: torch.sigmoid(a[0]),
    "HardSigmoid": lambda node, a: torch.clamp(
        a[0] * node.attributes.get("alpha", 0.2) + node.attributes.get("beta", 0.5), 0.0, 1.0
    ),
    "Clip": _clip,
    "Softmax": _softmax,
    "MatMul": lambda node, a: torch.matmul(a[0], a[1]),
    "ReduceMean": _reduce_mean,
    "Concat": _concat,
    "Reshape": _reshape,
    "Transpose": lambda node, a: a[0].permute(node.attributes.get("perm", list(range(a[0].dim()))[::-1])),
    "Slice": _slice,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Shape": lambda node, a: np.array(a[0].shape, dtype=np.int64),  # host value, see the module docstring
    "Cast": _cast,
    # Fused operators produced by ocr_model.networks.fusion:
    "FusedConv": _fused_conv,
    "FusedConvTranspose": _fused_conv_transpose,
    "Gelu": lambda node, a: F.gelu(a[0]),
    "HardSwish": lambda node, a: F.hardswish(a[0]),
    "Silu": lambda node, a: F.silu(a[0]),
    "ScaledResidual": lambda node, a: torch.addcmul(a[0], a[0], a[1]),  # x + x * gate
    "LayerNorm": _layer_norm,
    "Attention": _attention,
    "Linear": lambda node, a: F.linear(a[0], a[1], a[2] if len(a) > 2 else None),
}


def run_node(node: OnnxNode, args: list) -> torch.Tensor:
    """Compute one node's (single) output from its input tensors."""
    try:
        function = OPS[node.op_type]
    except KeyError:
        raise NotImplementedError(f"ONNX operator {node.op_type!r} is not supported") from None
    return function(node, args)


def _buffer_name(index: int, value_name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in value_name)
    return f"c{index}_{cleaned}"[:80]


class OnnxGraphModule(nn.Module):
    """An ``nn.Module`` whose forward pass runs the nodes of an ONNX graph with torch functions."""

    def __init__(self, graph: OnnxGraph) -> None:
        super().__init__()
        for node in graph.nodes:
            if node.op_type not in OPS:
                raise NotImplementedError(f"ONNX operator {node.op_type!r} is not supported")
            if len(node.outputs) != 1:
                raise NotImplementedError(f"{node.op_type} with {len(node.outputs)} outputs")
        self.nodes = list(graph.nodes)
        self.input_name = graph.input_name
        self.output_name = graph.output_name
        used = {name for node in self.nodes for name in node.inputs}
        data_inputs = {
            name
            for node in self.nodes
            for position, name in enumerate(node.inputs)
            if position not in HOST_INPUTS.get(node.op_type, frozenset())
        }
        self._constant_buffers: dict[str, str] = {}
        # Integer constants and settings-only constants: host numpy values (never moved by .to()).
        self._host_constants: dict[str, np.ndarray] = {}
        for index, (name, array) in enumerate(graph.constants.items()):
            if name not in used:
                continue
            array = np.array(array, copy=True)
            if not np.issubdtype(array.dtype, np.floating) or name not in data_inputs:
                self._host_constants[name] = array
                continue
            buffer = _buffer_name(index, name)
            # Frozen parameters, so that the usual ``next(model.parameters()).device`` works.
            self.register_parameter(buffer, nn.Parameter(torch.from_numpy(array), requires_grad=False))
            self._constant_buffers[name] = buffer
        # Free every intermediate right after its last reader, to keep peak memory low.
        last_use: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            for name in node.inputs:
                last_use[name] = index
        self._release_after: list[list[str]] = [[] for _ in self.nodes]
        for name, index in last_use.items():
            if name and name not in self._constant_buffers and name not in self._host_constants and name != self.output_name:
                self._release_after[index].append(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor | np.ndarray | None] = {self.input_name: x, "": None, **self._host_constants}
        for name, buffer in self._constant_buffers.items():
            values[name] = getattr(self, buffer)
        for node, releases in zip(self.nodes, self._release_after):
            values[node.outputs[0]] = run_node(node, [values[name] for name in node.inputs])
            for name in releases:
                values.pop(name, None)
        return values[self.output_name]
