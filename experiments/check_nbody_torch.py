#!/usr/bin/env python3
"""check_nbody_torch.py: train the reference PyTorch EGNN on eqgnn's N-body files.

A development cross-check, NOT used by the tests or CI.  It answers one
question: is a difference between eqgnn's `nbody --model egnn` and the EGNN
paper's 0.0071 in eqgnn's model/optimiser, or in the data and the protocol?
It trains the EGNN of experiments/bench_egnn_torch.py (the reference code's
E_GCL_vel network, 134,020 parameters) exactly as the reference main_nbody.py
does (float32 by default, Adam lr 5e-4, weight decay 1e-12, batch 100 with
shuffling and drop-last, loss = MSE over all position coordinates, input
frame 30 -> target frame 40, edge attributes [q_i q_j, |x_i - x_j|^2]) on the
files nbody_gen writes, and prints train / valid / test MSE every --eval-every
epochs and the test MSE at the best validation epoch.

With --eval-checkpoint FILE it trains nothing: it loads the parameters of an
eqgnn `nbody --model egnn` checkpoint into the reference network (float64)
and prints its validation and test MSE, to compare with the values eqgnn
recorded at that epoch: equal to round-off means the two forward passes are
the same function of the same parameters.

Usage: /usr/bin/python3 experiments/check_nbody_torch.py --datadir DIR
       [--epochs N] [--n-train 3000] [--seed S] [--float64] [--threads T]
       [--csv FILE] [--errors-csv FILE] [--eval-checkpoint FILE]
       (Debian: apt-get install python3-torch python3-h5py)
"""
import argparse
import os
import sys
import time

try:
    import h5py
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    sys.exit(f"check_nbody_torch: {e} (Debian: python3-torch python3-h5py)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_egnn_torch import EGNNVel, fully_connected_edges  # noqa: E402

P = 5  # particles per system


def load(path, n, frame0, frame_t, dtype):
    """(x0, v0, q, x_target) of the first n trajectories: (n, P, 3) and (n, P)."""
    with h5py.File(path, "r") as f:
        loc, vel, q = f["loc"], f["vel"], f["charges"]
        if n > loc.shape[0]:
            sys.exit(f"check_nbody_torch: {path} holds {loc.shape[0]} trajectories, {n} asked")
        t = lambda a: torch.tensor(np.asarray(a), dtype=dtype)
        return t(loc[:n, frame0]), t(vel[:n, frame0]), t(q[:n]), t(loc[:n, frame_t])


def edges_of(G):
    return fully_connected_edges(G, P)


def predict(model, x0, v0, q, edges):
    G = x0.shape[0]
    x, v, q = x0.reshape(G * P, 3), v0.reshape(G * P, 3), q.reshape(G * P, 1)
    row, col = edges
    d2 = torch.sum((x[row] - x[col]) ** 2, 1, keepdim=True)
    edge_attr = torch.cat([q[row] * q[col], d2], dim=1)
    h = v.norm(dim=1, keepdim=True)
    return model(h, x, edges, v, edge_attr).reshape(G, P, 3)


def evaluate(model, data, batch, per_traj=None):
    """MSE over all coordinates, in batches (the last one may be short); if
    per_traj is a list, the MSE of every trajectory is appended to it."""
    x0, v0, q, xt = data
    total, n = 0.0, x0.shape[0]
    with torch.no_grad():
        for s in range(0, n, batch):
            e = min(n, s + batch)
            pred = predict(model, x0[s:e], v0[s:e], q[s:e], edges_of(e - s))
            total += torch.sum((pred - xt[s:e]) ** 2).item()
            if per_traj is not None:
                per_traj += torch.mean((pred - xt[s:e]) ** 2, dim=(1, 2)).tolist()
    return total / (n * P * 3)


def load_eqgnn_params(model, path):
    """Copy /params/<name> of an eqgnn egnn_nbody checkpoint into the reference
    network.  eqgnn stores a Linear's weight as (in, out), torch as (out, in);
    the first edge Linear's input order is the same in both: [h_i, h_j, d2,
    q_i q_j, |x_i(0) - x_j(0)|^2] with i the receiving node."""
    parts = {"phi_e.0": ("edge_mlp", 0), "phi_e.1": ("edge_mlp", 2),
             "phi_h.0": ("node_mlp", 0), "phi_h.1": ("node_mlp", 2),
             "phi_x.0": ("coord_mlp", 0), "phi_x.1": ("coord_mlp", 2),
             "phi_v.0": ("coord_mlp_vel", 0), "phi_v.1": ("coord_mlp_vel", 2)}
    with h5py.File(path, "r") as f, torch.no_grad():
        g = f["params"]
        epoch = int(f.attrs["epoch"]) if "epoch" in f.attrs else -1
        model.embedding.weight.copy_(torch.tensor(g["embed.weight"][()]).T)
        model.embedding.bias.copy_(torch.tensor(g["embed.bias"][()]).reshape(-1))
        for k, layer in enumerate(model.layers):
            for name, (seq, idx) in parts.items():
                lin = getattr(layer, seq)[idx]
                lin.weight.copy_(torch.tensor(g[f"layer{k}.{name}.weight"][()]).T)
                if lin.bias is not None:
                    lin.bias.copy_(torch.tensor(g[f"layer{k}.{name}.bias"][()]).reshape(-1))
    return epoch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datadir", required=True)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--n-train", type=int, default=3000)
    ap.add_argument("--n-valid", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--eval-every", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--float64", action="store_true")
    ap.add_argument("--csv", help="write epoch,train,valid,test rows here")
    ap.add_argument("--errors-csv", metavar="FILE",
                    help="write traj,mse: the test MSE of every trajectory at the best "
                         "validation epoch (as analysis/nbody_errors --out for eqgnn)")
    ap.add_argument("--eval-checkpoint", metavar="FILE",
                    help="evaluate an eqgnn egnn checkpoint instead of training")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = torch.float64 if a.float64 or a.eval_checkpoint else torch.float32
    sets = {}
    for name, n in (("train", a.n_train), ("valid", a.n_valid), ("test", a.n_test)):
        sets[name] = load(os.path.join(a.datadir, f"nbody_{name}.h5"), n, 30, 40, dtype)
    model = EGNNVel().to(dtype)
    if a.eval_checkpoint:
        epoch = load_eqgnn_params(model, a.eval_checkpoint)
        va, te = evaluate(model, sets["valid"], a.batch), evaluate(model, sets["test"], a.batch)
        print(f"{a.eval_checkpoint} (epoch {epoch}), evaluated by the reference network: "
              f"valid MSE {va:.17g}, test MSE {te:.17g}")
        return
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=1e-12)
    train = sets["train"]
    edges = edges_of(a.batch)
    n_batches = a.n_train // a.batch   # drop last
    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("epoch,train_mse,valid_mse,test_mse\n")
    best = (float("inf"), 0, 0.0)
    best_traj = []
    t0 = time.time()
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(a.n_train)
        run = 0.0
        for b in range(n_batches):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            opt.zero_grad()
            pred = predict(model, *(t[idx] for t in train[:3]), edges)
            loss = torch.mean((pred - train[3][idx]) ** 2)
            loss.backward()
            opt.step()
            run += loss.item()
        if epoch % a.eval_every == 0 or epoch == a.epochs:
            per_traj = []
            va = evaluate(model, sets["valid"], a.batch)
            te = evaluate(model, sets["test"], a.batch, per_traj)
            if va < best[0]:
                best = (va, epoch, te)
                best_traj = per_traj
            line = f"{epoch},{run / n_batches:.17g},{va:.17g},{te:.17g}"
            if csv:
                csv.write(line + "\n")
                csv.flush()
            print(f"epoch {epoch:6d}  train {run / n_batches:.4e}  valid {va:.4e}  test {te:.4e}"
                  f"  ({time.time() - t0:.0f} s)", flush=True)
    print(f"best validation {best[0]:.4e} at epoch {best[1]}: test MSE {best[2]:.4e}")
    if a.errors_csv:
        with open(a.errors_csv + ".tmp", "w") as f:
            f.write("traj,mse\n")
            f.writelines(f"{i},{m:.17g}\n" for i, m in enumerate(best_traj))
        os.replace(a.errors_csv + ".tmp", a.errors_csv)


if __name__ == "__main__":
    main()
