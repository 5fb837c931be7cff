"""utils.fused: the fast from-scratch LSTM layers equal nn.LSTM (outputs and every gradient, float64)."""

import pytest
import torch

from utils.fused import LSTMFunction, lstm_layer_fused, lstm_layer_handwritten
from utils.gradcheck import rel_error

N, T, D, H = 3, 7, 4, 5
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layer", [lstm_layer_fused, lstm_layer_handwritten])
def test_matches_nn_lstm_outputs_and_gradients(layer, device):
    torch.manual_seed(0)
    ref = torch.nn.LSTM(D, H, batch_first=True).double().to(device)
    x = torch.randn(N, T, D, dtype=torch.float64, device=device, requires_grad=True)
    h0 = torch.randn(1, N, H, dtype=torch.float64, device=device, requires_grad=True)
    c0 = torch.randn(1, N, H, dtype=torch.float64, device=device, requires_grad=True)
    out, (hn, cn) = ref(x, (h0, c0))
    ours, (h_n, c_n) = layer(x, (h0[0], c0[0]), *ref.parameters())
    assert torch.allclose(ours, out, atol=1e-12) and torch.allclose(h_n, hn[0]) and torch.allclose(c_n, cn[0])
    w = torch.randn_like(out)
    loss_ref = (out * w).sum() + (hn ** 2).sum() + (cn * 3).sum()   # gradient into output, h_n and c_n
    loss = (ours * w).sum() + (h_n ** 2).sum() + (c_n * 3).sum()
    wrt = [x, h0, c0, *ref.parameters()]
    for name, a, b in zip(["x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"],
                          torch.autograd.grad(loss, wrt), torch.autograd.grad(loss_ref, wrt)):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6, name


def test_handwritten_backward_passes_torch_gradcheck():
    torch.manual_seed(1)
    args = [torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True),
            torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
            torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
            torch.randn(12, 2, dtype=torch.float64, requires_grad=True),
            torch.randn(12, 3, dtype=torch.float64, requires_grad=True),
            torch.randn(12, dtype=torch.float64, requires_grad=True),
            torch.randn(12, dtype=torch.float64, requires_grad=True)]
    assert torch.autograd.gradcheck(LSTMFunction.apply, args)


def test_no_grad_forward_is_the_same():
    torch.manual_seed(2)
    ref = torch.nn.LSTM(D, H, batch_first=True)
    x = torch.randn(N, T, D)
    with torch.no_grad():
        out, _ = ref(x)
        ours, _ = lstm_layer_handwritten(x, None, *ref.parameters())
    assert torch.allclose(out, ours, atol=1e-5)
