import pytest
import torch

from utils.device import ENV_VAR, describe_device, get_device


def test_auto_picks_cuda_only_when_available(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type == expected


def test_env_var_forces_cpu(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "CPU")
    assert get_device() == torch.device("cpu")


def test_argument_beats_env_var(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cuda")
    assert get_device("cpu") == torch.device("cpu")


def test_unknown_device_names_the_problem(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "tpu")
    with pytest.raises(ValueError, match=r"\$RECURRENT_DEVICE is 'tpu'.*cpu"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_request_without_gpu_says_what_to_do(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(RuntimeError, match="RECURRENT_DEVICE=cpu"):
        get_device()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_request_with_gpu(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cuda")
    assert get_device().type == "cuda"


def test_describe_device_prints_device_and_reason(monkeypatch, capsys):
    monkeypatch.setenv(ENV_VAR, "cpu")
    line = describe_device()
    assert line.startswith("Using cpu") and "RECURRENT_DEVICE=cpu" in line
    assert capsys.readouterr().out.strip() == line
