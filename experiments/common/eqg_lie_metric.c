/* eqg_lie_metric.c: lie_discover --metric-train (eqg_lie_metric.h): an lgeb
 * model with Minkowski products p^T G_sym q, G_sym = (G + G^T) / 2, trained on
 * "mass^2 above the median", then max_Lambda |y(Lambda p) - y(p)| / max |y(p)|
 * with G_sym and with eta. */
#include "eqg_lie_metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_lie_sources.h"

/* max_i |a_i - b_i| / max_i |b_i| (the absolute change if b = 0). */
static eqg_real max_rel_change(const eqg_real *a, const eqg_real *b, size_t n)
{
  eqg_real d = 0, s = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i])), s = fmax(s, fabs(b[i]));
  return s > 0 ? d / s : d;
}

/* Logits (G, 2) of model m on batch b, eval mode, into y. */
static eqg_status logits(eqg_tape *t, eqg_model *m, const eqg_graph_batch *b, eqg_real *y)
{
  t->training = t->grad_enabled = false;
  eqg_tape_reset(t);
  eqg_tensor *out = eqg_model_forward(t, m, b);
  if (!out) return eqg_error_prefix(eqg_tape_status(t), "metric model: ");
  memcpy(y, out->data, eqg_tensor_size(out) * sizeof *y);
  return EQG_OK;
}

/* lab[g] = 1 if the invariant mass^2 of event g of b (`nodes` per event) is above
 * *med (first set to the median of these events if it is NaN); work (2 n_ev). */
static void mass_labels(eqg_index *lab, eqg_real *med, const eqg_graph_batch *b, size_t n_ev,
                        size_t nodes, eqg_real *work)
{
  for (size_t g = 0; g < n_ev; g++) {
    eqg_real p[4] = { 0 };
    for (size_t i = 0; i < nodes; i++)
      for (size_t k = 0; k < 4; k++) p[k] += b->x[(g * nodes + i) * 4 + k];
    work[g] = p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3];
  }
  eqg_real *sorted = work + n_ev;
  memcpy(sorted, work, n_ev * sizeof *work);
  if (isnan(*med)) *med = eqg_cli_median(sorted, n_ev);
  for (size_t g = 0; g < n_ev; g++) lab[g] = work[g] > *med;
}

/* *acc = accuracy of the logits y (n, 2) against lab: class 1 when
 * l1 - l0 > 0 (eqg_accuracy at threshold 0); score (n) is work. */
static eqg_status logit_accuracy(eqg_real *acc, eqg_real *score, const eqg_real *y,
                                 const eqg_index *lab, size_t n)
{
  for (size_t g = 0; g < n; g++) score[g] = y[2 * g + 1] - y[2 * g];
  double a;
  eqg_status st = eqg_accuracy(&a, score, lab, n, 0);
  if (!st) *acc = a;
  return st;
}

eqg_status eqg_lie_metric_train(eqg_lie_metric_result *res, const eqg_real *G, size_t steps,
                                gsl_rng *r)
{
  enum { EVENTS = 256, NODES = 4, SAMPLES = 20 };
  static const eqg_real eta[16] = { 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1 };
  *res = (eqg_lie_metric_result){ .steps = steps };
  eqg_model_config c;
  eqg_model_config_preset(&c, "lorentznet");
  c.layer.width = 16;
  c.depth = 2;
  c.readout_dropout = 0;
  c.layer.metric = EQG_METRIC_GENERAL;
  for (size_t k = 0; k < 16; k++) {
    c.layer.metric_g[k] = 0.5 * (G[k] + G[(k % 4) * 4 + k / 4]);   /* exact symmetry */
    res->metric_err = fmax(res->metric_err, fabs(c.layer.metric_g[k] - eta[k]));
  }
  eqg_model_config ce = c;
  ce.layer.metric = EQG_METRIC_MINKOWSKI;
  eqg_model *m = eqg_model_alloc(&c, r), *me = eqg_model_alloc(&ce, r);
  eqg_graph_batch *b = eqg_lie_random_jets(EVENTS, NODES, r);
  eqg_graph_batch *bg = eqg_lie_random_jets(EVENTS, NODES, r);   /* transformed copies of b */
  eqg_graph_batch *bt = eqg_lie_random_jets(EVENTS, NODES, r);   /* held out */
  eqg_index *lab_t = malloc(EVENTS * sizeof *lab_t);
  eqg_tape *t = eqg_tape_alloc(1 << 22, r);
  eqg_index *lab = malloc(EVENTS * sizeof *lab);
  eqg_real *mass = malloc(2 * EVENTS * sizeof *mass), *y0 = malloc(EVENTS * 2 * sizeof *y0);
  eqg_real *y1 = malloc(EVENTS * 2 * sizeof *y1), *score = malloc(EVENTS * sizeof *score);
  eqg_optim *opt = NULL;
  eqg_status st = m && me && b && bg && bt && lab_t && t && lab && mass && y0 && y1 && score
                    ? EQG_OK : EQG_ENOMEM;
  if (st) {
    eqg_error_prefix(st, "metric model: ");
    goto done;
  }
  /* label: invariant mass of the event above the training median */
  eqg_real med = NAN;
  mass_labels(lab, &med, b, EVENTS, NODES, mass);
  mass_labels(lab_t, &med, bt, EVENTS, NODES, mass);
  eqg_optim_config oc = eqg_optim_config_default();
  oc.lr = 3e-3;
  if (!(opt = eqg_optim_alloc(&eqg_optim_adam, &oc, m->params->size))) {
    st = EQG_ENOMEM;
    goto done;
  }
  eqg_cli_progress pbar;
  eqg_cli_progress_begin(&pbar, "metric model", steps);
  for (size_t s = 0; s < steps && !st; s++) {
    t->training = t->grad_enabled = true;
    eqg_tape_reset(t);
    eqg_tensor *loss = eqg_softmax_xent(t, eqg_model_forward(t, m, b), lab);
    eqg_params_zero_grad(m->params);
    if (!loss) st = eqg_error_prefix(eqg_tape_status(t), "metric model: ");
    else if (!(st = eqg_tape_backward(t, loss))) {
      if (s == 0) res->loss0 = loss->data[0];
      res->loss1 = loss->data[0];
      eqg_optim_step(opt, m->params, oc.lr);
    }
    eqg_cli_progress_update(&pbar, s + 1, "loss %.4f", res->loss1);
  }
  eqg_cli_progress_end(&pbar);
  if (st || (st = logits(t, m, b, y0)) || (st = logit_accuracy(&res->acc, score, y0, lab, EVENTS)) ||
      (st = logits(t, m, bt, y0)) ||
      (st = logit_accuracy(&res->test_acc, score, y0, lab_t, EVENTS)))
    goto done;
  /* the same weights with eta: the models have the same parameter layout */
  memcpy(me->params->data, m->params->data, m->params->size * sizeof *m->params->data);
  if (m->params->buf_size)
    memcpy(me->params->buf, m->params->buf, m->params->buf_size * sizeof *m->params->buf);
  eqg_group *grp = eqg_group_alloc(&eqg_group_lorentz, NULL);
  if (!grp) {
    st = EQG_EINVAL;
    goto done;
  }
  for (int pass = 0; pass < 2 && !st; pass++) {
    eqg_model *mm = pass ? me : m;
    if ((st = logits(t, mm, b, y0))) break;
    for (size_t s = 0; s < SAMPLES && !st; s++) {
      eqg_group_elem e;
      eqg_group_sample(grp, r, &e);
      eqg_group_act(bg->x, &e, b->x, b->n_nodes, EQG_VECTOR_DISPLACEMENT);
      memcpy(bg->h, b->h, b->n_nodes * 2 * sizeof *b->h);
      if (!(st = logits(t, mm, bg, y1))) {
        eqg_real err = max_rel_change(y1, y0, EVENTS * 2);
        if (pass) res->inv_eta = fmax(res->inv_eta, err);
        else res->inv_recovered = fmax(res->inv_recovered, err);
      }
    }
  }
  eqg_group_free(grp);
done:
  eqg_optim_free(opt);
  eqg_model_free(m), eqg_model_free(me);
  eqg_graph_batch_free(b), eqg_graph_batch_free(bg), eqg_graph_batch_free(bt);
  free(lab_t);
  eqg_tape_free(t);
  free(lab), free(mass), free(y0), free(y1), free(score);
  return st;
}
