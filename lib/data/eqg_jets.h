/* eqg_jets.h: a toy top-tagging jet generator (top jets t -> b W -> b q q'
 * and QCD jets from a light quark or a gluon, each parton showered by a
 * virtuality-ordered final-state parton shower), jet observables, and the
 * LGN / LorentzNet / PELICAN HDF5 layout (shared/reference/top_tagging.md).
 *
 * Conventions: four-momenta (E, px, py, pz) in GeV, z is the beam axis,
 * pT = sqrt(px^2 + py^2), pseudorapidity eta = asinh(pz / pT), rapidity
 * y = (1/2) ln((E + pz) / (E - pz)), Delta R^2 = Delta y^2 + Delta phi^2.
 *
 * Files: eqg_jets_kin.c (four-vectors, boosts, two-body decays, Breit-Wigner),
 * eqg_jets_shower.c (the shower and the event tree), eqg_jets_cluster.c
 * (anti-kT / exclusive-kT clustering, jet selection, observables),
 * eqg_jets_gen.c (one jet, many jets in parallel), eqg_jets_io.c (datasets and
 * HDF5).  The physics choices are documented at the top of each file.
 *
 * With the defaults (20000 test jets of `jets_gen`, measured by `jets_validate`):
 * top / QCD jet mass median 155.7 / 54.7 GeV (top peak bin 165-170 GeV: the
 * mass lost out of the R = 0.8 cone; no detector smearing, so nothing above
 * ~m_t), W candidate median 77.9 GeV for tops, constituents median 27 / 22,
 * tau_32 median 0.50 / 0.77; conservation at every node to ~4e-16 of the
 * parent's energy.  This is parton level (no hadronisation, no underlying
 * event): multiplicities are about half of the Delphes-level reference data. */
#ifndef EQG_JETS_H
#define EQG_JETS_H

#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "core/eqg_core.h"

/* ---- datasets (eqg_jets_io.c) ------------------------------------------------
 * HDF5 layout (all at the root; the names and types of LGN/LorentzNet/PELICAN):
 *   Nobj       (N)        int16    constituents kept
 *   Pmu        (N, P, 4)  float64  (E, px, py, pz) GeV, pT-ordered, zero padded
 *   truth_Pmu  (N, 4)     float64  truth top momentum (zeros for QCD)
 *   is_signal  (N)        int16    1 top, 0 QCD
 *   jet_pt     (N)        float64  jet pT
 *   label      (N, P)     int16    1 constituent, 0 padding
 *   mass       (N, P)     float64  constituent masses sqrt(max(E^2 - p^2, 0))
 * plus whatever root attributes the writer's `extra` callback adds. */
typedef struct eqg_jet_dataset {
  size_t n_jets;            /* N */
  size_t max_constituents;  /* P: padded length (200 in the real files) */
  int *nobj;                /* (N) constituents kept, <= P */
  eqg_real *pmu;            /* (N, P, 4) (E, px, py, pz) GeV, pT-ordered, zero padded */
  eqg_real *truth_pmu;      /* (N, 4) truth top momentum (zeros for QCD) */
  int *is_signal;           /* (N) 1 top, 0 QCD */
  eqg_real *jet_pt;         /* (N) */
  int *label;               /* (N, P) 1 constituent, 0 padding */
  eqg_real *mass;           /* (N, P) constituent masses */
} eqg_jet_dataset;

/* Zeroed arrays; NULL with a message on n_jets * P overflow, P = 0 or out of
 * memory (n_jets = 0 is allowed). */
eqg_jet_dataset *eqg_jet_dataset_alloc(size_t n_jets, size_t max_constituents);
void eqg_jet_dataset_free(eqg_jet_dataset *ds);  /* NULL ok */

/* Atomic write (eqg_h5_create_tmp / eqg_h5_commit) in the layout above, rows in
 * the order given; the rank-2/3 datasets are chunked (512 jets) with shuffle +
 * gzip-1 (transparent to HDF5 / h5py readers; ~9x smaller for P = 200).
 * `extra` (may be NULL) is called on the open file before the commit to add
 * attributes (provenance); its failure aborts the write.
 * EQG_EINVAL if nobj is outside [0, P] or is_signal not 0/1; pmu rows beyond
 * nobj are written as they are (the generator leaves them exactly zero). */
eqg_status eqg_jet_dataset_save(const char *path, const eqg_jet_dataset *ds,
                                eqg_status (*extra)(hid_t file, void *ctx), void *ctx);

/* Read that layout (any integer / float storage types, as written by h5py for
 * the real Top Tagging dataset by the LGN/LorentzNet tools): Nobj, Pmu and
 * is_signal are required; 'label' missing -> derived from Nobj; 'mass' missing
 * -> computed from Pmu; truth_Pmu and jet_pt missing -> zeros / computed from
 * the constituents.  max_jets > 0: only the first max_jets (all if fewer);
 * max_constituents > 0: keep only the first (hardest) that many, Nobj clipped
 * and P = min(P_file, max_constituents).
 * Errors (message naming the dataset, shapes, jet index): missing required
 * dataset, wrong rank or class, or not HDF5: EQG_EFORMAT; sizes that disagree:
 * EQG_ESHAPE; non-finite momenta: EQG_ENONFINITE; Nobj outside [0, P],
 * is_signal not 0/1: EQG_EFORMAT; unreadable file: EQG_EIO.  *out NULL on error. */
eqg_status eqg_jet_dataset_load(eqg_jet_dataset **out, const char *path, size_t max_jets,
                                size_t max_constituents);

/* ---- generator configuration ---------------------------------------------------- */
typedef struct eqg_jets_config {
  /* hard partons: pT uniform in [gen_pt_min, gen_pt_max], eta uniform in
   * [-gen_eta_max, gen_eta_max], phi uniform */
  double gen_pt_min, gen_pt_max;  /* [500, 700] GeV */
  double gen_eta_max;             /* [2.0] */
  double gluon_fraction;          /* [0.5] QCD jets started by a gluon */
  /* resonances: relativistic Breit-Wigner in m^2, truncated to |m - M| <= bw_cut Gamma */
  double m_top, gamma_top;        /* [173, 1.4] GeV */
  double m_w, gamma_w;            /* [80.4, 2.1] GeV */
  double bw_cut;                  /* [10] widths */
  /* shower */
  double q0;                      /* [1] GeV: a parton with virtuality t < q0^2 stops */
  double alpha_s_mz;              /* [0.118] alpha_s(m_Z) */
  int running_alpha_s;            /* [1] one-loop running (nf = 5) at kT^2 = z(1-z)t; 0: fixed */
  double kt_min;                  /* [0.4] GeV: branchings need kT^2 = z(1-z)t >= kt_min^2 */
  int angular_ordering;           /* [0] veto branchings wider than the parent's */
  double start_scale;             /* [1] QCD parton starts at t_max = (start_scale pT)^2 */
  double m_final;                 /* [0.13957] GeV: mass of the final particles (0: massless) */
  /* jet selection (anti-kT, R = jet_r, hardest jet of the event) */
  double jet_r;                   /* [0.8] */
  double jet_pt_min, jet_pt_max;  /* [550, 650] GeV */
  double jet_eta_max;             /* [2.0] */
  int match_top;                  /* [1] top jets: top, b, q, q' within jet_r of the axis */
  size_t max_constituents;        /* [200] P */
  size_t max_tries;               /* [1000] regenerations per jet before EQG_ERANGE */
} eqg_jets_config;

void eqg_jets_config_default(eqg_jets_config *cfg);
/* EQG_EINVAL naming the field for an unusable configuration. */
eqg_status eqg_jets_config_check(const eqg_jets_config *cfg);

/* ---- events (the truth tree of one jet) ---------------------------------------
 * Node kinds: EQG_JET_GLUON, EQG_JET_QUARK (light or b: massless in the
 * shower), EQG_JET_TOP, EQG_JET_W.  Every node with children decays exactly
 * into two: p[node] == p[child0] + p[child1] up to rounding. */
enum { EQG_JET_GLUON = 0, EQG_JET_QUARK = 1, EQG_JET_TOP = 6, EQG_JET_W = 24 };
enum { EQG_JET_SPLIT_NONE = 0, EQG_JET_SPLIT_QQG, EQG_JET_SPLIT_GGG, EQG_JET_SPLIT_GQQ,
       EQG_JET_SPLIT_DECAY };

typedef struct eqg_jet_node {
  int kind;
  int split;           /* branching channel: EQG_JET_SPLIT_* (NONE: final particle) */
  int child[2];        /* -1: final particle */
  int parent;          /* -1: root */
  double t;            /* virtuality = mass^2 (GeV^2) */
  double z, phi;       /* branching: energy sharing, azimuth */
  double cos_theta;    /* decays: polar angle in the rest frame */
  double e_est;        /* energy estimate used to generate the branching */
  double theta2_max;   /* angular-ordering bound on the branching's opening angle^2 */
  double p[4];         /* (E, px, py, pz) */
} eqg_jet_node;

typedef struct eqg_jet_event {
  eqg_jet_node *node;  /* (n_nodes) node[0] is the root (top or initial parton) */
  size_t n_nodes, cap;
  int is_signal;
  int top_daughters[3];/* signal: node indices of b, q, q' (before their showers) */
} eqg_jet_event;

eqg_jet_event *eqg_jet_event_alloc(void);
void eqg_jet_event_free(eqg_jet_event *ev);   /* NULL ok */

/* Generate the full event (no cuts): the hard parton (is_signal: a top, else a
 * quark or gluon), its decays and showers, all kinematics.  Conservation holds
 * at every node with children.  Final particles: nodes with child[0] < 0. */
eqg_status eqg_jet_event_generate(eqg_jet_event *ev, int is_signal,
                                  const eqg_jets_config *cfg, gsl_rng *r);

/* Largest |p[node] - p[c0] - p[c1]|_mu / E[node] over all nodes with children. */
double eqg_jet_event_max_violation(const eqg_jet_event *ev);

/* ---- one jet, many jets ------------------------------------------------------- */

/* One selected jet: generate events until the hardest anti-kT jet passes the
 * selection (at most cfg->max_tries; EQG_ERANGE beyond).  pmu (P, 4) gets the
 * pT-ordered constituents (the first min(n, P)), zero padded; *nobj, *jet_pt
 * (pT of all the jet's constituents), truth (4: top momentum, zeros for QCD). */
eqg_status eqg_jet_generate_one(eqg_real *pmu, int *nobj, eqg_real *jet_pt, eqg_real *truth,
                                int is_signal, const eqg_jets_config *cfg, gsl_rng *r,
                                eqg_jet_event *work);

/* Fill ds (allocated with P = cfg->max_constituents) with n_jets balanced jets:
 * labels are a random permutation (drawn from `r`) of floor(N/2) signal and the
 * rest QCD (for odd N a coin from `r` gives the extra jet to one class); then
 * one base seed is drawn from `r` and jet i is generated from its own mt19937
 * seeded with (base + i) mod 2^32 (distinct seeds within a call), in parallel
 * over jets with OpenMP when built with it (n_threads > 0: that many; 0: the
 * default).  The result does not depend on the thread count.  label and mass
 * are filled.  A jet that fails (EQG_ERANGE after max_tries, EQG_ENOMEM) fails
 * the call with its status and a message naming the jet. */
eqg_status eqg_jets_generate(eqg_jet_dataset *ds, const eqg_jets_config *cfg, gsl_rng *r,
                             int n_threads);

/* ---- observables (eqg_jets_cluster.c) -------------------------------------------
 * Of n constituents p (n, 4):
 *   mass      invariant mass of the sum;
 *   m_w       of the three exclusive-kT subjets (the constituents reclustered
 *             with the kT distance min(pT_i^2, pT_j^2) Delta R_ij^2, E-scheme,
 *             no beam distance, until three remain), the pair mass closest to
 *             80.4 GeV (the W candidate);
 *   m_min     the smallest of the three pair masses; m_12: the pair mass of the
 *             two hardest (in pT) subjets; m_w, m_min, m_12 are 0 when n < 3;
 *   tau[k]    N-subjettiness tau_N, N = k+1 (beta = 1) with the exclusive-kT
 *             axes (N subjets): sum_i pT_i min_a Delta R_ia / (sum_i pT_i R0),
 *             R0 = 0.8, Delta R in (rapidity, phi); 0 when n <= N;
 *   tau32 = tau3 / tau2, tau21 = tau2 / tau1 (0 when the denominator is 0). */
typedef struct eqg_jet_obs {
  double pt, eta, mass, m_w, m_min, m_12;
  double tau[3], tau21, tau32;
  int n;
} eqg_jet_obs;

eqg_status eqg_jet_observables(eqg_jet_obs *obs, const eqg_real *p, size_t n);

/* Invariant mass of a four-vector: sqrt(max(E^2 - |p|^2, 0)). */
double eqg_jet_p4_mass(const double p[4]);

#endif
