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

With --follow-checkpoint FILE it continues an eqgnn run: the parameters,
Adam moments and step count of an eqgnn egnn checkpoint, float64, and the
batches in eqgnn's order of that seed (GSL's MT19937 and Fisher-Yates,
replayed here).  Its CSV, compared with eqgnn's, shows how long two
implementations of the same training stay on the same trajectory.

With --eval-checkpoint FILE it trains nothing: it loads the parameters of an
eqgnn `nbody --model egnn` checkpoint into the reference network (float64)
and prints its validation and test MSE, to compare with the values eqgnn
recorded at that epoch: equal to round-off means the two forward passes are
the same function of the same parameters.

Usage: /usr/bin/python3 experiments/check_nbody_torch.py --datadir DIR
       [--epochs N] [--n-train 3000] [--seed S] [--float64] [--threads T]
       [--csv FILE] [--errors-csv FILE] [--eval-checkpoint FILE]
       [--follow-checkpoint FILE]
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


# eqgnn's parameter names -> (reference Sequential, index), per layer; the
# order is eqgnn's registration order (embed, then per layer phi_e.0, phi_e.1,
# phi_h.0, phi_h.1, phi_x.0, phi_x.1, phi_v.0, phi_v.1; weight before bias),
# which is also the order of the flat optimiser state /optim/m, /optim/v.
LAYER_PARTS = (("phi_e.0", "edge_mlp", 0), ("phi_e.1", "edge_mlp", 2),
               ("phi_h.0", "node_mlp", 0), ("phi_h.1", "node_mlp", 2),
               ("phi_x.0", "coord_mlp", 0), ("phi_x.1", "coord_mlp", 2),
               ("phi_v.0", "coord_mlp_vel", 0), ("phi_v.1", "coord_mlp_vel", 2))


def eqgnn_layout(model):
    """[(eqgnn name, torch parameter)] in eqgnn's flat order.  eqgnn stores a
    Linear's weight as (in, out), torch as (out, in); a bias as (1, out)."""
    out = [("embed.weight", model.embedding.weight), ("embed.bias", model.embedding.bias)]
    for k, layer in enumerate(model.layers):
        for name, seq, idx in LAYER_PARTS:
            lin = getattr(layer, seq)[idx]
            out.append((f"layer{k}.{name}.weight", lin.weight))
            if lin.bias is not None:
                out.append((f"layer{k}.{name}.bias", lin.bias))
    return out


def from_eqgnn(t, shape):
    """An eqgnn (in, out) or (1, out) array as a torch tensor of shape (out, in) / (out,)."""
    t = torch.as_tensor(np.asarray(t))
    return t.reshape(shape) if len(shape) == 1 else t.reshape(shape[::-1]).T


def load_eqgnn_params(model, path):
    """Copy /params/<name> of an eqgnn egnn_nbody checkpoint into the reference
    network; the first edge Linear's input order is the same in both: [h_i,
    h_j, d2, q_i q_j, |x_i(0) - x_j(0)|^2] with i the receiving node.
    Returns the checkpoint's epoch (-1 if it has none)."""
    with h5py.File(path, "r") as f, torch.no_grad():
        for name, p in eqgnn_layout(model):
            p.copy_(from_eqgnn(f["params"][name][()], p.shape))
        return int(f.attrs["epoch"]) if "epoch" in f.attrs else -1


def load_eqgnn_adam(model, opt, path, settings):
    """Put an eqgnn checkpoint's Adam state (flat /optim/m, /optim/v in
    eqgnn_layout order, step count) into torch's Adam, after checking that the
    run's settings (/nbody attributes) equal `settings`; returns (seed, step)."""
    with h5py.File(path, "r") as f:
        run = f["nbody"].attrs
        for key, want in settings.items():
            have = run[key].decode() if isinstance(run[key], bytes) else run[key]
            if have != want:
                sys.exit(f"check_nbody_torch: {path}: the run has {key} {have}, "
                         f"this one {want}")
        g = f["optim"]
        kind = g.attrs["type"]
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind != "adam":
            sys.exit(f"check_nbody_torch: {path}: optimiser {kind!r}, not adam")
        m, v, step = g["m"][()], g["v"][()], int(g.attrs["step"])
        seed = int(run["seed"])
    at = 0
    for _, p in eqgnn_layout(model):
        n = p.numel()
        opt.state[p] = {"step": torch.tensor(float(step)),
                        "exp_avg": from_eqgnn(m[at:at + n], p.shape).clone().to(p.dtype),
                        "exp_avg_sq": from_eqgnn(v[at:at + n], p.shape).clone().to(p.dtype)}
        at += n
    if at != m.size:
        sys.exit(f"check_nbody_torch: {path}: optimiser state has {m.size} values, "
                 f"the network {at}")
    return seed, step


class GslMt19937:
    """GSL's gsl_rng_mt19937 (gsl_rng_set seeding, raw 32-bit outputs) and
    gsl_rng_uniform_int, so that the reference can replay eqgnn's batches."""

    def __init__(self, seed):
        seed = seed or 4357   # GSL's substitute for seed 0
        self.mt = [seed & 0xffffffff]
        for i in range(1, 624):
            prev = self.mt[-1]
            self.mt.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xffffffff)
        self.i = 624

    def get(self):
        if self.i >= 624:
            mt = self.mt
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908b0df if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c5680
        y ^= (y << 15) & 0xefc60000
        return y ^ (y >> 18)

    def uniform_int(self, n):
        scale = 0xffffffff // n
        while True:
            k = self.get() // scale
            if k < n:
                return k


def eqgnn_epoch_seed(seed, epoch):
    """eqg_nbt_epoch_seed: SplitMix64 of (seed << 32) ^ epoch, low 32 bits."""
    z = (((seed & 0xffffffff) << 32) ^ (epoch & 0xffffffff)) + 0x9e3779b97f4a7c15
    z &= (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & ((1 << 64) - 1)
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & ((1 << 64) - 1)
    return (z ^ (z >> 31)) & 0xffffffff


def eqgnn_order(seed, epoch, n):
    """The training order of eqgnn's epoch index `epoch` (0-based): the
    Fisher-Yates shuffle of nbody's training loop."""
    rng, perm = GslMt19937(eqgnn_epoch_seed(seed, epoch)), list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.uniform_int(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return torch.tensor(perm)


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
    ap.add_argument("--follow-checkpoint", metavar="FILE",
                    help="continue an eqgnn egnn checkpoint (parameters, Adam state, "
                         "seed) in float64 with eqgnn's batch order, to --epochs")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    exact = a.eval_checkpoint or a.follow_checkpoint
    dtype = torch.float64 if a.float64 or exact else torch.float32
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
    first, order = 1, None
    if a.follow_checkpoint:
        first = load_eqgnn_params(model, a.follow_checkpoint) + 1
        seed, step = load_eqgnn_adam(model, opt, a.follow_checkpoint,
                                     {"model": "egnn", "lr": a.lr, "n_train": a.n_train,
                                      "batch": a.batch})
        order = lambda epoch: eqgnn_order(seed, epoch - 1, a.n_train)
        print(f"following {a.follow_checkpoint}: seed {seed}, epoch {first - 1}, "
              f"Adam step {step}; eqgnn's batch order", flush=True)
    train = sets["train"]
    edges = edges_of(a.batch)
    n_batches = a.n_train // a.batch   # drop last
    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("epoch,train_mse,valid_mse,test_mse\n")
    best = (float("inf"), 0, 0.0)
    best_traj = []
    t0 = time.time()
    for epoch in range(first, a.epochs + 1):
        perm = order(epoch) if order else torch.randperm(a.n_train)
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
