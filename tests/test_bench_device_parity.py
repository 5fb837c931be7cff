"""bench/device_parity.py: on a machine without CUDA it says so and succeeds (with a GPU it grades)."""

from bench import device_parity


def test_without_cuda_it_says_so_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(device_parity, "cuda_available", lambda: False)
    assert device_parity.main([]) == 0
    assert "no CUDA device" in capsys.readouterr().out
