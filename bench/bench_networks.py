"""Latency of the torch networks against onnxruntime on the same ONNX files, same thread count.

    .venv/bin/python bench/bench_networks.py [--threads 2] [--repeats 7] [--quick] [--clock wall|cpu]

Both runtimes are timed in the same process, alternating call by call (so background load on a
shared machine hits both alike); the median of ``--repeats`` calls after one warm-up is printed
with the ratio torch / onnxruntime (below 1 means torch is faster). ``--clock cpu`` times the
process CPU time instead of the wall clock: on a busy shared machine with ``--threads 1`` it
measures the work itself, without the time spent waiting for a core.

Each row also gives the network's FLOPs for that input (multiply-adds x 2 of the convolutions,
matrix products and attention, counted by torch.utils.flop_counter on a meta-device copy) and
the GFLOP/s the torch run achieved. ``--precision bfloat16`` runs the torch networks in bf16
(the engine's default on CPUs with AVX512-BF16); onnxruntime always runs float32.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

# Must be set before torch (libgomp) loads. With the default (spinning) policy, torch's OpenMP
# threads waste their time slices when the machine is oversubscribed: measured 1299 ms vs 225 ms
# for rec 1x320 at 2 threads with load average ~9 on 2 cores. OMP_WAIT_POLICY=ACTIVE to compare.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from ocr_model.networks import model_files  # noqa: E402
from ocr_model.networks import (  # noqa: E402
    load_detector,
    load_orientation_classifier,
    load_recognizer,
    prepare_for_inference,
)

DETECTION_SHAPES = [(1, 3, 736, 736), (1, 3, 960, 960), (1, 3, 960, 1280)]
RECOGNITION_SHAPES = [(1, 3, 48, 320), (6, 3, 48, 320), (16, 3, 48, 320), (1, 3, 48, 800), (6, 3, 48, 800), (16, 3, 48, 800)]
ORIENTATION_SHAPES = [(1, 3, 48, 192), (6, 3, 48, 192)]
QUICK_SHAPES = {
    "det": [(1, 3, 736, 736)],
    "rec": [(1, 3, 48, 320), (6, 3, 48, 800)],
    "cls": [(6, 3, 48, 192)],
}


def _session(path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def count_flops(network: torch.nn.Module, shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass at `shape`, counted on a meta-device copy (no data, no time)."""
    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(network).to("meta")
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        meta(torch.zeros(shape, device="meta"))
    return counter.get_total_flops()


def _time_pair(torch_call, ort_call, repeats: int, clock) -> tuple[float, float]:
    torch_call()
    ort_call()
    torch_times, ort_times = [], []
    for _ in range(repeats):
        start = clock()
        torch_call()
        torch_times.append(clock() - start)
        start = clock()
        ort_call()
        ort_times.append(clock() - start)
    return statistics.median(torch_times), statistics.median(ort_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="one or two shapes per network")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--only", choices=["det", "rec", "cls"], nargs="*", default=["det", "rec", "cls"])
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32", help="dtype of the torch networks")
    args = parser.parse_args()
    dtype = getattr(torch, args.precision)
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    networks = {
        # As build_model runs them on a CPU: BatchNorms folded, channels-last (the torch side returns
        # logits, onnxruntime probabilities: the final sigmoid/softmax is a negligible share).
        "det": (prepare_for_inference(load_detector()), model_files.detection_model_path(), DETECTION_SHAPES),
        "rec": (prepare_for_inference(load_recognizer()), model_files.recognition_model_path(), RECOGNITION_SHAPES),
        "cls": (prepare_for_inference(load_orientation_classifier()), model_files.orientation_model_path(), ORIENTATION_SHAPES),
    }
    print(f"torch {torch.__version__} ({args.precision}), {args.threads} threads, {args.clock} clock, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; loaded the three torch networks in {time.perf_counter() - start:.2f}s")
    print(f"{'network':<8}{'input shape':<22}{'GFLOP':>8}{'torch ms':>10}{'GFLOP/s':>9}{'ort ms':>10}{'torch/ort':>11}")
    rng = np.random.default_rng(0)
    for name in args.only:
        network, path, shapes = networks[name]
        session = _session(path, args.threads)
        timed = network.to(dtype)
        for shape in QUICK_SHAPES[name] if args.quick else shapes:
            images = rng.uniform(-1, 1, shape).astype(np.float32)
            tensor = torch.from_numpy(images).to(dtype)
            flops = count_flops(network, shape)

            def run_torch():
                with torch.inference_mode():
                    return timed(tensor)

            def run_ort():
                return session.run(None, {"x": images})[0]

            clock = time.perf_counter if args.clock == "wall" else time.process_time
            torch_seconds, ort_seconds = _time_pair(run_torch, run_ort, args.repeats, clock)
            print(
                f"{name:<8}{str(shape):<22}{flops / 1e9:>8.2f}{torch_seconds * 1e3:>10.1f}{flops / 1e9 / torch_seconds:>9.1f}"
                f"{ort_seconds * 1e3:>10.1f}{torch_seconds / ort_seconds:>11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
