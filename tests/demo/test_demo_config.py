import os

import pytest

from demo.config import AppConfig, MEMORY_PRESETS, apply_process_settings, launch_kwargs, load_config, queue_kwargs

from conftest import FakeEngine


def test_defaults_match_the_documented_normal_preset():
    config = load_config((), env={})
    assert (config.max_results_in_memory, config.max_display_size) == MEMORY_PRESETS["normal"] == (10, 2048)
    assert config.concurrency_limit == 1 and config.share is False and config.host == "127.0.0.1"


@pytest.mark.parametrize("preset, expected", [("low", (5, 1024)), ("normal", (10, 2048)), ("high", (20, 4096))])
def test_memory_presets_from_flag_and_env(preset, expected):
    from_flag = load_config(["--preset", preset], env={})
    from_env = load_config((), env={"OCR_MEMORY_PRESET": preset})
    assert (from_flag.max_results_in_memory, from_flag.max_display_size) == expected
    assert (from_env.max_results_in_memory, from_env.max_display_size) == expected


def test_env_overrides_defaults_and_flags_override_env():
    env = {
        "MAX_RESULTS_IN_MEMORY": "7",
        "MAX_DISPLAY_SIZE": "1500",
        "OCR_DEVICE": "cpu",
        "OCR_HOST": "0.0.0.0",
        "OCR_PORT": "9000",
        "OCR_SHARE": "true",
        "OCR_QUEUE_MAX_SIZE": "4",
        "OCR_MAX_FILE_SIZE": "5mb",
    }
    config = load_config((), env=env)
    assert config.max_results_in_memory == 7 and config.max_display_size == 1500
    assert (config.device, config.host, config.port, config.share) == ("cpu", "0.0.0.0", 9000, True)
    assert config.queue_max_size == 4 and config.max_file_size == "5mb"
    flagged = load_config(["--max-results", "3", "--port", "9100", "--max-file-size", "2mb", "--preset", "high"], env=env)
    assert flagged.max_results_in_memory == 3  # explicit flag beats preset and env
    assert flagged.max_display_size == 1500  # env beats preset
    assert flagged.port == 9100 and flagged.max_file_size == "2mb"


def test_gradio_env_vars_are_fallbacks_for_host_and_port():
    config = load_config((), env={"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"})
    assert (config.host, config.port) == ("0.0.0.0", 7861)
    assert load_config((), env={"GRADIO_SERVER_PORT": "7861", "OCR_PORT": "7862"}).port == 7862


def test_share_flag_and_launch_kwargs():
    config = load_config(["--share", "--host", "127.0.0.1", "--port", "7999"], env={})
    kwargs = launch_kwargs(config)
    assert kwargs["share"] is True
    assert (kwargs["server_name"], kwargs["server_port"]) == ("127.0.0.1", 7999)
    assert kwargs["max_file_size"] == config.max_file_size
    assert kwargs["show_error"] is False
    assert kwargs["state_session_capacity"] == config.max_sessions == 200
    assert "auth" not in kwargs
    assert launch_kwargs(load_config(["--auth", "ana:secret"], env={}))["auth"] == ("ana", "secret")


def test_queue_kwargs_bound_the_queue():
    assert queue_kwargs(AppConfig(queue_max_size=8, concurrency_limit=2)) == {
        "max_size": 8,
        "default_concurrency_limit": 2,
    }


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MAX_RESULTS_IN_MEMORY": "0"}, "max_results_in_memory"),
        ({"MAX_DISPLAY_SIZE": "10"}, "max_display_size"),
        ({"OCR_SHARE": "maybe"}, "OCR_SHARE"),
        ({"OCR_PORT": "eighty"}, "OCR_PORT"),
        ({"OCR_MEMORY_PRESET": "huge"}, "preset"),
        ({"OCR_AUTH": "nopassword"}, "user:password"),
        ({"OCR_MAX_TOTAL_HISTORY_MB": "0"}, "max_total_history_mb"),
        ({"OCR_MAX_TOTAL_HISTORY_MB": "lots"}, "OCR_MAX_TOTAL_HISTORY_MB"),
    ],
)
def test_bad_settings_fail_fast_with_a_clear_message(env, message):
    with pytest.raises(ValueError, match=message):
        load_config((), env=env)


def test_temp_dir_is_dedicated_by_default_and_cache_cleaning_is_configurable():
    config = load_config((), env={})
    assert config.temp_dir is not None and os.path.basename(config.temp_dir) == "ocr-demo"
    assert load_config((), env={"OCR_TEMP_DIR": "/srv/ocr-tmp"}).temp_dir == "/srv/ocr-tmp"
    assert load_config(["--delete-cache", "60,300"], env={}).delete_cache == (60, 300)
    assert load_config((), env={"OCR_DELETE_CACHE": "30, 90"}).delete_cache == (30, 90)
    with pytest.raises(ValueError):
        load_config((), env={"OCR_DELETE_CACHE": "30"})
    with pytest.raises(ValueError):
        AppConfig(delete_cache=(0, 60))


def test_mcp_is_opt_in_by_flag_or_environment_and_run_history_is_always_off():
    assert launch_kwargs(load_config(()))["mcp_server"] is False
    assert launch_kwargs(load_config(["--mcp"]))["mcp_server"] is True
    assert launch_kwargs(load_config((), env={"OCR_MCP": "1"}))["mcp_server"] is True
    assert launch_kwargs(load_config(()))["run_history"] is False


def test_checkpoint_and_its_folder_come_from_env_and_flags(tmp_path):
    from ocr_model.checkpoints import DEFAULT_CHECKPOINT

    assert load_config((), env={}).checkpoint == DEFAULT_CHECKPOINT  # the app's default is the engine's
    assert load_config((), env={}).checkpoint_dir is None
    env = {"OCR_CHECKPOINT": "ppocrv6-tiny", "OCR_CHECKPOINT_DIR": str(tmp_path)}
    from_env = load_config((), env=env)
    assert (from_env.checkpoint, from_env.checkpoint_dir) == ("ppocrv6-tiny", str(tmp_path))
    flagged = load_config(["--checkpoint", "mine", "--checkpoint-dir", "/srv/ckpt"], env=env)
    assert (flagged.checkpoint, flagged.checkpoint_dir) == ("mine", "/srv/ckpt")
    with pytest.raises(ValueError, match="checkpoint must be"):
        AppConfig(checkpoint=" ")


def test_an_explicit_device_is_where_the_engine_places_its_models(monkeypatch, tmp_path):
    from demo import engine
    from demo.ui import app
    from ocr_model.pipeline import predictor

    monkeypatch.setenv("OCR_DEVICE", "set so that monkeypatch restores the variable afterwards")
    monkeypatch.delenv("OCR_DEVICE")
    apply_process_settings(AppConfig(device="cpu", temp_dir=None))
    assert "OCR_DEVICE" not in os.environ  # the device is an argument, never written to the environment

    loaded: list[tuple[str, str | None]] = []

    def fake_get_model(checkpoint=None, device=None, threads=None):
        loaded.append((str(checkpoint), device))
        return FakeEngine()

    monkeypatch.setattr(predictor, "get_model", fake_get_model)
    monkeypatch.setattr("ocr_model.get_model", fake_get_model)
    models = engine.load_models("ppocrv6-tiny", None, "cpu")
    models.engine("ppocrv6-small")
    assert loaded == [("ppocrv6-tiny", "cpu"), ("ppocrv6-small", "cpu")]  # every checkpoint, on the given device

    built: list[tuple[str, str | None, str]] = []
    monkeypatch.setattr(app, "load_models", lambda checkpoint, folder, device: built.append((checkpoint, folder, device)) or models)
    app.build_demo(config=AppConfig(device="cuda:1", checkpoint="ppocrv6-tiny", temp_dir=None))
    assert built == [("ppocrv6-tiny", None, "cuda:1")] and "OCR_DEVICE" not in os.environ


def test_auto_means_cuda_when_available_whatever_the_environment_says(monkeypatch):
    import torch

    from ocr_model.runtime import select_device

    monkeypatch.setenv("OCR_DEVICE", "cpu")
    assert select_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("OCR_DEVICE", "auto")  # OCR_DEVICE=auto, as the README lists it, is not a torch device
    assert select_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_total_history_budget_comes_from_env_and_flag():
    assert load_config((), env={}).max_total_history_mb == 10.0
    assert load_config((), env={}).total_history_bytes == 10 * 2**20 == 2 * load_config((), env={}).max_history_bytes
    from_env = load_config((), env={"OCR_MAX_TOTAL_HISTORY_MB": "64"})
    assert from_env.max_total_history_mb == 64.0 and from_env.total_history_bytes == 64 * 2**20
    flagged = load_config(["--max-total-history-mb", "48"], env={"OCR_MAX_TOTAL_HISTORY_MB": "64"})
    assert flagged.max_total_history_mb == 48.0  # the flag beats the environment
    with pytest.raises(ValueError, match="max_total_history_mb"):
        AppConfig(max_total_history_mb=-1)


def test_the_total_budget_is_never_below_one_sessions_own_worth():
    """A history plus a batch set (2 x max_history_mb): raising OCR_MAX_HISTORY_MB alone still starts, with the
    total raised to fit one session."""
    config = load_config((), env={"OCR_MAX_HISTORY_MB": "20"})
    assert config.max_total_history_mb == 10.0 and config.total_history_bytes == 40 * 2**20
    assert AppConfig(max_history_mb=5, max_total_history_mb=1).total_history_bytes == 10 * 2**20
    assert AppConfig(max_history_mb=0.1, max_total_history_mb=0.1).total_history_bytes == 2 * int(0.1 * 2**20)
    assert AppConfig(max_history_mb=16, max_total_history_mb=32).total_history_bytes == 32 * 2**20  # exactly one


def test_every_environment_variable_and_flag_is_in_the_readme_settings_table():
    from pathlib import Path

    from demo.config import ENV_VARS, build_arg_parser

    rows = [line for line in (Path(__file__).resolve().parents[2] / "README.md").read_text().splitlines() if line.startswith("| ")]
    for field_name, variable in ENV_VARS.items():
        assert any(f"`{variable}`" in row for row in rows), f"{variable} ({field_name}) has no row in the README"
    flags = [option for action in build_arg_parser()._actions for option in action.option_strings if option.startswith("--")]
    for flag in flags:
        if flag != "--help":
            assert any(f"`{flag}`" in row for row in rows), f"{flag} has no row in the README"
    (row,) = [row for row in rows if "`OCR_MAX_TOTAL_HISTORY_MB`" in row]
    assert "`--max-total-history-mb`" in row and "`10`" in row
