"""Benchmark: from-scratch LSTM layers against ``nn.LSTM``, forward and forward+backward, in one run.

    python -m bench.rnn_speed                       # N 64, T 100, D = H 256, CPU; writes bench/rnn_speed.md
    python -m bench.rnn_speed --rounds 5 --no-write

Variants (all one layer, batch-first, float32, the same weights):

* ``as taught``: ``utils.lstm.lstm_layer``, the cell in a Python loop over time;
* ``fused input projection``: ``utils.fused.lstm_layer_fused``, x W_ih^T for all steps in one matmul;
* ``fused, TorchScript``: the same function compiled by ``torch.jit.script`` (skipped where it fails);
* ``hand-written backward``: ``utils.fused.lstm_layer_handwritten``, one autograd node per layer;
* ``nn.LSTM``: torch's own (one C++ call).

Rounds are interleaved (each round times every variant once, in turn) so that load from other
programs on a shared machine hits all variants alike; the table gives medians over rounds and
each variant's speed as a ratio to ``nn.LSTM`` measured in the same run. Goal (issue 9): the
fastest from-scratch variant >= 0.5x ``nn.LSTM`` forward and >= 0.8x forward+backward.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from utils.fused import lstm_layer_fused, lstm_layer_handwritten
from utils.lstm import lstm_layer

ROOT = Path(__file__).resolve().parents[1]


def scripted_fused():
    """``lstm_layer_fused`` compiled by TorchScript, or None with the reason printed."""
    try:
        def fused(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, weight_ih: torch.Tensor,
                  weight_hh: torch.Tensor, bias_ih: torch.Tensor, bias_hh: torch.Tensor):
            N, T = x.shape[0], x.shape[1]
            H = weight_hh.shape[1]
            xw = torch.addmm(bias_ih + bias_hh, x.reshape(N * T, -1), weight_ih.t()).view(N, T, 4 * H)
            w_hh_t = weight_hh.t()
            outputs = []
            for t in range(T):
                gates = torch.addmm(xw[:, t], h, w_hh_t)
                i, f, g, o = gates.chunk(4, 1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outputs.append(h)
            return torch.stack(outputs, 1), h, c

        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.jit.script(fused)
    except Exception as exc:  # TorchScript is deprecated; report, do not fail the benchmark
        print(f"TorchScript variant skipped: {type(exc).__name__}: {str(exc)[:200]}")
        return None


def make_variants(ref: torch.nn.LSTM):
    params = list(ref.parameters())
    variants = {
        "as taught (utils.lstm.lstm_layer)": lambda x: lstm_layer(x, None, *params)[0],
        "fused input projection (utils.fused)": lambda x: lstm_layer_fused(x, None, *params)[0],
    }
    script = scripted_fused()
    if script is not None:
        def run_script(x):
            z = x.new_zeros(x.shape[0], ref.hidden_size)
            return script(x, z, z, *params)[0]
        variants["fused, TorchScript"] = run_script
    variants["hand-written backward (utils.fused)"] = lambda x: lstm_layer_handwritten(x, None, *params)[0]
    variants["nn.LSTM"] = lambda x: ref(x)[0]
    return variants


def time_once(fn, x, backward: bool) -> float:
    start = time.perf_counter()
    if backward:
        out = fn(x)
        out.sum().backward()
    else:
        with torch.no_grad():
            fn(x)
    return time.perf_counter() - start


def check_equal(variants, x) -> float:
    """Largest difference between each variant's output and nn.LSTM's (float32)."""
    with torch.no_grad():
        want = variants["nn.LSTM"](x)
        return max(float((fn(x) - want).abs().max()) for fn in variants.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=64, help="batch size")
    parser.add_argument("--T", type=int, default=100, help="sequence length")
    parser.add_argument("--H", type=int, default=256, help="hidden size (= input size D)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "rnn_speed.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = torch.nn.LSTM(args.H, args.H, batch_first=True)
    x = torch.randn(args.N, args.T, args.H)
    xg = x.clone().requires_grad_(True)
    variants = make_variants(ref)
    err = check_equal(variants, x)
    results = {name: {"fwd": [], "fwdbwd": []} for name in variants}
    for fn in variants.values():                        # warm-up (allocations, TorchScript profiling runs)
        for _ in range(2):
            time_once(fn, x, False)
            time_once(fn, xg, True)
    for _ in range(args.rounds):
        for name, fn in variants.items():
            results[name]["fwd"].append(time_once(fn, x, False))
            ref.zero_grad(set_to_none=True)
            results[name]["fwdbwd"].append(time_once(fn, xg, True))
    tokens = args.N * args.T
    med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
    base = med["nn.LSTM"]
    rows = ["| variant | forward ms | forward tokens/s | x nn.LSTM | fwd+bwd ms | fwd+bwd tokens/s | x nn.LSTM |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name, m in med.items():
        rows.append(f"| {name} | {1e3 * m['fwd']:.1f} | {tokens / m['fwd']:,.0f} | {base['fwd'] / m['fwd']:.2f} | "
                    f"{1e3 * m['fwdbwd']:.1f} | {tokens / m['fwdbwd']:,.0f} | {base['fwdbwd'] / m['fwdbwd']:.2f} |")
    scratch = {n: m for n, m in med.items() if n != "nn.LSTM"}
    best_f = max(scratch, key=lambda n: base["fwd"] / scratch[n]["fwd"])
    best_b = max(scratch, key=lambda n: base["fwdbwd"] / scratch[n]["fwdbwd"])
    ratio_f, ratio_b = base["fwd"] / scratch[best_f]["fwd"], base["fwdbwd"] / scratch[best_b]["fwdbwd"]
    load = os.getloadavg()
    verdict = [
        f"Fastest from-scratch forward: **{best_f}**, {ratio_f:.2f}x nn.LSTM (goal >= 0.5x: "
        f"{'met' if ratio_f >= 0.5 else 'NOT met'}).",
        f"Fastest from-scratch forward+backward: **{best_b}**, {ratio_b:.2f}x nn.LSTM (goal >= 0.8x: "
        f"{'met' if ratio_b >= 0.8 else 'NOT met'}).",
    ]
    report = "\n".join([
        "# LSTM speed: from scratch against nn.LSTM",
        "",
        f"`python -m bench.rnn_speed`: N {args.N}, T {args.T}, D = H {args.H}, float32, CPU, {args.threads} torch "
        f"threads, median of {args.rounds} interleaved rounds. torch {torch.__version__}, {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) when it finished. "
        f"Every variant's output equals nn.LSTM's to {err:.1e}. Absolute times on a shared machine are noisy; "
        f"the ratios, measured side by side, are the result.",
        "",
        *rows,
        "",
        *verdict,
        "",
    ])
    print(report)
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
