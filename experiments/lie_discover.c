/* lie_discover.c: discover Lie-algebra generators from transformation pairs,
 * from an invariant oracle, or from a trained L-conv model, probe them, and
 * optionally train a LorentzNet-style model with the recovered metric.
 *
 * Sources (each reduced to a moment matrix in experiments/common/
 * eqg_lie_sources.h, which states their maths; losses and their gradients in
 * lib/probe/eqg_discover.h):
 *
 * oracle  Forestano et al.: N_g generators W_a minimise
 *           inv + norm + orth + closure
 *         with the exact first-order (eps -> 0) invariance loss, normalised,
 *         on --points samples; Adam, --lr 1e-3, --steps 6000.  Oracles: norm
 *         (|x| on R^d, d = 3 by default), minkowski (x^T eta x on R^4),
 *         checkpoint (logit_1 - logit_0, or output 0, of an eqgnn graph model of
 *         preset --model-config with the weights of --checkpoint, on random
 *         jets of --nodes massive four-momenta; every node transforms).
 *
 * pairs   Hidden group --group so2 (about z, on R^3), so3, boostz, lorentz:
 *         per sample an algebra element D ~ A estimated from 2d pairs
 *         (x_k, exp(eps A) x_k + noise) (eps = --eps, noise = --noise).
 *         Generators minimise span + norm + orth + closure, span = the fraction
 *         of the D's outside span{W_a}.  Well posed: span = 0 exactly when
 *         span{W_a} contains the algebra; with n_L = its dimension the
 *         minimisers span exactly the algebra, norm/orth fix the basis up to an
 *         orthogonal change (which the probe's alignment removes).
 *
 * task    Train an L-conv model on the N-body data of nbody_gen (--datadir;
 *         experiments/common/eqg_lie_task.h).  The generators of layer 0 are
 *         probed (all layers are written).
 *
 * Output (--out FILE.h5, written atomically): dataset generators (n, d*d)
 * = row-major (n, d, d), attributes n, d, source, ...; losses (steps, 6)
 * = inv, span, norm, orth, closure, total (oracle, pairs) or (epochs, 2)
 * (task); group /probe (eqg_probe_write_h5) and dataset recovered_metric
 * (d, d), the invariant metric normalised to max |entry| 1 with G00 > 0;
 * FILE_losses.csv beside it.  --metric-train N (d = 4 only): a LorentzNet-
 * style model (lgeb, width 16, depth 2) using the recovered metric is trained
 * for N Adam steps on a toy task (is the invariant mass of 4 random massive
 * four-vectors above the median?), and its invariance under sampled Lorentz
 * transformations is measured with the recovered metric and with eta
 * (experiments/common/eqg_lie_metric.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"
#include "eqg_lie_metric.h"
#include "eqg_lie_sources.h"
#include "eqg_lie_task.h"

static const char PROG[] = "lie_discover";
enum { MAXN = EQG_PROBE_MAX_N, MAXD = EQG_PROBE_MAX_D, N_TERMS = 6 };

typedef enum { SRC_ORACLE, SRC_PAIRS, SRC_TASK } source_kind;

typedef struct options {
  unsigned long seed;
  source_kind source;
  const char *oracle, *group, *truth, *out, *checkpoint, *model_config, *datadir;
  const char *write_checkpoint, *model_out;
  size_t n_gen, dim, points, steps, nodes, metric_train, epochs, depth, width;
  double lr, eps, noise, w_closure;
  long threads;
  bool quick;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: lie_discover [OPTION]...\n"
"Discover Lie-algebra generators and probe them (structure constants, Killing\n"
"form, invariant metric, principal angles to a known algebra).\n"
"\n"
"Options:\n"
"  -h, --help               show this help and exit\n"
"      --source S           oracle, pairs or task (default oracle)\n"
"      --oracle O           norm, minkowski or checkpoint (default minkowski)\n"
"      --group G            pairs: so2, so3, boostz or lorentz (default so3)\n"
"      --generators N       generators to learn, 1..16 (default: the truth's\n"
"                           dimension: 6 minkowski/lorentz, 3 norm/so3, 1 so2/boostz)\n"
"      --dim D              norm oracle: dimension 2..8 (default 3)\n"
"      --points N           oracle points / pair samples / jets, 1..100000 (default 300)\n"
"      --steps N            Adam steps, 1..10000000 (default 6000; checkpoint\n"
"                           oracle 20000)\n"
"      --lr X               Adam learning rate (default 1e-3; pairs and checkpoint\n"
"                           oracle 1e-2)\n"
"      --closure-weight X   weight of the closure loss, >= 0 (default 1; pairs and\n"
"                           checkpoint oracle 0: the span / invariance loss alone\n"
"                           fixes the algebra there, and closure adds minima that\n"
"                           keep a closed subalgebra -- measured, see README)\n"
"      --eps X              pairs: scale of the sampled algebra elements (default 1e-2)\n"
"      --noise X            pairs: Gaussian noise added to g x (default 0)\n"
"      --truth T            so2, so3, so13, boostz or none (default from the source)\n"
"      --checkpoint FILE    oracle checkpoint: eqgnn checkpoint of --model-config\n"
"      --model-config P     preset of that checkpoint (default lorentznet)\n"
"      --nodes N            checkpoint oracle: particles per jet, 2..64 (default 8)\n"
"      --write-random-checkpoint FILE  write a randomly initialised --model-config\n"
"                           checkpoint (seed --seed) and exit\n"
"      --datadir DIR        task: nbody_gen output directory (default .)\n"
"      --epochs N           task: epochs (default 20; --quick 2)\n"
"      --depth N            task: lconv blocks (default 2); --width N (default 32)\n"
"      --model-out FILE     task: save the trained L-conv model as an eqgnn\n"
"                           checkpoint (generators as layer<k>.generators)\n"
"      --metric-train N     train an lgeb model with the recovered metric for N\n"
"                           steps and measure its Lorentz invariance (d = 4; 0 = off)\n"
"      --seed N             seed, 0..4294967295 (default 1)\n"
"      --threads N          BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --quick              CI-sized run: task 2 epochs, metric-train\n"
"                           30 steps (the fits take well under a second anyway)\n"
"      --out FILE.h5        results (default lie_discover.h5), FILE_losses.csv beside\n"
"\n"
"Exit status: 0 on success, 1 on an I/O or numerical failure, 2 on bad options.\n", f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SOURCE = 256, O_ORACLE, O_GROUP, O_GEN, O_DIM, O_POINTS, O_STEPS, O_LR, O_CLOSURE,
         O_EPS, O_NOISE, O_TRUTH, O_CKPT, O_MODEL, O_NODES, O_WRITE, O_DATADIR, O_EPOCHS,
         O_DEPTH, O_WIDTH, O_METRIC, O_SEED, O_THREADS, O_QUICK, O_OUT, O_MODEL_OUT };
  static const struct option lo[] = {
    { "help", no_argument, NULL, 'h' }, { "source", required_argument, NULL, O_SOURCE },
    { "oracle", required_argument, NULL, O_ORACLE }, { "group", required_argument, NULL, O_GROUP },
    { "generators", required_argument, NULL, O_GEN }, { "dim", required_argument, NULL, O_DIM },
    { "points", required_argument, NULL, O_POINTS }, { "steps", required_argument, NULL, O_STEPS },
    { "lr", required_argument, NULL, O_LR }, { "closure-weight", required_argument, NULL, O_CLOSURE },
    { "eps", required_argument, NULL, O_EPS }, { "noise", required_argument, NULL, O_NOISE },
    { "truth", required_argument, NULL, O_TRUTH }, { "checkpoint", required_argument, NULL, O_CKPT },
    { "model-config", required_argument, NULL, O_MODEL },
    { "nodes", required_argument, NULL, O_NODES },
    { "write-random-checkpoint", required_argument, NULL, O_WRITE },
    { "datadir", required_argument, NULL, O_DATADIR },
    { "epochs", required_argument, NULL, O_EPOCHS }, { "depth", required_argument, NULL, O_DEPTH },
    { "width", required_argument, NULL, O_WIDTH },
    { "model-out", required_argument, NULL, O_MODEL_OUT },
    { "metric-train", required_argument, NULL, O_METRIC },
    { "seed", required_argument, NULL, O_SEED }, { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK }, { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .source = SRC_ORACLE, .oracle = "minkowski", .group = "so3",
                  .out = "lie_discover.h5", .model_config = "lorentznet", .datadir = ".",
                  .dim = 0, .points = 300, .steps = 6000, .nodes = 8, .epochs = 20,
                  .depth = 2, .width = 32, .lr = 1e-3, .eps = 1e-2, .w_closure = 1,
                  .threads = 1 };
  bool epochs_set = false, metric_set = false, steps_set = false;
  bool lr_set = false, closure_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", lo, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SOURCE:
      if (strcmp(optarg, "oracle") == 0) o->source = SRC_ORACLE;
      else if (strcmp(optarg, "pairs") == 0) o->source = SRC_PAIRS;
      else if (strcmp(optarg, "task") == 0) o->source = SRC_TASK;
      else st = eqg_error_set(EQG_EINVAL, "--source: '%s' is not oracle, pairs or task", optarg);
      break;
    case O_ORACLE:
      if (strcmp(optarg, "norm") && strcmp(optarg, "minkowski") && strcmp(optarg, "checkpoint"))
        st = eqg_error_set(EQG_EINVAL, "--oracle: unknown oracle '%s' (known: norm, minkowski, "
                           "checkpoint)", optarg);
      o->oracle = optarg;
      break;
    case O_GROUP:
      if (strcmp(optarg, "so2") && strcmp(optarg, "so3") && strcmp(optarg, "boostz") &&
          strcmp(optarg, "lorentz"))
        st = eqg_error_set(EQG_EINVAL, "--group: '%s' is not so2, so3, boostz or lorentz", optarg);
      o->group = optarg;
      break;
    case O_GEN: st = eqg_cli_parse_size("--generators", optarg, 1, MAXN, &o->n_gen); break;
    case O_DIM: st = eqg_cli_parse_size("--dim", optarg, 2, MAXD, &o->dim); break;
    case O_POINTS: st = eqg_cli_parse_size("--points", optarg, 1, 100000, &o->points); break;
    case O_STEPS: st = eqg_cli_parse_size("--steps", optarg, 1, 10000000, &o->steps);
      steps_set = true;
      break;
    case O_LR:
      st = eqg_cli_parse_double("--lr", optarg, 0, 10, &o->lr);
      lr_set = true;
      if (!st && !(o->lr > 0)) st = eqg_error_set(EQG_EINVAL, "--lr: must be positive");
      break;
    case O_CLOSURE:
      st = eqg_cli_parse_double("--closure-weight", optarg, 0, 1e6, &o->w_closure);
      closure_set = true;
      break;
    case O_EPS:
      st = eqg_cli_parse_double("--eps", optarg, 0, 1, &o->eps);
      if (!st && !(o->eps > 0)) st = eqg_error_set(EQG_EINVAL, "--eps: must be positive");
      break;
    case O_NOISE: st = eqg_cli_parse_double("--noise", optarg, 0, 1, &o->noise); break;
    case O_TRUTH:
      if (strcmp(optarg, "so2") && strcmp(optarg, "so3") && strcmp(optarg, "so13") &&
          strcmp(optarg, "boostz") && strcmp(optarg, "none"))
        st = eqg_error_set(EQG_EINVAL, "--truth: '%s' is not so2, so3, so13, boostz or none",
                           optarg);
      o->truth = optarg;
      break;
    case O_CKPT: o->checkpoint = optarg; break;
    case O_MODEL: {
      eqg_model_config tmp;
      st = eqg_model_config_preset(&tmp, optarg);
      o->model_config = optarg;
      break;
    }
    case O_NODES: st = eqg_cli_parse_size("--nodes", optarg, 2, 64, &o->nodes); break;
    case O_WRITE: o->write_checkpoint = optarg; break;
    case O_MODEL_OUT: o->model_out = optarg; break;
    case O_DATADIR: o->datadir = optarg; break;
    case O_EPOCHS: st = eqg_cli_parse_size("--epochs", optarg, 1, 100000, &o->epochs); epochs_set = true; break;
    case O_DEPTH: st = eqg_cli_parse_size("--depth", optarg, 1, 16, &o->depth); break;
    case O_WIDTH: st = eqg_cli_parse_size("--width", optarg, 1, 1024, &o->width); break;
    case O_METRIC: st = eqg_cli_parse_size("--metric-train", optarg, 0, 1000000, &o->metric_train);
      metric_set = true; break;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  /* pairs and the checkpoint oracle: no closure term and a larger rate (see --help) */
  const bool ckpt = o->source == SRC_ORACLE && strcmp(o->oracle, "checkpoint") == 0;
  if (!lr_set) o->lr = o->source == SRC_PAIRS || ckpt ? 1e-2 : 1e-3;
  if (!closure_set) o->w_closure = o->source == SRC_PAIRS || ckpt ? 0 : 1;
  if (!steps_set && ckpt) o->steps = 20000;
  if (o->quick && !epochs_set) o->epochs = 2;
  if (o->quick && !metric_set && o->source == SRC_ORACLE && strcmp(o->oracle, "norm") != 0)
    o->metric_train = 30;
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (o->source == SRC_ORACLE && strcmp(o->oracle, "checkpoint") == 0 && !o->checkpoint &&
      !o->write_checkpoint)
    return eqg_cli_usage_error(PROG, "--oracle checkpoint needs --checkpoint FILE");
  if (o->dim && !(o->source == SRC_ORACLE && strcmp(o->oracle, "norm") == 0))
    return eqg_cli_usage_error(PROG, "--dim applies to the norm oracle only");
  return -1;
}

/* A problem: generators of side d, moment matrix M (oracle) or S (pairs). */
typedef struct problem {
  size_t d, n;
  const char *truth;       /* NULL: none */
  eqg_real *M, *S;         /* (d*d, d*d) */
} problem;

/* ---- outputs --------------------------------------------------------------------- */

static const char *const term_names[N_TERMS] = { "inv", "span", "norm", "orth", "closure", "total" };

static eqg_status write_results(const options *o, const eqg_cli_provenance *pv,
                                const problem *pb, const eqg_real *W, size_t n_rows,
                                const eqg_real *hist, size_t n_hist, size_t hist_cols,
                                const eqg_probe_report *rep, const eqg_lie_metric_result *mr,
                                const char *source_desc)
{
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st) return st;
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_probe_write_h5_result(f, W, rep)) ||
      (n_rows > pb->n && (st = eqg_h5_write_matrix(f, "generators_all_layers", W, n_rows,
                                                   pb->d * pb->d))) ||
      (st = eqg_h5_write_matrix(f, "losses", hist, n_hist, hist_cols)) ||
      (st = eqg_h5_write_attr_string(f, "generators_layout", "(n, d*d): row a is the "
                                     "row-major d x d generator L_a")) ||
      (st = eqg_h5_write_attr_string(f, "source", source_desc)) ||
      (st = eqg_h5_write_attr_long(f, "steps", (long)n_hist)) ||
      (st = eqg_h5_write_attr_double(f, "lr", o->lr)))
    goto fail;
  if (mr && ((st = eqg_h5_write_attr_long(f, "metric_train_steps", (long)mr->steps)) ||
             (st = eqg_h5_write_attr_double(f, "metric_train_loss_first", mr->loss0)) ||
             (st = eqg_h5_write_attr_double(f, "metric_train_loss_last", mr->loss1)) ||
             (st = eqg_h5_write_attr_double(f, "metric_train_accuracy", mr->acc)) ||
             (st = eqg_h5_write_attr_double(f, "metric_test_accuracy", mr->test_acc)) ||
             (st = eqg_h5_write_attr_double(f, "metric_max_abs_error", mr->metric_err)) ||
             (st = eqg_h5_write_attr_double(f, "metric_lorentz_error_recovered",
                                            mr->inv_recovered)) ||
             (st = eqg_h5_write_attr_double(f, "metric_lorentz_error_eta", mr->inv_eta))))
    goto fail;
  return eqg_h5_commit(f, tmp, o->out);
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results %s: ", o->out);
}

static eqg_status write_losses_csv(const char *path, const eqg_real *hist, size_t n, bool task)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, task ? "epoch,train_mse,valid_mse"
                                               : "step,inv,span,norm,orth,closure,total");
  if (!c) return EQG_EIO;
  for (size_t s = 0; s < n; s++) {
    const eqg_real *h = hist + s * (task ? 2 : N_TERMS);
    eqg_status st = task ? eqg_cli_csv_row(c, "%zu,%.10g,%.10g", s + 1, h[0], h[1])
                         : eqg_cli_csv_row(c, "%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g", s,
                                           h[0], h[1], h[2], h[3], h[4], h[5]);
    if (st) {
      eqg_cli_csv_discard(c);
      return st;
    }
  }
  return eqg_cli_csv_close(c);
}

/* ---- main ------------------------------------------------------------------------- */

static eqg_status write_random_checkpoint(const options *o, gsl_rng *r)
{
  eqg_model *m = eqg_lie_model_load(o->model_config, NULL, r);
  if (!m) return EQG_EINVAL;
  eqg_checkpoint_meta meta = { .seed = o->seed };
  snprintf(meta.model_type, sizeof meta.model_type, "%s", o->model_config);
  eqg_model_describe(m, meta.model_config, sizeof meta.model_config);
  snprintf(meta.program, sizeof meta.program, "%s", PROG);
  eqg_status st = eqg_checkpoint_save(o->write_checkpoint, m->params, NULL, &meta);
  eqg_model_free(m);
  return st;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  if (eqg_cli_set_threads(o.threads)) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  const double t0 = eqg_cli_now();
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) return 1;
  gsl_rng_set(r, o.seed);
  if (o.write_checkpoint) {
    eqg_status st = write_random_checkpoint(&o, r);
    gsl_rng_free(r);
    if (st) {
      fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
      return 1;
    }
    printf("%s: wrote a randomly initialised %s checkpoint to %s\n", PROG, o.model_config,
           o.write_checkpoint);
    return 0;
  }

  /* the problem: side d, number of generators, truth */
  problem pb = { 0 };
  char desc[256];
  if (o.source == SRC_ORACLE) {
    const bool norm = strcmp(o.oracle, "norm") == 0;
    pb.d = norm ? (o.dim ? o.dim : 3) : 4;
    pb.n = o.n_gen ? o.n_gen : norm ? pb.d * (pb.d - 1) / 2 : 6;
    pb.truth = norm ? (pb.d == 3 ? "so3" : pb.d == 2 ? "so2" : NULL) : "so13";
    snprintf(desc, sizeof desc, "oracle %s%s%s", o.oracle, o.checkpoint ? " " : "",
             o.checkpoint ? o.checkpoint : "");
  } else if (o.source == SRC_PAIRS) {
    const eqg_group_type *gt = eqg_lie_pairs_group(o.group);
    pb.d = gt->gen_dim;
    pb.n = o.n_gen ? o.n_gen : gt->n_generators;
    pb.truth = strcmp(o.group, "so2") == 0 ? "so2" : strcmp(o.group, "so3") == 0 ? "so3"
             : strcmp(o.group, "boostz") == 0 ? "boostz" : "so13";
    snprintf(desc, sizeof desc, "pairs %s eps %g noise %g", o.group, o.eps, o.noise);
  } else {
    pb.d = 3;
    pb.n = o.n_gen ? o.n_gen : 3;
    pb.truth = "so3";
    snprintf(desc, sizeof desc, "task nbody %s lconv depth %zu width %zu", o.datadir, o.depth,
             o.width);
  }
  if (o.truth) pb.truth = strcmp(o.truth, "none") == 0 ? NULL : o.truth;
  eqg_real truth_basis[EQG_PROBE_MAX_TRUTH * MAXD * MAXD];
  size_t truth_dim;
  if (pb.truth && eqg_probe_truth_basis(truth_basis, &truth_dim, pb.truth, pb.d) == EQG_ESHAPE) {
    gsl_rng_free(r);
    return eqg_cli_usage_error(PROG, "--truth %s does not act on R^%zu", pb.truth, pb.d);
  }
  if (o.metric_train && pb.d != 4) {
    gsl_rng_free(r);
    return eqg_cli_usage_error(PROG, "--metric-train needs four-vectors (d = 4), not d = %zu",
                               pb.d);
  }

  rc = 1;
  const size_t q = pb.d * pb.d, depth = o.source == SRC_TASK ? o.depth : 1;
  const bool task = o.source == SRC_TASK;
  const size_t n_hist = task ? o.epochs : o.steps, hist_cols = task ? 2 : N_TERMS;
  eqg_cli_provenance pv = { .arguments = NULL };
  eqg_real *W = calloc(depth * pb.n * q, sizeof *W), *hist = calloc(n_hist * hist_cols, sizeof *hist);
  pb.M = calloc(q * q, sizeof *pb.M);
  pb.S = calloc(q * q, sizeof *pb.S);
  char *csv = eqg_cli_path_beside(o.out, "_losses.csv");
  eqg_probe_report rep;
  eqg_lie_metric_result mr;
  eqg_discover_terms fin = { 0 };
  eqg_status st = W && hist && pb.M && pb.S && csv ? EQG_OK : EQG_ENOMEM;
  if (st || (st = eqg_cli_provenance_init(&pv, argc, argv, o.seed))) goto fail;

  const eqg_discover_weights w = { .inv = o.source == SRC_ORACLE, .span = o.source == SRC_PAIRS,
                                   .norm = 1, .orth = 1, .closure = o.w_closure };
  if (o.source == SRC_ORACLE)
    st = strcmp(o.oracle, "checkpoint") == 0
           ? eqg_lie_oracle_checkpoint(pb.M, o.model_config, o.checkpoint, o.points, o.nodes, r)
           : eqg_lie_oracle_analytic(pb.M, o.oracle, pb.d, o.points, r);
  else if (o.source == SRC_PAIRS)
    st = eqg_lie_pairs(pb.S, o.group, o.points, o.eps, o.noise, r);
  else {
    const eqg_lie_task_config tc = { .datadir = o.datadir, .n_gen = pb.n, .depth = o.depth,
                                     .width = o.width, .epochs = o.epochs, .lr = o.lr,
                                     .quick = o.quick, .seed = o.seed, .model_out = o.model_out,
                                     .program = PROG };
    st = eqg_lie_task_train(W, hist, &tc, r);
  }
  if (st) goto fail;
  if (!task &&
      (st = eqg_discover_fit(W, pb.n, pb.d, pb.M, pb.S, &w, o.steps, o.lr, r, hist, &fin)))
    goto fail;
  if ((st = eqg_probe_analyse(&rep, W, pb.n, pb.d, pb.truth))) goto fail;
  if (o.metric_train && (st = eqg_lie_metric_train(&mr, rep.metric, o.metric_train, r))) goto fail;
  if ((st = write_results(&o, &pv, &pb, W, depth * pb.n, hist, n_hist, hist_cols, &rep,
                          o.metric_train ? &mr : NULL, desc)) ||
      (st = write_losses_csv(csv, hist, n_hist, task)))
    goto fail;

  printf("lie_discover: %s, %zu generators of side %zu, seed %lu\n", desc, pb.n, pb.d, o.seed);
  if (task)
    printf("training: %zu epochs, train MSE %.4e -> %.4e, valid MSE %.4e -> %.4e\n", o.epochs,
           hist[0], hist[2 * (n_hist - 1)], hist[1], hist[2 * (n_hist - 1) + 1]);
  else {
    printf("fit: %zu Adam steps, lr %g; loss %.3e -> %.3e", o.steps, o.lr, hist[5], fin.total);
    for (int k = 0; k < N_TERMS - 1; k++)
      if (k != (o.source == SRC_ORACLE ? 1 : 0))
        printf("  %s %.2e", term_names[k], k == 0 ? fin.inv : k == 1 ? fin.span : k == 2
               ? fin.norm : k == 3 ? fin.orth : fin.closure);
    printf("\n");
  }
  if ((st = eqg_probe_print(stdout, &rep))) goto fail;
  if (pb.truth && strcmp(pb.truth, "so3") == 0 && pb.n == 3)
    printf("structure constants vs epsilon (after alignment): max |f - eps| = %.3e\n",
           eqg_discover_so3_structure_error(&rep));
  if (o.metric_train)
    printf("metric model (lgeb, recovered G, max |G - eta| = %.2e): %zu steps, loss %.4f -> "
           "%.4f, accuracy train %.3f held-out %.3f; Lorentz invariance (max rel. change of "
           "the logits, 20 transformations, rapidity <= 1): recovered G %.2e, eta %.2e\n",
           mr.metric_err, mr.steps, mr.loss0, mr.loss1, mr.acc, mr.test_acc, mr.inv_recovered,
           mr.inv_eta);
  printf("wrote %s, %s (%.2f s)\n", o.out, csv, eqg_cli_now() - t0);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
done:
  eqg_cli_provenance_clear(&pv);
  free(W), free(hist), free(pb.M), free(pb.S), free(csv);
  gsl_rng_free(r);
  return rc;
}
