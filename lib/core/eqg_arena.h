/* eqg_arena.h: bump allocator reset once per training step.
 *
 * Allocations are 64-byte aligned, zeroed by eqg_arena_push() (not by
 * eqg_arena_push_uninit()), and stay valid until the next eqg_arena_reset().  When a step outgrows the first chunk, further chunks are
 * chained; the reset after such a step merges them into one chunk of the total
 * size, so a steady-state step does a single pointer bump per tensor and no
 * malloc at all. */
#ifndef EQG_ARENA_H
#define EQG_ARENA_H

#include "core/eqg_core.h"

typedef struct eqg_arena eqg_arena;

eqg_arena *eqg_arena_alloc(size_t initial_bytes);
void eqg_arena_free(eqg_arena *a);          /* NULL is fine */

/* Zeroed, 64-byte aligned block of `bytes`; NULL (with message) on ENOMEM. */
void *eqg_arena_push(eqg_arena *a, size_t bytes);
/* Same without zeroing, for buffers that are fully overwritten. */
void *eqg_arena_push_uninit(eqg_arena *a, size_t bytes);

void eqg_arena_reset(eqg_arena *a);
size_t eqg_arena_used(const eqg_arena *a);      /* bytes handed out since reset */
size_t eqg_arena_capacity(const eqg_arena *a);  /* bytes held */

#endif
