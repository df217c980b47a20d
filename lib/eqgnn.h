/* eqgnn.h: everything in libeqgnn. */
#ifndef EQGNN_H
#define EQGNN_H
#include "core/eqg_core.h"
#include "core/eqg_arena.h"
#include "core/eqg_tensor.h"
#include "ad/eqg_op.h"
#include "ad/eqg_tape.h"
#include "ad/eqg_ops.h"
#include "ad/eqg_gradcheck.h"
#include "nn/eqg_params.h"
#include "nn/eqg_optim.h"
#include "nn/eqg_schedule.h"
#include "nn/eqg_linear.h"
#include "nn/eqg_mlp.h"
#include "nn/eqg_h5.h"
#include "nn/eqg_checkpoint.h"
#include "graph/eqg_graph.h"
#include "graph/eqg_graph_edges.h"
#include "graph/eqg_graph_padded.h"
#include "graph/eqg_graph_ops.h"
#include "groups/eqg_group.h"
#include "layers/eqg_layer.h"
#endif
