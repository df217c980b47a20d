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
#endif
