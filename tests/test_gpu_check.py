"""bench/gpu_check.py runs end to end on the CPU (the GPU figures need a GPU machine)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "gpu_check.py"
spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)


def test_generated_receipts_are_varied_and_carry_their_lines():
    receipts = gpu_check.generated_receipts(3)
    assert len({image.shape for _, image, _ in receipts}) == 3
    assert all(image.dtype.name == "uint8" and len(lines) >= 6 for _, image, lines in receipts)


@pytest.mark.slow  # the real model over generated receipts
def test_gpu_check_runs_on_the_cpu_with_generated_receipts(capsys):
    result = gpu_check.main(["--device", "cpu", "--limit", "2", "--generated", "--repeats", "1"])
    printed = capsys.readouterr().out
    for line in ("first pass after load", "steady state", "throughput", "word F1"):
        assert line in printed
    assert result["images"] == 2 and result["steady_ms"] > 0 and result["first_ms"] > 0
    # the real engine reads clean synthetic receipts almost perfectly, batch or loop
    assert result["word_f1"] > 0.9 and result["batch_word_f1"] > 0.9
    assert result["f1_difference"] == 0.0  # on the CPU the reference is the same engine
