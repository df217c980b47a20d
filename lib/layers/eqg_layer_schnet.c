/* eqg_layer_schnet.c: STUB - family to be written. */
#include "layers/eqg_layer.h"

static bool stub_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  (void)cfg; (void)g;
  return false;
}
static void *stub_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg, gsl_rng *rng)
{
  (void)p; (void)prefix; (void)cfg; (void)rng;
  eqg_error_set(EQG_EINVAL, "layer family 'schnet' is not written yet");
  return NULL;
}
static void stub_free(void *l) { (void)l; }
static eqg_status stub_forward(eqg_tape *t, eqg_params *p, const void *l, const eqg_graph_batch *b,
                               eqg_layer_io *io)
{
  (void)t; (void)p; (void)l; (void)b; (void)io;
  return EQG_EINVAL;
}
const eqg_layer_type eqg_layer_schnet = { "schnet", "not written", true, stub_claims, stub_alloc,
                                      stub_free, stub_forward };
