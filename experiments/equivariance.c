/* equivariance.c: measured equivariance error of every layer family under
 * sampled group elements, and a boost-rapidity sweep (symmetry.md).
 *
 * For each model (a registered family on the point clouds it is meant for, or
 * one preset, optionally with trained weights from a checkpoint), in eval mode:
 *
 *   invariant graph output    e = |f(g x) - f(x)| / |f(x)|          (norms over n_out)
 *   equivariant node output   e = ‖F(g x) - g F(x)‖ / ‖g F(x)‖       (norms over the
 *                             graph's nodes and D components; families with
 *                             coords_out != EQG_COORDS_NONE)
 *
 * for K sampled elements g of each group and M input graphs: K * M errors per
 * (model, group), reported as median, 95th percentile (nearest rank) and
 * maximum, together with the family's claim (eqg_layer_type.claims).  The
 * graph output comes from a graph-task model and the node output from a
 * node-task model built from the same seed, so the two share the embedding
 * and every message-passing layer bitwise (eqg_model_alloc draws embed,
 * layers, head in that order).
 *
 * Transformations: positions (nbody x) move as EQG_VECTOR_POSITION,
 * velocities and four-momenta as EQG_VECTOR_DISPLACEMENT; node scalars and
 * edge attributes are invariants computed once from the untransformed input
 * (|v_i|, q_i q_j, |x_i - x_j|^2, psi(m_i)) and are not recomputed, so the
 * error is that of the model, not of a feature pipeline.  3-D rotation groups
 * act on four-vectors as diag(1, R); translations only on D = 3.
 *
 * The rapidity sweep boosts the jets along a fixed axis with eta = 0, step,
 * ..., sweep_max and records the median and maximum error over the jets for
 * each D = 4 model; LorentzNet (lgeb) runs with its two beam nodes prepended,
 * once boosted with the jet and once left fixed (top_tagging.md). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

enum {
  NBODY_NODES = 5,
  MAX_MODELS = 64,
  MAX_GROUPS = 32,
  DEFAULT_SAMPLES = 100, DEFAULT_INPUTS = 10, DEFAULT_SWEEP_INPUTS = 50,
  QUICK_SAMPLES = 5, QUICK_INPUTS = 3, QUICK_SWEEP_INPUTS = 3,
  DEFAULT_WIDTH = 32, DEFAULT_DEPTH = 4, DEFAULT_NODES = 20
};
#define QUICK_SWEEP_STEP 3.0
#define TOL_EUCLIDEAN 1e-12   /* rotations, reflections, translations */
#define TOL_BOOST 1e-9        /* boosts with gamma <= 10 */
#define PION_MASS 0.13957     /* GeV */
static const double PI = 3.14159265358979323846;

typedef enum cloud_kind { CLOUD_NBODY, CLOUD_JET, CLOUD_KIND_COUNT } cloud_kind;
static const char *const cloud_names[CLOUD_KIND_COUNT] = { "nbody", "jet" };

typedef enum boost_axis { AXIS_X, AXIS_Y, AXIS_Z, AXIS_JET, AXIS_COUNT } boost_axis;
static const char *const axis_names[AXIS_COUNT] = { "x", "y", "z", "jet" };

static const char *const default_groups = "so3,o3,translation,so2z,boostz,boost,lorentz";

typedef struct options {
  unsigned long seed;
  const char *models, *groups, *data, *checkpoint, *model_config, *out;
  size_t samples, inputs, sweep_inputs, nodes, width, depth;
  double max_rapidity, sweep_max, sweep_step;
  boost_axis axis;
  long threads;
  bool quick;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: equivariance [OPTION]...\n"
"Measure how exactly each layer family keeps the symmetries it claims: the\n"
"relative change of the invariant graph output, |f(gx) - f(x)| / |f(x)|, and\n"
"of the equivariant node output, |F(gx) - g F(x)| / |g F(x)|, under sampled\n"
"group elements g, for untrained models (or trained weights from a\n"
"checkpoint) in eval mode; then sweep a boost's rapidity for the D = 4 models.\n"
"\n"
"Models and inputs:\n"
"  families with D = 3 (gnn, rf, schnet, egnn) on 'nbody' clouds: 5 nodes,\n"
"    positions ~ N(0, 1), velocities of speed 0.5 in random directions,\n"
"    charges +-1; node scalar |v_i|, edge attributes [q_i q_j, |x_i - x_j|^2]\n"
"    (the egnn_nbody preset's inputs, with the family swapped in);\n"
"  Lorentz families (lgeb, vecnet) and egnn on 'jet' clouds: --nodes massive\n"
"    constituents (pion mass), pT ~ exponential with mean 20 GeV, (eta, phi)\n"
"    within ~N(0, 0.1^2) of a jet axis with |eta| < 2; node scalars\n"
"    [psi(m_i), 0] (LorentzNet's; beams [0, psi(1)]); lgeb uses the lorentznet\n"
"    preset's settings at the given width and depth.\n"
"  All graphs fully connected.  A family not listed above goes to the clouds\n"
"  it builds on (Lorentz claims: jets).\n"
"\n", f);
  fputs(
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --seed N           seed, 0..4294967295 (default 1); every (model, group)\n"
"                         and input set draws from its own stream derived from\n"
"                         it, so a subset of --models/--groups gives the same\n"
"                         numbers as the full run\n"
"      --models A,B,...   layer families to measure (default: every registered\n"
"                         family: gnn,rf,schnet,egnn,lgeb,vecnet)\n"
"      --groups A,B,...   groups (default so3,o3,translation,so2z,boostz,boost,\n"
"                         lorentz); combinations that do not fit are skipped\n"
"                         (boosts need D = 4, translations D = 3)\n"
"      --samples K        group elements per (model, group), 1..1000000\n"
"                         (default 100; --quick: 5)\n"
"      --inputs M         input graphs, 1..100000 (default 10; --quick: 3)\n"
"      --nodes N          constituents per generated jet, and the cap on\n"
"                         constituents read with --data (leading ones), 1..200\n"
"                         (default 20)\n"
"      --max-rapidity Y   boostz: eta ~ U[-Y, Y]; boost, lorentz: eta ~ U[0, Y],\n"
"                         0..20 (default 2.3, gamma = cosh Y ~ 5)\n"
"      --sweep-max Y      largest rapidity of the sweep, 0..20 (default 9:\n"
"                         gamma = cosh 9 ~ 4051)\n"
"      --sweep-step S     rapidity step of the sweep, > 0 (default 0.5;\n"
"                         --quick: 3)\n"
"      --sweep-inputs M   jets in the sweep, 1..100000 (default 50; --quick: 3)\n"
"      --boost-axis A     sweep boost direction: x, y, z, or jet (each jet's\n"
"                         own momentum direction) (default x)\n"
"      --data FILE        jets from an HDF5 file in the top-tagging layout\n"
"                         (Nobj[N], Pmu[N, P, 4] as (E, px, py, pz) in GeV)\n"
"                         instead of generated ones; --inputs (and\n"
"                         --sweep-inputs) jets are drawn at random from it\n"
"      --model-config P   measure one preset instead of the families:\n"
"                         lorentznet, egnn_nbody, gnn_nbody or rf_nbody\n"
"                         (untrained unless --checkpoint is given; only the\n"
"                         preset's own output is measured)\n"
"      --checkpoint FILE  load trained weights (eqg_checkpoint) into the\n"
"                         --model-config preset\n"
"      --width N          hidden width of the family models, 1..4096\n"
"                         (default 32)\n"
"      --depth N          message-passing layers, 1..64 (default 4)\n"
"      --threads N        BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --quick            small run for CI (5 samples, 3 inputs, sweep\n"
"                         rapidities 0, 3, 6, 9 on 3 jets) unless those\n"
"                         options are given\n"
"      --out FILE.h5      results (default equivariance.h5) with CSVs beside it:\n"
"                         STEM_summary.csv     one row per (model, group)\n"
"                         STEM_sweep.csv       one row per (curve, rapidity)\n"
"                         STEM_so3_samples.csv every SO(3) error (model,\n"
"                                              sample, input)\n"
"                         where STEM is FILE without .h5\n"
"\n", f);
  fputs(
"Output: a summary table on stdout -- model, group, whether the family claims\n"
"the group, median / 95th percentile / maximum of the invariant and of the\n"
"equivariant error, and a status: PASS (claimed, max <= tolerance), FAIL\n"
"(claimed, max above it), -- (not claimed).  Tolerances: 1e-12 for rotations,\n"
"reflections and translations; 1e-9 for boosts with gamma <= 10 (scaled by\n"
"(gamma_max / 10)^2 above that).  Then the sweep: maximum and median error\n"
"over the jets at five rapidities, one curve per D = 4 model; lgeb runs with\n"
"LorentzNet's two beam nodes (sqrt 2, 0, 0, +-1) prepended, once boosted with\n"
"the jet (+beams_boosted) and once left fixed (+beams_fixed).  A progress bar\n"
"on stderr when it is a terminal.  Plots:\n"
"  gnuplot -e \"dir='.'\" plots/equivariance_sweep.gp\n"
"  gnuplot -e \"dir='.'\" plots/equivariance_so3.gp\n"
"\n"
"Exit status: 0 on success (also when unclaimed groups show large errors),\n"
"3 if a claimed group FAILs, 1 on an I/O or model failure, 2 on bad options.\n",
    f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "equivariance";

/* ---- option parsing --------------------------------------------------------------- */

/* Split a comma list into at most `cap` non-empty tokens in buf (modified). */
static size_t split_list(char *buf, char **tok, size_t cap, bool *ok)
{
  size_t n = 0;
  *ok = true;
  for (char *s = buf;;) {
    char *c = strchr(s, ',');
    if (c) *c = '\0';
    if (!*s || n == cap) {
      *ok = false;
      return n;
    }
    tok[n++] = s;
    if (!c) break;
    s = c + 1;
  }
  return n;
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SEED = 256, O_MODELS, O_GROUPS, O_SAMPLES, O_INPUTS, O_NODES, O_MAXRAP,
         O_SWMAX, O_SWSTEP, O_SWINPUTS, O_AXIS, O_DATA, O_MODELCFG, O_CKPT, O_WIDTH,
         O_DEPTH, O_THREADS, O_QUICK, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "models", required_argument, NULL, O_MODELS },
    { "groups", required_argument, NULL, O_GROUPS },
    { "samples", required_argument, NULL, O_SAMPLES },
    { "inputs", required_argument, NULL, O_INPUTS },
    { "nodes", required_argument, NULL, O_NODES },
    { "max-rapidity", required_argument, NULL, O_MAXRAP },
    { "sweep-max", required_argument, NULL, O_SWMAX },
    { "sweep-step", required_argument, NULL, O_SWSTEP },
    { "sweep-inputs", required_argument, NULL, O_SWINPUTS },
    { "boost-axis", required_argument, NULL, O_AXIS },
    { "data", required_argument, NULL, O_DATA },
    { "model-config", required_argument, NULL, O_MODELCFG },
    { "checkpoint", required_argument, NULL, O_CKPT },
    { "width", required_argument, NULL, O_WIDTH },
    { "depth", required_argument, NULL, O_DEPTH },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .samples = DEFAULT_SAMPLES, .inputs = DEFAULT_INPUTS,
                  .sweep_inputs = DEFAULT_SWEEP_INPUTS, .nodes = DEFAULT_NODES,
                  .width = DEFAULT_WIDTH, .depth = DEFAULT_DEPTH, .max_rapidity = 2.3,
                  .sweep_max = 9, .sweep_step = 0.5, .axis = AXIS_X, .threads = 1,
                  .out = "equivariance.h5" };
  bool samples_set = false, inputs_set = false, step_set = false, swin_set = false;
  bool width_set = false, depth_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_MODELS: o->models = optarg; break;
    case O_GROUPS: o->groups = optarg; break;
    case O_SAMPLES:
      st = eqg_cli_parse_size("--samples", optarg, 1, 1000000, &o->samples);
      samples_set = true;
      break;
    case O_INPUTS:
      st = eqg_cli_parse_size("--inputs", optarg, 1, 100000, &o->inputs);
      inputs_set = true;
      break;
    case O_NODES: st = eqg_cli_parse_size("--nodes", optarg, 1, 200, &o->nodes); break;
    case O_MAXRAP:
      st = eqg_cli_parse_double("--max-rapidity", optarg, 0, 20, &o->max_rapidity);
      break;
    case O_SWMAX: st = eqg_cli_parse_double("--sweep-max", optarg, 0, 20, &o->sweep_max); break;
    case O_SWSTEP:
      st = eqg_cli_parse_double("--sweep-step", optarg, 0, 20, &o->sweep_step);
      if (st == EQG_OK && !(o->sweep_step > 0))
        st = eqg_error_set(EQG_EINVAL, "--sweep-step: %s must be positive", optarg);
      step_set = true;
      break;
    case O_SWINPUTS:
      st = eqg_cli_parse_size("--sweep-inputs", optarg, 1, 100000, &o->sweep_inputs);
      swin_set = true;
      break;
    case O_AXIS: {
      int a = -1;
      for (int k = 0; k < AXIS_COUNT; k++)
        if (strcmp(optarg, axis_names[k]) == 0) a = k;
      if (a < 0)
        st = eqg_error_set(EQG_EINVAL, "--boost-axis: '%s' is not one of x, y, z, jet", optarg);
      else
        o->axis = (boost_axis)a;
      break;
    }
    case O_DATA: o->data = optarg; break;
    case O_MODELCFG: o->model_config = optarg; break;
    case O_CKPT: o->checkpoint = optarg; break;
    case O_WIDTH:
      st = eqg_cli_parse_size("--width", optarg, 1, 4096, &o->width);
      width_set = true;
      break;
    case O_DEPTH:
      st = eqg_cli_parse_size("--depth", optarg, 1, 64, &o->depth);
      depth_set = true;
      break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->quick) {
    if (!samples_set) o->samples = QUICK_SAMPLES;
    if (!inputs_set) o->inputs = QUICK_INPUTS;
    if (!step_set) o->sweep_step = QUICK_SWEEP_STEP;
    if (!swin_set) o->sweep_inputs = QUICK_SWEEP_INPUTS;
  }
  if (o->checkpoint && !o->model_config)
    return eqg_cli_usage_error(PROG, "--checkpoint: needs --model-config naming the preset "
                               "the weights belong to");
  if (o->model_config && o->models)
    return eqg_cli_usage_error(PROG, "--models: cannot be combined with --model-config (which "
                               "names the one model to measure)");
  if (o->model_config && (width_set || depth_set))
    return eqg_cli_usage_error(PROG, "--width/--depth: cannot be combined with --model-config "
                               "(the preset fixes them)");
  if (o->model_config) {
    eqg_model_config tmp;
    if (eqg_model_config_preset(&tmp, o->model_config) != EQG_OK) {
      return eqg_cli_usage_error(PROG, "--model-config: %s", eqg_error_message());
    }
  }
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (o->data && !*o->data) return eqg_cli_usage_error(PROG, "--data: empty file name");
  return -1;
}

/* ---- small helpers ----------------------------------------------------------------- */

/* FNV-1a of the text, mixed with the seed: one random stream per purpose. */
static unsigned long stream_seed(unsigned long seed, const char *a, const char *b)
{
  uint64_t h = 1469598103934665603ULL ^ ((uint64_t)seed * 0x9e3779b97f4a7c15ULL);
  for (const char *s = a; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  h = (h ^ '/') * 1099511628211ULL;
  for (const char *s = b; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL);
}

static gsl_rng *rng_for(unsigned long seed, const char *a, const char *b)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (r) gsl_rng_set(r, stream_seed(seed, a, b));
  return r;
}

static double psi(double z) { return z >= 0 ? log1p(z) : -log1p(-z); }

/* ‖a - b‖ / ‖b‖ over n numbers; 0 / 0 = 0, x / 0 = inf, NaN -> inf. */
static double rel_err(const eqg_real *a, const eqg_real *b, size_t n)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  if (den == 0) return num == 0 ? 0 : INFINITY;
  double e = sqrt(num) / sqrt(den);
  return isnan(e) ? INFINITY : e;
}

/* median, 95th percentile (nearest rank) and maximum of a[0..n-1] (sorted in
 * place); NaN for n = 0. */
static void stats3(double *a, size_t n, double out[3])
{
  if (n == 0) {
    out[0] = out[1] = out[2] = NAN;
    return;
  }
  out[0] = eqg_cli_median(a, n);   /* sorts a */
  size_t r = (size_t)ceil(0.95 * (double)n);
  out[1] = a[(r ? r : 1) - 1];
  out[2] = a[n - 1];
}

/* ---- input clouds ------------------------------------------------------------------ */

/* M graphs, node rows packed graph after graph. */
typedef struct cloud_set {
  cloud_kind kind;
  size_t dim, n_graphs, n_nodes;
  eqg_index *counts;   /* (G) */
  eqg_real *x;         /* (N, D) nbody positions or jet four-momenta (E, px, py, pz) */
  eqg_real *v;         /* (N, D) nbody velocities; NULL for jets */
  eqg_real *q;         /* (N) nbody charges or jet constituent masses */
} cloud_set;

static void cloud_free(cloud_set *s)
{
  free(s->counts);
  free(s->x);
  free(s->v);
  free(s->q);
  memset(s, 0, sizeof *s);
}

static eqg_status cloud_alloc(cloud_set *s, cloud_kind kind, size_t G, size_t N)
{
  *s = (cloud_set){ .kind = kind, .dim = kind == CLOUD_NBODY ? 3 : 4, .n_graphs = G,
                    .n_nodes = N };
  s->counts = calloc(G ? G : 1, sizeof *s->counts);
  s->x = calloc(N ? N * s->dim : 1, sizeof *s->x);
  s->q = calloc(N ? N : 1, sizeof *s->q);
  if (kind == CLOUD_NBODY) s->v = calloc(N ? N * 3 : 1, sizeof *s->v);
  if (!s->counts || !s->x || !s->q || (kind == CLOUD_NBODY && !s->v)) {
    cloud_free(s);
    return eqg_error_set(EQG_ENOMEM, "input clouds: out of memory");
  }
  return EQG_OK;
}

/* N-body clouds (nbody.md): 5 nodes, x ~ N(0, 1), speed 0.5 in a uniformly
 * random direction, charges +-1. */
static eqg_status gen_nbody(cloud_set *s, size_t G, gsl_rng *r)
{
  eqg_status st = cloud_alloc(s, CLOUD_NBODY, G, G * NBODY_NODES);
  if (st != EQG_OK) return st;
  for (size_t g = 0; g < G; g++) s->counts[g] = NBODY_NODES;
  for (size_t i = 0; i < s->n_nodes; i++) {
    for (size_t k = 0; k < 3; k++) s->x[3 * i + k] = gsl_ran_gaussian(r, 1);
    double d[3];
    gsl_ran_dir_3d(r, &d[0], &d[1], &d[2]);
    for (size_t k = 0; k < 3; k++) s->v[3 * i + k] = 0.5 * d[k];
    s->q[i] = gsl_rng_uniform(r) < 0.5 ? -1 : 1;
  }
  return EQG_OK;
}

/* Toy jets: n constituents of pion mass, pT ~ Exp(mean 20 GeV), (eta, phi)
 * ~ N(axis, 0.1^2) around an axis with eta ~ U(-2, 2), phi ~ U(-pi, pi). */
static eqg_status gen_jets(cloud_set *s, size_t G, size_t n, gsl_rng *r)
{
  eqg_status st = cloud_alloc(s, CLOUD_JET, G, G * n);
  if (st != EQG_OK) return st;
  for (size_t g = 0; g < G; g++) {
    s->counts[g] = (eqg_index)n;
    double eta_j = -2 + 4 * gsl_rng_uniform(r), phi_j = PI * (2 * gsl_rng_uniform(r) - 1);
    for (size_t c = 0; c < n; c++) {
      size_t i = g * n + c;
      double pt = gsl_ran_exponential(r, 20.0);
      double eta = eta_j + gsl_ran_gaussian(r, 0.1), phi = phi_j + gsl_ran_gaussian(r, 0.1);
      double px = pt * cos(phi), py = pt * sin(phi), pz = pt * sinh(eta);
      double m = PION_MASS;
      s->x[4 * i + 0] = sqrt(m * m + px * px + py * py + pz * pz);
      s->x[4 * i + 1] = px;
      s->x[4 * i + 2] = py;
      s->x[4 * i + 3] = pz;
      s->q[i] = m;
    }
  }
  return EQG_OK;
}

/* Jets from a top-tagging HDF5 file: G jets drawn without replacement (all of
 * them if the file has fewer), the leading min(Nobj, cap) constituents each. */
static eqg_status load_jets(cloud_set *s, const char *path, size_t G, size_t cap, gsl_rng *r)
{
  hid_t f = -1, dn = -1, dp = -1, sn = -1, sp = -1, mem = -1;
  long *nobj = NULL;
  size_t *ids = NULL;
  eqg_status st = eqg_h5_open(path, false, &f);
  if (st != EQG_OK) return eqg_error_prefix(st, "--data: ");
  const char *missing = !eqg_h5_exists(f, "Nobj") ? "Nobj" : !eqg_h5_exists(f, "Pmu") ? "Pmu" : NULL;
  if (missing) {
    st = eqg_error_set(EQG_EFORMAT, "--data %s: no dataset '%s' (expected the top-tagging "
                       "layout: Nobj[N] constituent counts and Pmu[N, P, 4] four-momenta)",
                       path, missing);
    goto done;
  }
  dn = H5Dopen2(f, "Nobj", H5P_DEFAULT);
  dp = H5Dopen2(f, "Pmu", H5P_DEFAULT);
  sn = dn >= 0 ? H5Dget_space(dn) : -1;
  sp = dp >= 0 ? H5Dget_space(dp) : -1;
  hsize_t dnn[1], dpp[3];
  if (sn < 0 || sp < 0 || H5Sget_simple_extent_ndims(sn) != 1 ||
      H5Sget_simple_extent_ndims(sp) != 3) {
    st = eqg_error_set(EQG_EFORMAT, "--data %s: Nobj must be a vector and Pmu a [N, P, 4] "
                       "array", path);
    goto done;
  }
  H5Sget_simple_extent_dims(sn, dnn, NULL);
  H5Sget_simple_extent_dims(sp, dpp, NULL);
  if (dpp[0] != dnn[0] || dpp[2] != 4 || dnn[0] == 0) {
    st = eqg_error_set(EQG_EFORMAT, "--data %s: Nobj has %llu entries and Pmu is [%llu, %llu, "
                       "%llu]; expected Nobj[N], Pmu[N, P, 4] with N > 0", path,
                       (unsigned long long)dnn[0], (unsigned long long)dpp[0],
                       (unsigned long long)dpp[1], (unsigned long long)dpp[2]);
    goto done;
  }
  const size_t N = (size_t)dnn[0], P = (size_t)dpp[1];
  nobj = malloc(N * sizeof *nobj);
  if (!nobj) {
    st = eqg_error_set(EQG_ENOMEM, "--data: out of memory");
    goto done;
  }
  if (H5Dread(dn, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, nobj) < 0) {
    st = eqg_error_set(EQG_EFORMAT, "--data %s: cannot read Nobj as integers", path);
    goto done;
  }
  if (G > N) G = N;
  /* selection sampling (Knuth's algorithm S): G of N in file order */
  ids = malloc(G * sizeof *ids);
  if (!ids) {
    st = eqg_error_set(EQG_ENOMEM, "--data: out of memory");
    goto done;
  }
  size_t chosen = 0, total = 0;
  for (size_t i = 0; i < N && chosen < G; i++)
    if ((double)(N - i) * gsl_rng_uniform(r) < (double)(G - chosen)) ids[chosen++] = i;
  for (size_t k = 0; k < G; k++) {
    long c = nobj[ids[k]];
    if (c < 0 || (size_t)c > P) {
      st = eqg_error_set(EQG_EFORMAT, "--data %s: Nobj[%zu] = %ld outside [0, %zu]", path,
                         ids[k], c, P);
      goto done;
    }
    total += (size_t)c < cap ? (size_t)c : cap;
  }
  if ((st = cloud_alloc(s, CLOUD_JET, G, total)) != EQG_OK) goto done;
  size_t row = 0;
  for (size_t k = 0; k < G; k++) {
    size_t n = (size_t)nobj[ids[k]] < cap ? (size_t)nobj[ids[k]] : cap;
    s->counts[k] = (eqg_index)n;
    if (n == 0) continue;
    hsize_t start[3] = { ids[k], 0, 0 }, count[3] = { 1, n, 4 }, mdim[1] = { n * 4 };
    mem = H5Screate_simple(1, mdim, NULL);
    if (mem < 0 || H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(dp, H5T_NATIVE_DOUBLE, mem, sp, H5P_DEFAULT, s->x + 4 * row) < 0) {
      st = eqg_error_set(EQG_EFORMAT, "--data %s: cannot read Pmu[%zu] as numbers", path, ids[k]);
      goto done;
    }
    H5Sclose(mem);
    mem = -1;
    for (size_t i = row; i < row + n; i++) {
      const eqg_real *p = s->x + 4 * i;
      for (size_t c = 0; c < 4; c++)
        if (!isfinite(p[c])) {
          st = eqg_error_set(EQG_ENONFINITE, "--data %s: Pmu[%zu, %zu] is not finite", path,
                             ids[k], i - row);
          goto done;
        }
      double m2 = p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3];
      s->q[i] = m2 > 0 ? sqrt(m2) : 0;
    }
    row += n;
  }
done:
  if (st != EQG_OK) cloud_free(s);
  free(nobj);
  free(ids);
  if (mem >= 0) H5Sclose(mem);
  if (sn >= 0) H5Sclose(sn);
  if (sp >= 0) H5Sclose(sp);
  if (dn >= 0) H5Dclose(dn);
  if (dp >= 0) H5Dclose(dp);
  eqg_h5_close(f);
  return st;
}

/* LorentzNet's beams, psi([0, 1]) as their scalars. */
enum { N_BEAMS = 2 };

/* The batch a model sees: node scalars (first n_in of nbody [|v_i|, q_i],
 * jet [psi(m_i), beam flag]), edge attributes (first A of nbody
 * [q_i q_j, |x_i - x_j|^2]; none for jets), fully connected; with `beams`,
 * the two beam nodes are prepended to every jet. */
static eqg_status make_batch(eqg_graph_batch **out, const cloud_set *s,
                             const eqg_model_config *c, bool beams)
{
  *out = NULL;
  const size_t D = s->dim, S = c->n_in, A = c->layer.n_edge_attr, G = s->n_graphs;
  const size_t K = beams ? N_BEAMS : 0, N = s->n_nodes + K * G;
  if (c->layer.dim != D)
    return eqg_error_set(EQG_EINVAL, "model on %zu-vectors given %s clouds of %zu-vectors",
                         c->layer.dim, cloud_names[s->kind], D);
  if (S > 2) return eqg_error_set(EQG_EINVAL, "model wants %zu node scalars; the %s inputs "
                                  "provide 2", S, cloud_names[s->kind]);
  if ((s->kind == CLOUD_NBODY && (A > 2 || beams)) || (s->kind == CLOUD_JET && A > 0))
    return eqg_error_set(EQG_EINVAL, "model wants %zu edge attributes; the %s inputs provide %d",
                         A, cloud_names[s->kind], s->kind == CLOUD_NBODY ? 2 : 0);
  if (c->with_v && !s->v)
    return eqg_error_set(EQG_EINVAL, "model wants velocities; %s inputs have none",
                         cloud_names[s->kind]);
  eqg_status st = EQG_OK;
  eqg_graph_batch *b = eqg_graph_batch_alloc(D, S, c->with_v);
  eqg_index *counts = malloc((G ? G : 1) * sizeof *counts);
  eqg_real *x = calloc(N ? N * D : 1, sizeof *x), *v = calloc(N ? N * D : 1, sizeof *v);
  eqg_real *h = calloc(N && S ? N * S : 1, sizeof *h);
  if (!b || !counts || !x || !v || !h) {
    st = eqg_error_set(EQG_ENOMEM, "batch: out of memory");
    goto done;
  }
  size_t src = 0, dst = 0;
  for (size_t g = 0; g < G; g++) {
    counts[g] = s->counts[g] + (eqg_index)K;
    for (size_t k = 0; k < K; k++, dst++) {
      memcpy(x + dst * D, eqg_beam_nodes_x + 4 * k, 4 * sizeof *x);
      if (S > 1) h[dst * S + 1] = psi(1.0);
    }
    for (eqg_index i = 0; i < s->counts[g]; i++, src++, dst++) {
      memcpy(x + dst * D, s->x + src * D, D * sizeof *x);
      if (s->v) memcpy(v + dst * D, s->v + src * D, D * sizeof *v);
      if (s->kind == CLOUD_NBODY) {
        const eqg_real *vi = s->v + src * D;
        if (S > 0) h[dst * S] = sqrt(vi[0] * vi[0] + vi[1] * vi[1] + vi[2] * vi[2]);
        if (S > 1) h[dst * S + 1] = s->q[src];
      } else if (S > 0) {
        h[dst * S] = psi(s->q[src]);
      }
    }
  }
  if ((st = eqg_graph_batch_set_nodes(b, G, counts, x, c->with_v ? v : NULL, S ? h : NULL)) ||
      (st = eqg_graph_batch_connect_full(b)) ||
      (A && (st = eqg_graph_batch_set_edge_attr_width(b, A))))
    goto done;
  /* edge attributes from the untransformed cloud (nbody only: no beams, so
   * batch rows and cloud rows coincide) */
  for (size_t e = 0; A && e < b->n_edges; e++) {
    size_t i = (size_t)b->dst[e], j = (size_t)b->src[e];
    b->edge_attr[e * A] = s->q[i] * s->q[j];
    if (A > 1) {
      double d2 = 0;
      for (size_t k = 0; k < D; k++) {
        double d = s->x[i * D + k] - s->x[j * D + k];
        d2 += d * d;
      }
      b->edge_attr[e * A + 1] = d2;
    }
  }
  st = eqg_graph_batch_validate(b);
done:
  free(counts);
  free(x);
  free(v);
  free(h);
  if (st != EQG_OK) {
    eqg_graph_batch_free(b);
    return eqg_error_prefix(st, "inputs: ");
  }
  *out = b;
  return EQG_OK;
}

/* ---- models -------------------------------------------------------------------------- */

typedef struct model_entry {
  char label[64];               /* "egnn/jet", or the preset name */
  const eqg_layer_type *family;
  cloud_kind cloud;
  eqg_model *graph;             /* invariant output (G, n_out), or NULL */
  eqg_model *node;              /* equivariant output (N, D), or NULL */
  const eqg_layer_config *layer;/* for claims */
  bool beams;                   /* sweep with LorentzNet's beam nodes */
} model_entry;

static bool is_lorentz_group(const eqg_group_type *g) { return g->dim == 4; }

/* Family model on `cloud` clouds: nbody -> the egnn_nbody preset's inputs and
 * settings with `f` swapped in; jets -> lgeb: the lorentznet preset, others a
 * neutral model with LorentzNet's two scalars fed to every block. */
static eqg_model_config family_config(const eqg_layer_type *f, cloud_kind cloud,
                                      eqg_model_task task, size_t width, size_t depth)
{
  eqg_model_config c;
  if (cloud == CLOUD_NBODY) {
    eqg_model_config_preset(&c, "egnn_nbody");
    c.family = f;
  } else if (f == &eqg_layer_lgeb) {
    eqg_model_config_preset(&c, "lorentznet");
  } else {
    c = eqg_model_config_default(f, 4, width, depth, task);
    c.n_in = 2;
    c.scalars_to_blocks = true;
    /* the published EGNN: four-vectors as points of R^4 (egnn_top) */
    if (f == &eqg_layer_egnn) c.layer.metric = EQG_METRIC_EUCLIDEAN;
  }
  c.layer.width = width;
  c.depth = depth;
  c.task = task;
  c.n_out = 2;   /* graph task: two outputs (LorentzNet's logits); node task ignores it */
  if (f->coords_out == EQG_COORDS_VEC && c.layer.n_vec == 0) c.layer.n_vec = 4;
  return c;
}

static eqg_model *build_model(const eqg_model_config *c, unsigned long seed, const char *label)
{
  gsl_rng *r = rng_for(seed, "model", label);
  if (!r) {
    eqg_error_set(EQG_ENOMEM, "out of memory");
    return NULL;
  }
  eqg_model *m = eqg_model_alloc(c, r);
  gsl_rng_free(r);
  return m;
}

static bool builds(const eqg_layer_type *f, cloud_kind cloud, const options *o)
{
  eqg_model_config c = family_config(f, cloud, EQG_TASK_GRAPH, o->width, o->depth);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_model *m = r ? eqg_model_alloc(&c, r) : NULL;
  gsl_rng_free(r);
  eqg_model_free(m);
  return m != NULL;
}

static bool claims_boosts(const eqg_layer_type *f, const options *o)
{
  eqg_model_config c = family_config(f, CLOUD_JET, EQG_TASK_GRAPH, o->width, o->depth);
  return f->claims(&c.layer, &eqg_group_boost) || f->claims(&c.layer, &eqg_group_lorentz);
}

/* Add the family's models (graph task and, for families that keep
 * coordinates, node task) on the clouds it is meant for. */
static eqg_status add_family(model_entry *list, size_t *n, const eqg_layer_type *f,
                             const options *o)
{
  bool nb = builds(f, CLOUD_NBODY, o), jt = builds(f, CLOUD_JET, o);
  bool lorentz = jt && claims_boosts(f, o);
  bool on_nbody = nb && !lorentz;
  bool on_jet = lorentz || (jt && f == &eqg_layer_egnn) || (!on_nbody && jt);
  if (!on_nbody && !on_jet) {
    char why[512];
    snprintf(why, sizeof why, "%s", eqg_error_message());
    return eqg_error_set(EQG_EINVAL, "family %s builds on neither clouds (%s)", f->name, why);
  }
  for (int k = 0; k < CLOUD_KIND_COUNT; k++) {
    if (!(k == CLOUD_NBODY ? on_nbody : on_jet)) continue;
    if (*n == MAX_MODELS) return eqg_error_set(EQG_EINVAL, "too many models");
    model_entry *e = &list[(*n)++];
    *e = (model_entry){ .family = f, .cloud = (cloud_kind)k, .beams = f == &eqg_layer_lgeb };
    snprintf(e->label, sizeof e->label, "%s/%s", f->name, cloud_names[k]);
    eqg_model_config cg = family_config(f, e->cloud, EQG_TASK_GRAPH, o->width, o->depth);
    if (!(e->graph = build_model(&cg, o->seed, e->label)))
      return eqg_error_prefix(EQG_EINVAL, "%s: ", e->label);
    if (f->coords_out != EQG_COORDS_NONE) {
      eqg_model_config cn = family_config(f, e->cloud, EQG_TASK_NODE_X, o->width, o->depth);
      if (!(e->node = build_model(&cn, o->seed, e->label)))
        return eqg_error_prefix(EQG_EINVAL, "%s: ", e->label);
    }
    e->layer = &e->graph->cfg.layer;
  }
  return EQG_OK;
}

/* --model-config [--checkpoint]: one model, its own task only. */
static eqg_status add_preset(model_entry *list, size_t *n, const options *o)
{
  eqg_model_config c;
  eqg_status st = eqg_model_config_preset(&c, o->model_config);
  if (st != EQG_OK) return st;
  model_entry *e = &list[(*n)++];
  *e = (model_entry){ .family = c.family, .cloud = c.layer.dim == 4 ? CLOUD_JET : CLOUD_NBODY,
                      .beams = c.family == &eqg_layer_lgeb };
  snprintf(e->label, sizeof e->label, "%s", o->model_config);
  eqg_model *m = build_model(&c, o->seed, e->label);
  if (!m) return eqg_error_prefix(EQG_EINVAL, "%s: ", e->label);
  if (c.task == EQG_TASK_GRAPH) e->graph = m;
  else if (c.family->coords_out != EQG_COORDS_NONE) e->node = m;
  else {
    eqg_model_free(m);
    return eqg_error_set(EQG_EINVAL, "%s: its output (a decoder of h) is neither invariant nor "
                         "equivariant; nothing to measure", e->label);
  }
  e->layer = &m->cfg.layer;
  if (o->checkpoint) {
    eqg_checkpoint_meta meta;
    if ((st = eqg_checkpoint_load(o->checkpoint, m->params, NULL, &meta)) != EQG_OK)
      return eqg_error_prefix(st, "--checkpoint: ");
    fprintf(stderr, "equivariance: loaded %s (model %s, step %ld, written by %s)\n",
            o->checkpoint, meta.model_type[0] ? meta.model_type : "?", meta.step,
            meta.program[0] ? meta.program : "?");
  }
  return EQG_OK;
}

/* ---- evaluation ---------------------------------------------------------------------- */

typedef struct evaluator {
  eqg_tape *tape;
  eqg_real *y0g, *y0n, *yg, *yn, *yref;   /* outputs: graph (G, n_out), node (N, D) */
  size_t cap;
} evaluator;

static eqg_status forward(evaluator *ev, eqg_model *m, const eqg_graph_batch *b, eqg_real *out,
                          size_t *n)
{
  eqg_tape_reset(ev->tape);
  ev->tape->training = false;
  ev->tape->grad_enabled = false;
  eqg_tensor *y = eqg_model_forward(ev->tape, m, b);
  if (!y) {
    eqg_status st = eqg_tape_status(ev->tape);
    return eqg_error_prefix(st != EQG_OK ? st : EQG_EINVAL, "forward: ");
  }
  *n = eqg_tensor_size(y);
  if (*n > ev->cap) return eqg_error_set(EQG_ESHAPE, "forward: output larger than expected");
  memcpy(out, y->data, *n * sizeof *out);
  return EQG_OK;
}

static eqg_status evaluator_init(evaluator *ev, size_t cap)
{
  *ev = (evaluator){ .cap = cap };
  ev->tape = eqg_tape_alloc(1 << 22, NULL);
  ev->y0g = malloc(cap * sizeof(eqg_real));
  ev->y0n = malloc(cap * sizeof(eqg_real));
  ev->yg = malloc(cap * sizeof(eqg_real));
  ev->yn = malloc(cap * sizeof(eqg_real));
  ev->yref = malloc(cap * sizeof(eqg_real));
  if (!ev->tape || !ev->y0g || !ev->y0n || !ev->yg || !ev->yn || !ev->yref)
    return eqg_error_set(EQG_ENOMEM, "evaluator: out of memory");
  return EQG_OK;
}

static void evaluator_free(evaluator *ev)
{
  eqg_tape_free(ev->tape);
  free(ev->y0g);
  free(ev->y0n);
  free(ev->yg);
  free(ev->yn);
  free(ev->yref);
}

/* A group element for D-vectors: the sample itself, or diag(1, R) for a 3-D
 * sample acting on four-vectors. */
static void sample_elem(const eqg_group *grp, size_t D, gsl_rng *r, eqg_group_elem *e)
{
  eqg_group_elem s;
  eqg_group_sample(grp, r, &s);
  if (s.dim == D) {
    *e = s;
    return;
  }
  eqg_group_elem_identity(e, 4);
  eqg_lorentz_embed_rotation(e->M, s.M);
}

static bool group_fits(const eqg_group_type *g, size_t D)
{
  return g->dim == D || (D == 4 && g->dim == 3 && g->gen_dim == g->dim);
}

/* Per-graph errors of y against ref: graph rows (cols = n_out), or node rows
 * of graph g after its first `skip` nodes (cols = D). */
static void graph_errors(const eqg_graph_batch *b, bool nodes, size_t skip, const eqg_real *y,
                         const eqg_real *ref, size_t cols, double *err)
{
  for (size_t g = 0; g < b->n_graphs; g++) {
    size_t first = nodes ? (size_t)b->offsets[g] + skip : g;
    size_t rows = nodes ? (size_t)b->counts[g] - skip : 1;
    err[g] = rel_err(y + first * cols, ref + first * cols, rows * cols);
  }
}

typedef enum status_kind { STATUS_NONE, STATUS_PASS, STATUS_FAIL } status_kind;
static const char *const status_names[] = { "--", "PASS", "FAIL" };

typedef struct row {
  size_t model;
  const eqg_group_type *group;
  bool claims;
  size_t n;               /* errors per output: K * M */
  double inv[3], eq[3];   /* median, p95, max; NaN if not measured */
  double tol;
  status_kind status;
} row;

/* All (model, group) rows.  so3 errors of every sample go to so3_csv. */
static eqg_status run_table(const options *o, model_entry *models, size_t n_models,
                            const cloud_set *sets, const eqg_group_type *const *groups,
                            size_t n_groups, row *rows, size_t *n_rows, eqg_cli_csv *so3_csv,
                            eqg_cli_progress *pb, size_t *done)
{
  eqg_status st = EQG_OK;
  const size_t K = o->samples;
  double *inv = NULL, *eq = NULL;
  eqg_graph_batch *b = NULL;
  eqg_real *x0 = NULL, *v0 = NULL;
  evaluator ev = { 0 };
  *n_rows = 0;
  for (size_t mi = 0; mi < n_models; mi++) {
    model_entry *me = &models[mi];
    const cloud_set *s = &sets[me->cloud];
    const size_t D = s->dim, M = s->n_graphs;
    const eqg_model_config *cfg = me->graph ? &me->graph->cfg : &me->node->cfg;
    if ((st = make_batch(&b, s, cfg, false)) != EQG_OK) goto done;
    const size_t N = b->n_nodes, n_out = me->graph ? me->graph->cfg.n_out : 0;
    size_t cap = N * D > M * n_out ? N * D : M * n_out;
    if ((st = evaluator_init(&ev, cap ? cap : 1)) != EQG_OK) goto done;
    x0 = malloc(N * D * sizeof *x0 + 1);
    v0 = malloc(N * D * sizeof *v0 + 1);
    inv = malloc(K * M * sizeof *inv + 1);
    eq = malloc(K * M * sizeof *eq + 1);
    if (!x0 || !v0 || !inv || !eq) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(x0, b->x, N * D * sizeof *x0);
    if (b->has_v) memcpy(v0, b->v, N * D * sizeof *v0);
    size_t ny;
    if ((me->graph && (st = forward(&ev, me->graph, b, ev.y0g, &ny)) != EQG_OK) ||
        (me->node && (st = forward(&ev, me->node, b, ev.y0n, &ny)) != EQG_OK)) {
      eqg_error_prefix(st, "%s: ", me->label);
      goto done;
    }
    const eqg_vector_kind xk = me->cloud == CLOUD_NBODY ? EQG_VECTOR_POSITION
                                                        : EQG_VECTOR_DISPLACEMENT;
    for (size_t gi = 0; gi < n_groups; gi++) {
      const eqg_group_type *gt = groups[gi];
      if (!group_fits(gt, D)) continue;
      row *rw = &rows[(*n_rows)++];
      *rw = (row){ .model = mi, .group = gt, .claims = me->family->claims(me->layer, gt),
                   .n = K * M };
      eqg_group_params gp = eqg_group_params_default();
      gp.rapidity = o->max_rapidity;
      eqg_group *grp = eqg_group_alloc(gt, &gp);
      gsl_rng *r = rng_for(o->seed, me->label, gt->name);
      if (!grp || !r) {
        eqg_group_free(grp);
        gsl_rng_free(r);
        st = eqg_error_prefix(EQG_ENOMEM, "group %s: ", gt->name);
        goto done;
      }
      for (size_t k = 0; k < K && st == EQG_OK; k++) {
        eqg_group_elem e;
        sample_elem(grp, D, r, &e);
        eqg_group_act(b->x, &e, x0, N, xk);
        if (b->has_v) eqg_group_act(b->v, &e, v0, N, EQG_VECTOR_DISPLACEMENT);
        if (me->graph) {
          if ((st = forward(&ev, me->graph, b, ev.yg, &ny)) != EQG_OK) break;
          graph_errors(b, false, 0, ev.yg, ev.y0g, n_out, inv + k * M);
        }
        if (me->node) {
          if ((st = forward(&ev, me->node, b, ev.yn, &ny)) != EQG_OK) break;
          eqg_group_act(ev.yref, &e, ev.y0n, N, xk);
          graph_errors(b, true, 0, ev.yn, ev.yref, D, eq + k * M);
        }
        if (so3_csv && gt == &eqg_group_so3)
          for (size_t g = 0; g < M && st == EQG_OK; g++)
            st = eqg_cli_csv_row(so3_csv, "%zu,%s,%zu,%zu,%.17g,%.17g", mi, me->label, k, g,
                                 me->graph ? inv[k * M + g] : NAN,
                                 me->node ? eq[k * M + g] : NAN);
        eqg_cli_progress_update(pb, ++*done, "%-12s %s", me->label, gt->name);
      }
      eqg_group_free(grp);
      gsl_rng_free(r);
      if (st != EQG_OK) {
        eqg_error_prefix(st, "%s under %s: ", me->label, gt->name);
        goto done;
      }
      memcpy(b->x, x0, N * D * sizeof *x0);
      if (b->has_v) memcpy(b->v, v0, N * D * sizeof *v0);
      stats3(inv, me->graph ? K * M : 0, rw->inv);
      stats3(eq, me->node ? K * M : 0, rw->eq);
      if (is_lorentz_group(gt)) {
        double gmax = cosh(o->max_rapidity) / 10;
        rw->tol = TOL_BOOST * (gmax > 1 ? gmax * gmax : 1);
      } else {
        rw->tol = TOL_EUCLIDEAN;
      }
      if (rw->claims) {
        double worst = fmax(me->graph ? rw->inv[2] : 0, me->node ? rw->eq[2] : 0);
        rw->status = worst <= rw->tol ? STATUS_PASS : STATUS_FAIL;
      }
    }
    eqg_graph_batch_free(b);
    b = NULL;
    evaluator_free(&ev);
    ev = (evaluator){ 0 };
    free(x0);
    free(v0);
    free(inv);
    free(eq);
    x0 = v0 = NULL;
    inv = eq = NULL;
  }
done:
  eqg_graph_batch_free(b);
  evaluator_free(&ev);
  free(x0);
  free(v0);
  free(inv);
  free(eq);
  return st;
}

/* ---- rapidity sweep --------------------------------------------------------------------- */

typedef enum beam_mode { BEAMS_NONE, BEAMS_BOOSTED, BEAMS_FIXED, BEAM_MODE_COUNT } beam_mode;
static const char *const beam_names[BEAM_MODE_COUNT] = { "none", "boosted", "fixed" };

typedef struct curve {
  char name[96];
  size_t model;
  beam_mode beams;
  double *inv_med, *inv_max, *eq_med, *eq_max;   /* (n_eta) */
} curve;

/* Unit boost direction for graph g of set s. */
static void boost_direction(const cloud_set *s, boost_axis axis, size_t first, size_t count,
                            double n[3])
{
  n[0] = n[1] = n[2] = 0;
  if (axis != AXIS_JET) {
    n[axis] = 1;
    return;
  }
  for (size_t i = first; i < first + count; i++)
    for (size_t k = 0; k < 3; k++) n[k] += s->x[4 * i + 1 + k];
  double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(len > 0)) {
    n[0] = 1;
    n[1] = n[2] = 0;
    return;
  }
  for (size_t k = 0; k < 3; k++) n[k] /= len;
}

static eqg_status run_sweep(const options *o, const model_entry *models, const cloud_set *jets,
                            curve *curves, size_t n_curves, const double *eta, size_t n_eta,
                            eqg_cli_progress *pb, size_t *done)
{
  eqg_status st = EQG_OK;
  const size_t G = jets->n_graphs;
  double *ei = malloc((G ? G : 1) * sizeof *ei), *ee = malloc((G ? G : 1) * sizeof *ee);
  eqg_group_elem *elems = malloc((G ? G : 1) * sizeof *elems);
  eqg_real *x0 = NULL;
  eqg_graph_batch *b = NULL;
  evaluator ev = { 0 };
  if (!ei || !ee || !elems) {
    st = eqg_error_set(EQG_ENOMEM, "sweep: out of memory");
    goto done;
  }
  for (size_t ci = 0; ci < n_curves; ci++) {
    curve *cv = &curves[ci];
    const model_entry *me = &models[cv->model];
    const eqg_model_config *cfg = me->graph ? &me->graph->cfg : &me->node->cfg;
    if ((st = make_batch(&b, jets, cfg, cv->beams != BEAMS_NONE)) != EQG_OK) goto done;
    const size_t N = b->n_nodes, n_out = me->graph ? me->graph->cfg.n_out : 0;
    const size_t skip = cv->beams == BEAMS_FIXED ? N_BEAMS : 0;
    size_t cap = N * 4 > G * n_out ? N * 4 : G * n_out;
    if ((st = evaluator_init(&ev, cap ? cap : 1)) != EQG_OK) goto done;
    free(x0);
    x0 = malloc(N * 4 * sizeof *x0 + 1);
    if (!x0) {
      st = eqg_error_set(EQG_ENOMEM, "sweep: out of memory");
      goto done;
    }
    memcpy(x0, b->x, N * 4 * sizeof *x0);
    size_t ny;
    if ((me->graph && (st = forward(&ev, me->graph, b, ev.y0g, &ny)) != EQG_OK) ||
        (me->node && (st = forward(&ev, me->node, b, ev.y0n, &ny)) != EQG_OK))
      goto done;
    for (size_t k = 0; k < n_eta; k++) {
      size_t src = 0;
      for (size_t g = 0; g < G; g++) {
        double n[3];
        boost_direction(jets, o->axis, src, (size_t)jets->counts[g], n);
        src += (size_t)jets->counts[g];
        eqg_group_elem_identity(&elems[g], 4);
        if (eta[k] != 0 && (st = eqg_boost_matrix(elems[g].M, n, eta[k])) != EQG_OK) goto done;
        size_t first = (size_t)b->offsets[g] + skip, rows = (size_t)b->counts[g] - skip;
        if (rows) eqg_group_act(b->x + first * 4, &elems[g], x0 + first * 4, rows,
                                EQG_VECTOR_DISPLACEMENT);
      }
      if (me->graph) {
        if ((st = forward(&ev, me->graph, b, ev.yg, &ny)) != EQG_OK) goto done;
        graph_errors(b, false, 0, ev.yg, ev.y0g, n_out, ei);
      }
      if (me->node) {
        if ((st = forward(&ev, me->node, b, ev.yn, &ny)) != EQG_OK) goto done;
        for (size_t g = 0; g < G; g++) {
          size_t first = (size_t)b->offsets[g], rows = (size_t)b->counts[g];
          if (rows) eqg_group_act(ev.yref + first * 4, &elems[g], ev.y0n + first * 4, rows,
                                  EQG_VECTOR_DISPLACEMENT);
        }
        graph_errors(b, true, skip, ev.yn, ev.yref, 4, ee);
      }
      double s3[3];
      stats3(ei, me->graph ? G : 0, s3);
      cv->inv_med[k] = s3[0];
      cv->inv_max[k] = s3[2];
      stats3(ee, me->node ? G : 0, s3);
      cv->eq_med[k] = s3[0];
      cv->eq_max[k] = s3[2];
      eqg_cli_progress_update(pb, ++*done, "sweep %-24s eta %.1f", cv->name, eta[k]);
    }
    eqg_graph_batch_free(b);
    b = NULL;
    evaluator_free(&ev);
    ev = (evaluator){ 0 };
  }
done:
  if (st != EQG_OK && n_curves) eqg_error_prefix(st, "sweep: ");
  free(ei);
  free(ee);
  free(elems);
  free(x0);
  eqg_graph_batch_free(b);
  evaluator_free(&ev);
  return st;
}

/* ---- output ------------------------------------------------------------------------------ */

static eqg_status h5_write_strings(hid_t loc, const char *name, const char *const *s, size_t n)
{
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    if (strlen(s[i]) + 1 > len) len = strlen(s[i]) + 1;
  char *buf = calloc(n ? n : 1, len);
  if (!buf) return eqg_error_set(EQG_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) memcpy(buf + i * len, s[i], strlen(s[i]));
  hsize_t dims[1] = { n };
  hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate_simple(1, dims, NULL), d = -1;
  herr_t w = -1;
  if (type >= 0 && space >= 0 && H5Tset_size(type, len) >= 0 &&
      H5Tset_strpad(type, H5T_STR_NULLTERM) >= 0 &&
      (d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
    w = n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
  if (d >= 0) H5Dclose(d);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  free(buf);
  return w < 0 ? eqg_error_set(EQG_EIO, "writing dataset '%s'", name) : EQG_OK;
}

static eqg_status h5_write_ints(hid_t loc, const char *name, const long *v, size_t n)
{
  hsize_t dims[1] = { n };
  hid_t space = H5Screate_simple(1, dims, NULL), d = -1;
  herr_t w = -1;
  if (space >= 0 && (d = H5Dcreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT)) >= 0)
    w = n ? H5Dwrite(d, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
  if (d >= 0) H5Dclose(d);
  if (space >= 0) H5Sclose(space);
  return w < 0 ? eqg_error_set(EQG_EIO, "writing dataset '%s'", name) : EQG_OK;
}

static eqg_status h5_write_doubles(hid_t loc, const char *name, const double *v, size_t n)
{
  hsize_t dims[1] = { n };
  hid_t space = H5Screate_simple(1, dims, NULL), d = -1;
  herr_t w = -1;
  if (space >= 0 && (d = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT)) >= 0)
    w = n ? H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
  if (d >= 0) H5Dclose(d);
  if (space >= 0) H5Sclose(space);
  return w < 0 ? eqg_error_set(EQG_EIO, "writing dataset '%s'", name) : EQG_OK;
}

typedef struct results {
  const options *o;
  const eqg_cli_provenance *pv;
  const model_entry *models;
  size_t n_models;
  const row *rows;
  size_t n_rows;
  const curve *curves;
  size_t n_curves;
  const double *eta;
  size_t n_eta;
  size_t n_inputs[CLOUD_KIND_COUNT], sweep_jets;
} results;

static eqg_status write_h5(const char *path, const results *R)
{
  hid_t f = -1, g = -1;
  char *tmp = NULL;
  eqg_status st = eqg_h5_create_tmp(path, &f, &tmp);
  if (st != EQG_OK) return st;
  const size_t nr = R->n_rows, nm = R->n_models, nc = R->n_curves, ne = R->n_eta;
  const char **s1 = calloc(nr + nm + nc + 1, sizeof *s1), **s2 = calloc(nr + nm + nc + 1,
                                                                          sizeof *s2);
  long *iv = calloc(nr + nm + 1, sizeof *iv);
  double *dv = calloc(nr + ne * (nc + 1) + 1, sizeof *dv);
  char (*desc)[1024] = calloc(nm + 1, sizeof *desc);
  if (!s1 || !s2 || !iv || !dv || !desc) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto fail;
  }
  if ((st = eqg_cli_provenance_write(f, R->pv)) ||
      (st = eqg_h5_write_attr_long(f, "samples", (long)R->o->samples)) ||
      (st = eqg_h5_write_attr_long(f, "inputs_nbody", (long)R->n_inputs[CLOUD_NBODY])) ||
      (st = eqg_h5_write_attr_long(f, "inputs_jet", (long)R->n_inputs[CLOUD_JET])) ||
      (st = eqg_h5_write_attr_double(f, "max_rapidity", R->o->max_rapidity)) ||
      (st = eqg_h5_write_attr_string(f, "jets", R->o->data ? R->o->data : "generated")) ||
      (st = eqg_h5_write_attr_string(f, "invariant_error", "|f(gx) - f(x)| / |f(x)| per graph, "
                                     "norm over the n_out graph outputs")) ||
      (st = eqg_h5_write_attr_string(f, "equivariant_error", "|F(gx) - g F(x)| / |g F(x)| per "
                                     "graph, norm over its nodes' D components")))
    goto fail;

  /* /models */
  if ((g = eqg_h5_group_create(f, "models")) < 0) {
    st = EQG_EIO;
    goto fail;
  }
  for (size_t i = 0; i < nm; i++) {
    const model_entry *me = &R->models[i];
    const eqg_model *m = me->graph ? me->graph : me->node;
    eqg_model_describe(m, desc[i], sizeof desc[i]);
    s1[i] = me->label;
    s2[i] = desc[i];
    iv[i] = (long)eqg_model_param_count(m);
  }
  if ((st = h5_write_strings(g, "model", s1, nm)) || (st = h5_write_strings(g, "config", s2, nm)) ||
      (st = h5_write_ints(g, "n_params", iv, nm)))
    goto fail;
  for (size_t i = 0; i < nm; i++) {
    s1[i] = R->models[i].family->name;
    s2[i] = cloud_names[R->models[i].cloud];
  }
  if ((st = h5_write_strings(g, "family", s1, nm)) || (st = h5_write_strings(g, "cloud", s2, nm)))
    goto fail;
  eqg_h5_close(g);

  /* /summary */
  if ((g = eqg_h5_group_create(f, "summary")) < 0) {
    st = EQG_EIO;
    goto fail;
  }
  for (size_t i = 0; i < nr; i++) {
    s1[i] = R->models[R->rows[i].model].label;
    s2[i] = R->rows[i].group->name;
  }
  if ((st = h5_write_strings(g, "model", s1, nr)) || (st = h5_write_strings(g, "group", s2, nr)))
    goto fail;
  for (size_t i = 0; i < nr; i++) {
    s1[i] = R->models[R->rows[i].model].family->name;
    s2[i] = status_names[R->rows[i].status];
  }
  if ((st = h5_write_strings(g, "family", s1, nr)) || (st = h5_write_strings(g, "status", s2, nr)))
    goto fail;
  for (size_t i = 0; i < nr; i++) s1[i] = cloud_names[R->models[R->rows[i].model].cloud];
  if ((st = h5_write_strings(g, "cloud", s1, nr))) goto fail;
  for (size_t i = 0; i < nr; i++) iv[i] = R->rows[i].claims;
  if ((st = h5_write_ints(g, "claims", iv, nr))) goto fail;
  for (size_t i = 0; i < nr; i++) iv[i] = (long)R->rows[i].n;
  if ((st = h5_write_ints(g, "n_errors", iv, nr))) goto fail;
  static const char *const stat_names[3] = { "median", "p95", "max" };
  for (int q = 0; q < 2; q++)
    for (int k = 0; k < 3; k++) {
      char name[32];
      snprintf(name, sizeof name, "%s_%s", q ? "eq" : "inv", stat_names[k]);
      for (size_t i = 0; i < nr; i++) dv[i] = q ? R->rows[i].eq[k] : R->rows[i].inv[k];
      if ((st = h5_write_doubles(g, name, dv, nr))) goto fail;
    }
  for (size_t i = 0; i < nr; i++) dv[i] = R->rows[i].tol;
  if ((st = h5_write_doubles(g, "tolerance", dv, nr))) goto fail;
  eqg_h5_close(g);

  /* /sweep */
  if ((g = eqg_h5_group_create(f, "sweep")) < 0) {
    st = EQG_EIO;
    goto fail;
  }
  if ((st = eqg_h5_write_attr_string(g, "axis", axis_names[R->o->axis])) ||
      (st = eqg_h5_write_attr_long(g, "jets", (long)R->sweep_jets)) ||
      (st = h5_write_doubles(g, "eta", R->eta, ne)))
    goto fail;
  for (size_t k = 0; k < ne; k++) dv[k] = cosh(R->eta[k]);
  if ((st = h5_write_doubles(g, "gamma", dv, ne))) goto fail;
  for (size_t i = 0; i < nc; i++) {
    s1[i] = R->curves[i].name;
    s2[i] = beam_names[R->curves[i].beams];
  }
  if ((st = h5_write_strings(g, "curve", s1, nc)) || (st = h5_write_strings(g, "beams", s2, nc)))
    goto fail;
  for (size_t i = 0; i < nc; i++) s1[i] = R->models[R->curves[i].model].label;
  if ((st = h5_write_strings(g, "model", s1, nc))) goto fail;
  if (nc && ne) {
    static const char *const names[4] = { "inv_median", "inv_max", "eq_median", "eq_max" };
    for (int q = 0; q < 4; q++) {
      for (size_t i = 0; i < nc; i++) {
        const curve *cv = &R->curves[i];
        const double *src = q == 0 ? cv->inv_med : q == 1 ? cv->inv_max : q == 2 ? cv->eq_med
                                                                                 : cv->eq_max;
        memcpy(dv + i * ne, src, ne * sizeof *dv);
      }
      if ((st = eqg_h5_write_matrix(g, names[q], dv, nc, ne))) goto fail;
    }
  }
  eqg_h5_close(g);
  g = -1;
  free(s1);
  free(s2);
  free(iv);
  free(dv);
  free(desc);
  return eqg_h5_commit(f, tmp, path);
fail:
  if (st == EQG_OK || st == EQG_EIO) st = eqg_error_prefix(EQG_EIO, "writing %s: ", path);
  eqg_h5_close(g);
  eqg_h5_discard(f, tmp);
  free(s1);
  free(s2);
  free(iv);
  free(dv);
  free(desc);
  return st;
}

static eqg_status write_summary_csv(const char *path, const results *R)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "model,family,cloud,group,claims,n_errors,inv_median,"
                                    "inv_p95,inv_max,eq_median,eq_p95,eq_max,tolerance,status");
  if (!c) return eqg_error_prefix(EQG_EIO, "%s: ", path);
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    const model_entry *me = &R->models[r->model];
    if (eqg_cli_csv_row(c, "%s,%s,%s,%s,%d,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.3g,%s",
                        me->label, me->family->name, cloud_names[me->cloud], r->group->name,
                        r->claims, r->n, r->inv[0], r->inv[1], r->inv[2], r->eq[0], r->eq[1],
                        r->eq[2], r->tol, status_names[r->status]) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  }
  return eqg_cli_csv_close(c);
}

static eqg_status write_sweep_csv(const char *path, const results *R)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "curve_index,curve,model,beams,eta,gamma,inv_median,"
                                    "inv_max,eq_median,eq_max");
  if (!c) return eqg_error_prefix(EQG_EIO, "%s: ", path);
  for (size_t i = 0; i < R->n_curves; i++) {
    const curve *cv = &R->curves[i];
    for (size_t k = 0; k < R->n_eta; k++)
      if (eqg_cli_csv_row(c, "%zu,%s,%s,%s,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", i, cv->name,
                          R->models[cv->model].label, beam_names[cv->beams], R->eta[k],
                          cosh(R->eta[k]), cv->inv_med[k], cv->inv_max[k], cv->eq_med[k],
                          cv->eq_max[k]) != EQG_OK) {
        eqg_cli_csv_discard(c);
        return EQG_EIO;
      }
  }
  return eqg_cli_csv_close(c);
}

/* "1.2e-15", or "n/a" for NaN, into buf. */
static const char *fmt_err(char *buf, size_t n, double v)
{
  if (isnan(v)) snprintf(buf, n, "n/a");
  else snprintf(buf, n, "%.1e", v);
  return buf;
}

static void print_table(const results *R)
{
  const options *o = R->o;
  printf("equivariance: %zu models, %zu (model, group) pairs; %zu group elements x %zu inputs "
         "each; seed %lu%s%s\n",
         R->n_models, R->n_rows, o->samples, o->inputs, o->seed,
         o->data ? "; jets from " : "", o->data ? o->data : "");
  printf("%-14s %-11s %-5s  %-26s  %-26s  %s\n", "", "", "", "invariant graph output",
         "equivariant node output", "");
  printf("%-14s %-11s %-5s  %8s %8s %8s  %8s %8s %8s  %s\n", "model", "group", "claim", "median",
         "p95", "max", "median", "p95", "max", "status");
  char b[6][16];
  for (size_t i = 0; i < R->n_rows; i++) {
    const row *r = &R->rows[i];
    printf("%-14s %-11s %-5s  %8s %8s %8s  %8s %8s %8s  %s\n", R->models[r->model].label,
           r->group->name, r->claims ? "yes" : "no", fmt_err(b[0], 16, r->inv[0]),
           fmt_err(b[1], 16, r->inv[1]), fmt_err(b[2], 16, r->inv[2]), fmt_err(b[3], 16, r->eq[0]),
           fmt_err(b[4], 16, r->eq[1]), fmt_err(b[5], 16, r->eq[2]), status_names[r->status]);
  }
  printf("tolerance: %.0e rotations/reflections/translations, %.0e boosts (gamma <= 10)\n",
         TOL_EUCLIDEAN, TOL_BOOST);
  if (!R->n_curves || !R->n_eta) return;
  /* five rapidities across the sweep */
  size_t cols[5], nc = 0;
  for (size_t k = 0; k < 5; k++) {
    size_t idx = (size_t)llround((double)k * (double)(R->n_eta - 1) / 4.0);
    if (nc == 0 || cols[nc - 1] != idx) cols[nc++] = idx;
  }
  printf("\nrapidity sweep: boost along %s, %zu jets; invariant graph output, max (median) "
         "over the jets\n", axis_names[o->axis], R->sweep_jets);
  printf("%-26s", "curve");
  for (size_t k = 0; k < nc; k++) {
    char h[32];
    snprintf(h, sizeof h, "eta %.1f (g %.3g)", R->eta[cols[k]], cosh(R->eta[cols[k]]));
    printf(" %-19s", h);
  }
  printf("\n");
  for (size_t i = 0; i < R->n_curves; i++) {
    const curve *cv = &R->curves[i];
    printf("%-26s", cv->name);
    for (size_t k = 0; k < nc; k++) {
      char a[16], m[16], cell[40];
      snprintf(cell, sizeof cell, "%s (%s)", fmt_err(a, 16, cv->inv_max[cols[k]]),
               fmt_err(m, 16, cv->inv_med[cols[k]]));
      printf(" %-19s", cell);
    }
    printf("\n");
  }
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* errors reach us as statuses */

  /* groups */
  const eqg_group_type *groups[MAX_GROUPS];
  size_t n_groups = 0;
  char listbuf[1024];
  char *tok[MAX_GROUPS];
  bool ok;
  snprintf(listbuf, sizeof listbuf, "%s", o.groups ? o.groups : default_groups);
  size_t nt = split_list(listbuf, tok, MAX_GROUPS, &ok);
  if (!ok)
    return eqg_cli_usage_error(PROG, "--groups: expected a comma-separated list of group names");
  for (size_t k = 0; k < nt; k++) {
    const eqg_group_type *g = eqg_group_type_find(tok[k]);
    if (!g) return eqg_cli_usage_error(PROG, "--groups: %s", eqg_error_message());
    for (size_t q = 0; q < n_groups; q++)
      if (groups[q] == g) g = NULL;
    if (g) groups[n_groups++] = g;
  }
  /* families */
  const eqg_layer_type *fams[MAX_MODELS];
  size_t n_fams = 0;
  if (!o.model_config) {
    if (o.models) {
      snprintf(listbuf, sizeof listbuf, "%s", o.models);
      nt = split_list(listbuf, tok, MAX_MODELS, &ok);
      if (!ok)
        return eqg_cli_usage_error(PROG, "--models: expected a comma-separated list of family "
                                   "names");
      for (size_t k = 0; k < nt; k++) {
        const eqg_layer_type *f = eqg_layer_type_find(tok[k]);
        if (!f) return eqg_cli_usage_error(PROG, "--models: %s", eqg_error_message());
        for (size_t q = 0; q < n_fams; q++)
          if (fams[q] == f) f = NULL;
        if (f) fams[n_fams++] = f;
      }
    } else {
      for (const eqg_layer_type *const *f = eqg_layer_types; *f && n_fams < MAX_MODELS; f++)
        fams[n_fams++] = *f;
    }
  }

  if (eqg_cli_set_threads(o.threads) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  eqg_cli_provenance pv;
  if (eqg_cli_provenance_init(&pv, argc, argv, o.seed) != EQG_OK) {
    fprintf(stderr, "equivariance: %s\n", eqg_error_message());
    return 1;
  }

  model_entry models[MAX_MODELS];
  size_t n_models = 0;
  cloud_set sets[CLOUD_KIND_COUNT] = { 0 }, sweep_jets = { 0 };
  row *rows = NULL;
  curve *curves = NULL;
  double *eta = NULL;
  size_t n_rows = 0, n_curves = 0, n_eta = 0;
  char *p_summary = eqg_cli_path_beside(o.out, "_summary.csv");
  char *p_sweep = eqg_cli_path_beside(o.out, "_sweep.csv");
  char *p_so3 = eqg_cli_path_beside(o.out, "_so3_samples.csv");
  eqg_cli_csv *so3_csv = NULL;
  eqg_status st = EQG_OK;
  rc = 1;
  memset(models, 0, sizeof models);
  if (!p_summary || !p_sweep || !p_so3) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }

  /* models */
  if (o.model_config) st = add_preset(models, &n_models, &o);
  for (size_t k = 0; k < n_fams && st == EQG_OK; k++) st = add_family(models, &n_models, fams[k], &o);
  if (st != EQG_OK) goto done;

  /* inputs: one stream per cloud kind (and one for the sweep's jets) */
  bool need[CLOUD_KIND_COUNT] = { false, false };
  for (size_t i = 0; i < n_models; i++) need[models[i].cloud] = true;
  for (int k = 0; k < CLOUD_KIND_COUNT && st == EQG_OK; k++) {
    if (!need[k]) continue;
    gsl_rng *r = rng_for(o.seed, "inputs", cloud_names[k]);
    if (!r) st = eqg_error_set(EQG_ENOMEM, "out of memory");
    else if (k == CLOUD_NBODY) st = gen_nbody(&sets[k], o.inputs, r);
    else if (o.data) st = load_jets(&sets[k], o.data, o.inputs, o.nodes, r);
    else st = gen_jets(&sets[k], o.inputs, o.nodes, r);
    gsl_rng_free(r);
  }
  if (st != EQG_OK) goto done;
  n_eta = (size_t)floor(o.sweep_max / o.sweep_step + 1e-9) + 1;
  if (need[CLOUD_JET]) {
    gsl_rng *r = rng_for(o.seed, "inputs", "sweep");
    if (!r) st = eqg_error_set(EQG_ENOMEM, "out of memory");
    else if (o.data) st = load_jets(&sweep_jets, o.data, o.sweep_inputs, o.nodes, r);
    else st = gen_jets(&sweep_jets, o.sweep_inputs, o.nodes, r);
    gsl_rng_free(r);
    if (st != EQG_OK) goto done;
  }

  /* table rows and sweep curves */
  rows = calloc(n_models * n_groups + 1, sizeof *rows);
  curves = calloc(2 * n_models + 1, sizeof *curves);
  eta = calloc(n_eta, sizeof *eta);
  if (!rows || !curves || !eta) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < n_eta; k++) eta[k] = (double)k * o.sweep_step;
  for (size_t i = 0; i < n_models; i++) {
    if (models[i].cloud != CLOUD_JET) continue;
    for (int bm = 0; bm < BEAM_MODE_COUNT; bm++) {
      if (models[i].beams ? bm == BEAMS_NONE : bm != BEAMS_NONE) continue;
      curve *cv = &curves[n_curves++];
      cv->model = i;
      cv->beams = (beam_mode)bm;
      if (bm == BEAMS_NONE) snprintf(cv->name, sizeof cv->name, "%.63s", models[i].label);
      else snprintf(cv->name, sizeof cv->name, "%.63s+beams_%s", models[i].label,
                    beam_names[bm]);
      cv->inv_med = calloc(n_eta, sizeof(double));
      cv->inv_max = calloc(n_eta, sizeof(double));
      cv->eq_med = calloc(n_eta, sizeof(double));
      cv->eq_max = calloc(n_eta, sizeof(double));
      if (!cv->inv_med || !cv->inv_max || !cv->eq_med || !cv->eq_max) {
        st = eqg_error_set(EQG_ENOMEM, "out of memory");
        goto done;
      }
    }
  }
  size_t total = 0, done_units = 0;
  for (size_t i = 0; i < n_models; i++)
    for (size_t g = 0; g < n_groups; g++)
      if (group_fits(groups[g], sets[models[i].cloud].dim)) total += o.samples;
  total += n_curves * n_eta;

  so3_csv = eqg_cli_csv_open(p_so3, "model_index,model,sample,input,inv_err,eq_err");
  if (!so3_csv) {
    st = eqg_error_prefix(EQG_EIO, "%s: ", p_so3);
    goto done;
  }
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "equivariance", total);
  st = run_table(&o, models, n_models, sets, groups, n_groups, rows, &n_rows, so3_csv, &pb,
                 &done_units);
  if (st == EQG_OK)
    st = run_sweep(&o, models, &sweep_jets, curves, n_curves, eta, n_eta, &pb, &done_units);
  eqg_cli_progress_end(&pb);
  if (st != EQG_OK) goto done;
  st = eqg_cli_csv_close(so3_csv);
  so3_csv = NULL;
  if (st != EQG_OK) goto done;

  results R = { .o = &o, .pv = &pv, .models = models, .n_models = n_models, .rows = rows,
                .n_rows = n_rows, .curves = curves, .n_curves = n_curves, .eta = eta,
                .n_eta = n_curves ? n_eta : 0, .sweep_jets = sweep_jets.n_graphs };
  for (int k = 0; k < CLOUD_KIND_COUNT; k++) R.n_inputs[k] = sets[k].n_graphs;
  if ((st = write_h5(o.out, &R)) != EQG_OK || (st = write_summary_csv(p_summary, &R)) != EQG_OK ||
      (st = write_sweep_csv(p_sweep, &R)) != EQG_OK)
    goto done;
  print_table(&R);
  printf("\nwrote %s, %s, %s, %s\n", o.out, p_summary, p_sweep, p_so3);
  rc = 0;
  for (size_t i = 0; i < n_rows; i++)
    if (rows[i].status == STATUS_FAIL) rc = 3;
  if (rc == 3)
    fprintf(stderr, "equivariance: a claimed symmetry FAILs its tolerance (see the table)\n");

done:
  if (st != EQG_OK) fprintf(stderr, "equivariance: %s\n", eqg_error_message());
  eqg_cli_csv_discard(so3_csv);
  for (size_t i = 0; i < n_models; i++) {
    eqg_model_free(models[i].graph);
    eqg_model_free(models[i].node);
  }
  for (size_t i = 0; i < n_curves; i++) {
    free(curves[i].inv_med);
    free(curves[i].inv_max);
    free(curves[i].eq_med);
    free(curves[i].eq_max);
  }
  for (int k = 0; k < CLOUD_KIND_COUNT; k++) cloud_free(&sets[k]);
  cloud_free(&sweep_jets);
  free(rows);
  free(curves);
  free(eta);
  free(p_summary);
  free(p_sweep);
  free(p_so3);
  eqg_cli_provenance_clear(&pv);
  return rc;
}
