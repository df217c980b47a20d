#!/usr/bin/env python3
"""bench_egnn_torch.py: the PyTorch reference figure for bench_egnn.

A development cross-check, NOT used by the tests or CI.  It times the same
training step as experiments/bench_egnn.c in PyTorch (float64, CPU): the
N-body EGNN of Satorras, Hoogeboom and Welling (2021) as their reference code
writes it (models/gcl.py E_GCL_vel and models/egnn_vel, recurrent h updates,
mean coordinate aggregation, clamp +-100, SiLU, 4 layers of width 64: 134,020
parameters), on a batch of G graphs of 5 fully connected particles with edge
attributes [q_i q_j, |x_i - x_j|^2] and node input |v_i|; forward, MSE on the
positions, backward, Adam (lr 5e-4, weight decay 1e-12).

Note the reference model applies its first edge Linear to the (E, 2F + 3)
concatenation [h_i, h_j, d2, a]; bench_egnn projects h per node first (the
same function with about a quarter of the multiply-adds in that layer).

With --compare PATH (the bench_egnn binary) it then runs bench_egnn with the
same steps, batch, threads and seed, and prints the ratio of the two medians:
the issue's "at least 4x faster than PyTorch" measured in one run.

Usage: python3 experiments/bench_egnn_torch.py [--steps N] [--batch G]
       [--threads T] [--seed S] [--compare build/experiments/bench_egnn]
       (Debian: apt-get install python3-torch)
"""
import argparse
import re
import statistics
import subprocess
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover
    sys.exit("bench_egnn_torch: PyTorch is not installed (Debian: python3-torch)")


def unsorted_segment_sum(data, segment_ids, num_segments):
    result = data.new_full((num_segments, data.size(1)), 0)
    segment_ids = segment_ids.unsqueeze(-1).expand(-1, data.size(1))
    result.scatter_add_(0, segment_ids, data)
    return result


def unsorted_segment_mean(data, segment_ids, num_segments):
    segment_ids = segment_ids.unsqueeze(-1).expand(-1, data.size(1))
    result = data.new_full((num_segments, data.size(1)), 0)
    count = data.new_full((num_segments, data.size(1)), 0)
    result.scatter_add_(0, segment_ids, data)
    count.scatter_add_(0, segment_ids, torch.ones_like(data))
    return result / count.clamp(min=1)


class EGCLVel(nn.Module):
    """E_GCL_vel of the reference code (recurrent, coords_weight 1, clamp)."""

    def __init__(self, nf, edges_in_d, act):
        super().__init__()
        self.edge_mlp = nn.Sequential(nn.Linear(2 * nf + 1 + edges_in_d, nf), act,
                                      nn.Linear(nf, nf), act)
        self.node_mlp = nn.Sequential(nn.Linear(2 * nf, nf), act, nn.Linear(nf, nf))
        last = nn.Linear(nf, 1, bias=False)
        torch.nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.coord_mlp = nn.Sequential(nn.Linear(nf, nf), act, last)
        self.coord_mlp_vel = nn.Sequential(nn.Linear(nf, nf), act, nn.Linear(nf, 1))

    def forward(self, h, edge_index, coord, vel, edge_attr):
        row, col = edge_index
        coord_diff = coord[row] - coord[col]
        radial = torch.sum(coord_diff ** 2, 1).unsqueeze(1)
        edge_feat = self.edge_mlp(torch.cat([h[row], h[col], radial, edge_attr], dim=1))
        trans = torch.clamp(coord_diff * self.coord_mlp(edge_feat), min=-100, max=100)
        coord = coord + unsorted_segment_mean(trans, row, coord.size(0))
        coord = coord + self.coord_mlp_vel(h) * vel
        agg = unsorted_segment_sum(edge_feat, row, h.size(0))
        h = h + self.node_mlp(torch.cat([h, agg], dim=1))
        return h, coord


class EGNNVel(nn.Module):
    def __init__(self, in_node_nf=1, in_edge_nf=2, nf=64, n_layers=4):
        super().__init__()
        self.embedding = nn.Linear(in_node_nf, nf)
        self.layers = nn.ModuleList([EGCLVel(nf, in_edge_nf, nn.SiLU()) for _ in range(n_layers)])

    def forward(self, h, x, edges, vel, edge_attr):
        h = self.embedding(h)
        for layer in self.layers:
            h, x = layer(h, edges, x, vel, edge_attr)
        return x


def fully_connected_edges(G, P):
    """[rows, cols] of G graphs of P nodes, all directed pairs without self
    loops; row = the receiving node (the reference code's aggregation index)."""
    rows, cols = [], []
    for g in range(G):
        for i in range(P):
            for j in range(P):
                if i != j:
                    rows.append(g * P + i)
                    cols.append(g * P + j)
    return [torch.tensor(rows), torch.tensor(cols)]


def make_batch(G, P, gen):
    """Random N-body-like batch: x ~ N(0, 1), |v| = 0.5, charges +-1."""
    N = G * P
    x = torch.randn(N, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(N, 3, generator=gen, dtype=torch.float64)
    v = 0.5 * v / v.norm(dim=1, keepdim=True)
    q = torch.randint(0, 2, (N, 1), generator=gen).to(torch.float64) * 2 - 1
    edges = fully_connected_edges(G, P)
    d2 = torch.sum((x[edges[0]] - x[edges[1]]) ** 2, 1, keepdim=True)
    edge_attr = torch.cat([q[edges[0]] * q[edges[1]], d2], dim=1)
    h = v.norm(dim=1, keepdim=True)
    target = x + v   # one time unit later, ballistically: any target times the same
    return h, x, edges, v, edge_attr, target


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare", metavar="BENCH_EGNN",
                    help="then run this bench_egnn binary with the same settings and print "
                         "the ratio of the median step times")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    model = EGNNVel().double()
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, weight_decay=1e-12)
    h, x, edges, v, edge_attr, target = make_batch(a.batch, 5, gen)
    mse = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = mse(model(h, x, edges, v, edge_attr), target)
        loss.backward()
        opt.step()
        return loss.item()

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = step()
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    evals = []
    with torch.no_grad():
        for _ in range(min(a.steps, 20)):
            t0 = time.perf_counter()
            mse(model(h, x, edges, v, edge_attr), target).item()
            evals.append(time.perf_counter() - t0)
    print(f"bench_egnn_torch: PyTorch {torch.__version__}, {a.threads} thread(s), float64, "
          f"{n_params} parameters")
    print(f"batch: {a.batch} graphs x 5 nodes = {5 * a.batch} nodes, {20 * a.batch} edges")
    print(f"training step, {a.steps} steps: median {1e3 * statistics.median(times):.3f} ms, "
          f"mean {1e3 * statistics.mean(times):.3f} ms, min {1e3 * min(times):.3f} ms")
    print(f"evaluation forward: median {1e3 * statistics.median(evals):.3f} ms")
    print(f"final loss {loss:.6g}")
    if a.compare:
        compare(a, statistics.median(times))


def compare(a, torch_median_s):
    """Run bench_egnn with the same settings; print both medians and the ratio."""
    cmd = [a.compare, "--steps", str(a.steps), "--batch", str(a.batch),
           "--threads", str(a.threads), "--seed", str(a.seed)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        sys.exit(f"bench_egnn_torch: --compare: cannot run {a.compare}: {e.strerror}")
    m = re.search(r"^\s*median\s+([0-9.]+) ms", run.stdout, re.MULTILINE)
    if run.returncode != 0 or not m:
        sys.exit(f"bench_egnn_torch: {' '.join(cmd)} failed (exit {run.returncode}):\n"
                 f"{run.stderr.strip()}")
    ours = float(m.group(1))
    theirs = 1e3 * torch_median_s
    print(f"\ncompare: bench_egnn {ours:.3f} ms, PyTorch {theirs:.3f} ms per step "
          f"(medians, same run): eqgnn is {theirs / ours:.2f}x faster (issue target >= 4x "
          f"and <= 10 ms)")


if __name__ == "__main__":
    main()
