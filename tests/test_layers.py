"""utils.layers.StackedRNN against nn.RNN / nn.LSTM / nn.GRU: deep, bidirectional, packed; float64."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from utils.gradcheck import rel_error
from utils.layers import StackedRNN, torch_equivalent

N, T, D, H = 4, 6, 3, 5
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pair(mode, num_layers=2, bidirectional=True, device="cpu", seed=0):
    torch.manual_seed(seed)
    ours = StackedRNN(mode, D, H, num_layers, bidirectional).double().to(device)
    return ours, torch_equivalent(ours)


def grads(out, state, wrt):
    states = state if isinstance(state, tuple) else (state,)
    w = torch.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device).view_as(out)
    loss = (out * w).sum() + sum((s ** 2).sum() for s in states)
    return torch.autograd.grad(loss, wrt)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
def test_two_layer_bidirectional_matches_torch_outputs_and_every_gradient(mode, device):
    ours, ref = pair(mode, device=device)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    x = torch.randn(N, T, D, dtype=torch.float64, device=device, requires_grad=True)
    h0 = torch.randn(4, N, H, dtype=torch.float64, device=device, requires_grad=True)
    hx = (h0, torch.randn(4, N, H, dtype=torch.float64, device=device, requires_grad=True)) if mode == "lstm" else h0
    out, state = ours(x, hx)
    out_ref, state_ref = ref(x, hx)
    assert out.shape == (N, T, 2 * H)
    assert torch.allclose(out, out_ref, atol=1e-12)
    for a, b in zip(state if mode == "lstm" else (state,), state_ref if mode == "lstm" else (state_ref,)):
        assert torch.allclose(a, b, atol=1e-12)
    inputs = [x, *(hx if mode == "lstm" else (hx,))]
    g_ours = grads(out, state, inputs + list(ours.parameters()))
    g_ref = grads(out_ref, state_ref, inputs + list(ref.parameters()))
    names = ["x", "h0", "c0"][:len(inputs)] + [n for n, _ in ours.named_parameters()]
    for name, a, b in zip(names, g_ours, g_ref):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6, name


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_lengths_reproduce_pack_padded_sequence(mode):
    ours, ref = pair(mode, seed=1)
    lengths = torch.tensor([6, 2, 4, 1])
    x = torch.randn(N, T, D, dtype=torch.float64, requires_grad=True)
    out, state = ours(x, lengths=lengths)
    packed_out, state_ref = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    out_ref, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=T)
    assert torch.allclose(out, out_ref, atol=1e-12)
    h, h_ref = (state[0], state_ref[0]) if mode == "lstm" else (state, state_ref)
    assert torch.allclose(h, h_ref, atol=1e-12)
    # each sequence alone, unpadded, gives the same final states: padding changes nothing
    for n, L in enumerate(lengths.tolist()):
        _, alone = ref(x[n:n + 1, :L])
        alone_h = alone[0] if mode == "lstm" else alone
        assert torch.allclose(alone_h[:, 0], h[:, n], atol=1e-12)
    ga = torch.autograd.grad(out.sum() + h.sum(), [x, *ours.parameters()])
    gb = torch.autograd.grad(out_ref.sum() + h_ref.sum(), [x, *ref.parameters()])
    for a, b in zip(ga, gb):
        assert rel_error(a.numpy(), b.numpy()) < 1e-6


def test_without_packing_padding_changes_the_last_state():
    _, ref = pair("gru", bidirectional=False, seed=2)
    x = torch.randn(1, T, D, dtype=torch.float64)
    x[:, 3:] = 0.0                                              # a length-3 sequence padded with zeros
    _, padded = ref(x)
    _, alone = ref(x[:, :3])
    assert not torch.allclose(padded, alone)


def test_dropout_between_layers_only_in_training_and_residual_adds_the_input():
    torch.manual_seed(3)
    m = StackedRNN("lstm", D, H, num_layers=3, dropout=0.5).double()
    x = torch.randn(N, T, D, dtype=torch.float64)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    assert torch.equal(a, b)
    m.train()
    c, _ = m(x)
    assert not torch.allclose(a, c)
    m.eval()
    # residual: layer 2's output = its cell output + its input; check against a manual stack
    r = StackedRNN("gru", D, H, num_layers=2, residual=True).double()
    plain = StackedRNN("gru", D, H, num_layers=2).double()
    plain.load_state_dict(r.state_dict())
    out_r, _ = r(x)
    one = StackedRNN("gru", D, H, num_layers=1).double()
    one.load_state_dict({k: v for k, v in r.state_dict().items() if k.endswith("_l0")})
    first, _ = one(x)
    second = StackedRNN("gru", H, H, num_layers=1).double()
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in r.state_dict().items() if k.endswith("_l1")})
    assert torch.allclose(out_r, second(first)[0] + first)
    assert not torch.allclose(out_r, plain(x)[0])


def test_bad_input_is_explained():
    m = StackedRNN("lstm", D, H)
    with pytest.raises(ValueError, match="batch-first"):
        m(torch.zeros(T, D))
    with pytest.raises(ValueError, match="pair"):
        m(torch.zeros(1, T, D), torch.zeros(1, 1, H))
    with pytest.raises(ValueError, match="lengths"):
        m(torch.zeros(2, T, D), lengths=torch.tensor([T + 1, 1]))
    with pytest.raises(ValueError, match="mode"):
        StackedRNN("transformer", D, H)
    with pytest.raises(ValueError, match="no residual"):
        torch_equivalent(StackedRNN("gru", D, H, 2, residual=True))
