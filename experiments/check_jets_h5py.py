#!/usr/bin/python3
"""Cross-check of the top-tagging HDF5 layout with h5py (development only;
needs Debian's python3-h5py, never used by the library or its tests).

1. Reads a file written by jets_gen the way the LGN / LorentzNet / PELICAN
   loaders do (h5py, every dataset as a numpy array) and checks its layout
   and invariants: dataset names, shapes and types, zero padding, E >= |p|,
   constituent pT summing to jet_pt.
2. Writes the same jets as h5py writes numpy int64 arrays (Nobj, is_signal,
   label), without the mass dataset, into OUT, which eqgnn's loader must
   read (run jets_validate on it).

Usage: /usr/bin/python3 experiments/check_jets_h5py.py IN.h5 OUT.h5
"""
import sys

import h5py
import numpy as np

LAYOUT = {"Nobj": 1, "Pmu": 3, "truth_Pmu": 2, "is_signal": 1, "jet_pt": 1,
          "label": 2, "mass": 2}


def main(src, dst):
    with h5py.File(src, "r") as f:
        data = {k: f[k][:] for k in f.keys()}
    for k, rank in LAYOUT.items():
        assert k in data, f"missing dataset {k}"
        assert data[k].ndim == rank, f"{k}: rank {data[k].ndim}, want {rank}"
    pmu, label = data["Pmu"], data["label"].astype(bool)
    n, p = pmu.shape[0], pmu.shape[1]
    assert pmu.shape == (n, p, 4) and label.shape == (n, p)
    assert (label.sum(1) == data["Nobj"]).all(), "label disagrees with Nobj"
    assert not pmu[~label].any(), "non-zero padding"
    e, mom = pmu[..., 0], np.linalg.norm(pmu[..., 1:], axis=-1)
    assert (e[label] >= mom[label]).all(), "a constituent with E < |p|"
    pt = np.hypot(pmu[..., 1].sum(1), pmu[..., 2].sum(1))
    print(f"{src}: {n} jets x {p}, {int(data['is_signal'].sum())} top; "
          f"max |sum pT - jet_pt| = {np.abs(pt - data['jet_pt']).max():.3g} GeV")
    with h5py.File(dst, "w") as g:
        for k in ("Nobj", "is_signal", "label"):
            g.create_dataset(k, data=data[k].astype(np.int64))
        for k in ("Pmu", "truth_Pmu", "jet_pt"):
            g.create_dataset(k, data=data[k])
    print(f"{dst}: written with int64 integers and no mass dataset")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
