"""bench/stage_profile.py's clock: exclusive stage times that add up, named by phase (the profile itself
needs ../shared and the real checkpoints and is not run here)."""

import importlib.util
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "stage_profile.py"
spec = importlib.util.spec_from_file_location("stage_profile", BENCH)
stage_profile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stage_profile)


def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_stage_times_are_exclusive_and_named_by_phase():
    clock = stage_profile.StageClock()
    inner = clock.wrap("inner", lambda: spin(0.02))

    def outer_body():
        spin(0.01)
        inner()

    outer = clock.wrap("outer", outer_body, phase="reading")
    started = time.thread_time()
    outer()
    inner()  # outside the phase
    total = time.thread_time() - started
    assert set(clock.seconds) == {"reading/outer", "reading/inner", "inner"}
    assert 0.01 <= clock.seconds["reading/outer"] < 0.018  # its own spin, not inner's
    assert clock.seconds["reading/inner"] >= 0.02 and clock.seconds["inner"] >= 0.02
    assert abs(sum(clock.seconds.values()) - total) < 0.005
    assert clock.phase == "" and clock.stack == []
    clock.reset()
    assert not clock.seconds


def test_a_stage_that_raises_is_still_timed_and_the_phase_restored():
    clock = stage_profile.StageClock()

    def fails():
        spin(0.005)
        raise ValueError("boom")

    wrapped = clock.wrap("fails", fails, phase="p")
    try:
        wrapped()
    except ValueError:
        pass
    assert clock.seconds["p/fails"] >= 0.005 and clock.phase == "" and clock.stack == []
    assert getattr(wrapped, "_stage_clock", False)
