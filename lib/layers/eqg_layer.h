/* eqg_layer.h: pluggable message-passing layer families (GSL type pattern).
 *
 * A layer maps the state of a batch of graphs to a new state:
 *
 *   h (N, F)   invariant node features, F = cfg.width in and out
 *   x (N, D)   coordinates (D = 3) or four-momenta (D = 4); equivariant
 *              families may update them
 *   v (N, D)   optional velocities (EGNN's velocity variant), never updated
 *   s (N, S)   optional raw input scalars fed to every block (LorentzNet)
 *   a (E, A)   optional edge attributes (charges products, distances ...)
 *   vec (N, C*D) optional extra vector channels (VecNet-style), C = cfg.n_vec
 *
 * Every family's file starts with its message, aggregation and update
 * equations.  A family states the symmetry it claims through `claims`, so
 * the equivariance tests and the experiment can iterate over the registry
 * and hold each family to its own claim.
 *
 * Edge e sends a message from src[e] = j to dst[e] = i (eqg_graph.h):
 * r_ij = x_i - x_j = x[dst] - x[src]. */
#ifndef EQG_LAYER_H
#define EQG_LAYER_H

#include <gsl/gsl_rng.h>

#include "graph/eqg_graph.h"
#include "groups/eqg_group.h"
#include "nn/eqg_mlp.h"

/* State flowing through a stack of layers (tensors on the tape). */
typedef struct eqg_layer_io {
  eqg_tensor *h;    /* (N, F) */
  eqg_tensor *x;    /* (N, D) */
  eqg_tensor *v;    /* (N, D) or NULL */
  eqg_tensor *s;    /* (N, S) or NULL */
  eqg_tensor *a;    /* (E, A) or NULL */
  eqg_tensor *vec;  /* (N, C*D) or NULL */
} eqg_layer_io;

typedef enum eqg_coord_agg {
  EQG_AGG_MEAN,     /* C = 1 / in-degree (EGNN reference code, LorentzNet) */
  EQG_AGG_SUM       /* C = 1 */
} eqg_coord_agg;

typedef struct eqg_layer_config {
  size_t dim;              /* D: 3 or 4 */
  size_t width;            /* F: node feature width in and out */
  size_t n_edge_attr;      /* A */
  size_t n_scalars;        /* S: raw scalars given to every block (0: none) */
  size_t n_vec;            /* C: VecNet vector channels */
  eqg_activation act;      /* MLP activation (SiLU for EGNN, ReLU for LorentzNet) */
  bool update_x;           /* coordinate update (LorentzNet's last block: false) */
  bool velocity;           /* EGNN velocity variant: x += phi_v(h) v */
  bool residual;           /* h <- h + phi_h(...) (EGNN "recurrent", LorentzNet) */
  eqg_coord_agg coord_agg; /* aggregation of coordinate messages */
  eqg_real coord_scale;    /* LorentzNet c (0.005 top tagging); 1 for EGNN */
  eqg_real coord_clamp;    /* LorentzNet clamps x messages to +-100; 0 = off */
  eqg_real dropout;        /* LorentzNet: 0 in the blocks */
  size_t n_rbf;            /* SchNet radial basis size */
  eqg_real rbf_cutoff;     /* SchNet grid 0 .. cutoff */
  eqg_real rbf_gamma;      /* SchNet exp(-gamma (d - mu_k)^2) */
  eqg_real equivariant_fraction; /* VecNet knob: 0 unconstrained .. 1 equivariant */
  eqg_metric metric;       /* products of coordinates: Euclidean or Minkowski, or
                              EQG_METRIC_GENERAL with metric_g (lgeb, lconv) */
  eqg_real metric_g[16];   /* (D, D) row-major G when metric == EQG_METRIC_GENERAL
                              (e.g. a metric recovered by lib/probe) */
  size_t n_generators;     /* lconv: learnable generators n_L (0: D (D - 1) / 2) */
} eqg_layer_config;

/* Sensible defaults for a family-neutral layer of width F on D-vectors. */
eqg_layer_config eqg_layer_config_default(size_t dim, size_t width);

/* Where a family keeps its equivariant geometric output. */
typedef enum eqg_coords_out {
  EQG_COORDS_NONE,  /* x passes through unchanged (gnn, schnet) */
  EQG_COORDS_X,     /* x is updated equivariantly (rf, egnn, lgeb) */
  EQG_COORDS_VEC    /* the vector channels io->vec are updated (vecnet) */
} eqg_coords_out;

typedef struct eqg_layer_type {
  const char *name;        /* "gnn", "rf", "schnet", "egnn", "lgeb", "vecnet" */
  const char *symmetry;    /* the claim in words, e.g. "E(n)-equivariant x, invariant h" */
  bool geometric;          /* false: coordinates are not used by the layer, and the
                              model feeds them in as plain node features instead */
  /* Does this family, so configured, claim exact equivariance (x, vec) and
   * invariance (h) under group type g acting on x (and v, vec)?  Claims
   * concern inputs without fixed reference nodes (beams). */
  bool (*claims)(const eqg_layer_config *cfg, const eqg_group_type *g);
  /* Register parameters under `prefix` and initialise them from rng; returns
   * the layer object or NULL with a message. */
  void *(*alloc)(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                 gsl_rng *rng);
  void (*free)(void *layer);
  /* io <- layer(io) on the tape; EQG_OK or the tape's error. */
  eqg_status (*forward)(eqg_tape *t, eqg_params *p, const void *layer,
                        const eqg_graph_batch *b, eqg_layer_io *io);
  eqg_coords_out coords_out;
} eqg_layer_type;

extern const eqg_layer_type eqg_layer_gnn, eqg_layer_rf, eqg_layer_schnet,
  eqg_layer_egnn, eqg_layer_lgeb, eqg_layer_vecnet;
/* Top-tagging baselines (non-geometric): per-particle Deep Sets / PFN block and
 * ParticleNet's EdgeConv on the batch's (eta-phi kNN) edges. */
extern const eqg_layer_type eqg_layer_deepsets, eqg_layer_edgeconv;
/* Learnable Lie-algebra convolution (L-conv, Dehmamy et al. 2021) on vector
 * channels; its generators are the parameters "<prefix>.generators". */
extern const eqg_layer_type eqg_layer_lconv;

/* NULL-terminated list of every family. */
extern const eqg_layer_type *const eqg_layer_types[];
/* By name, or NULL with a message listing the names. */
const eqg_layer_type *eqg_layer_type_find(const char *name);

#endif
