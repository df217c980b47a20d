/* eqg_arena.c: chained-chunk bump allocator (see eqg_arena.h). */
#include "core/eqg_arena.h"

#include <stdlib.h>
#include <string.h>

/* Checking builds: memory handed out by eqg_arena_push_uninit() is made to
 * look uninitialised even when it is reused after a reset, so that an op
 * forward which forgets to write part of its output (outputs are allocated
 * uninitialised) is caught by the tests.  Under AddressSanitizer the block is
 * filled with 0xFF bytes (a NaN as eqg_real, so the value and gradient checks
 * fail); under valgrind's memcheck (when its header is available; the client
 * request is a no-op outside valgrind) it is marked undefined. */
#if defined(__SANITIZE_ADDRESS__)
#define EQG_ARENA_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EQG_ARENA_POISON 1
#endif
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define EQG_ARENA_VALGRIND 1
#endif
#endif

enum { EQG_ARENA_ALIGN = 64 };

typedef struct eqg_chunk {
  struct eqg_chunk *prev;
  size_t size, used;
  unsigned char *base;   /* aligned start of the usable bytes */
  void *raw;             /* what malloc returned */
} eqg_chunk;

struct eqg_arena {
  eqg_chunk *head;       /* newest chunk */
  size_t total_used;
};

static eqg_chunk *chunk_new(size_t size, eqg_chunk *prev)
{
  eqg_chunk *c = malloc(sizeof *c);
  if (!c) return NULL;
  void *raw = NULL;
  if (posix_memalign(&raw, EQG_ARENA_ALIGN, size ? size : EQG_ARENA_ALIGN) != 0) {
    free(c);
    return NULL;
  }
  *c = (eqg_chunk){ .prev = prev, .size = size, .used = 0, .base = raw, .raw = raw };
  return c;
}

static void chunks_free(eqg_chunk *c)
{
  while (c) {
    eqg_chunk *p = c->prev;
    free(c->raw);
    free(c);
    c = p;
  }
}

eqg_arena *eqg_arena_alloc(size_t initial_bytes)
{
  eqg_arena *a = calloc(1, sizeof *a);
  if (!a) {
    eqg_error_set(EQG_ENOMEM, "arena: cannot allocate the arena header");
    return NULL;
  }
  size_t size = initial_bytes < 4096 ? 4096 : initial_bytes;
  a->head = chunk_new(size, NULL);
  if (!a->head) {
    free(a);
    eqg_error_set(EQG_ENOMEM, "arena: cannot allocate %zu bytes", size);
    return NULL;
  }
  return a;
}

void eqg_arena_free(eqg_arena *a)
{
  if (!a) return;
  chunks_free(a->head);
  free(a);
}

void *eqg_arena_push_uninit(eqg_arena *a, size_t bytes)
{
  size_t need = (bytes + EQG_ARENA_ALIGN - 1) / EQG_ARENA_ALIGN * EQG_ARENA_ALIGN;
  if (need < bytes) {
    eqg_error_set(EQG_ENOMEM, "arena: request of %zu bytes overflows", bytes);
    return NULL;
  }
  eqg_chunk *c = a->head;
  if (c->size - c->used < need) {
    size_t size = c->size * 2 > need ? c->size * 2 : need;
    eqg_chunk *n = chunk_new(size, c);
    if (!n) {
      eqg_error_set(EQG_ENOMEM, "arena: cannot grow by %zu bytes", size);
      return NULL;
    }
    a->head = c = n;
  }
  void *p = c->base + c->used;
  c->used += need;
  a->total_used += need;
#ifdef EQG_ARENA_POISON
  memset(p, 0xFF, bytes);
#endif
#ifdef EQG_ARENA_VALGRIND
  VALGRIND_MAKE_MEM_UNDEFINED(p, bytes);
#endif
  return p;
}

void *eqg_arena_push(eqg_arena *a, size_t bytes)
{
  void *p = eqg_arena_push_uninit(a, bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void eqg_arena_reset(eqg_arena *a)
{
  if (a->head->prev) {
    /* Several chunks: replace them by one that holds everything. */
    size_t total = 0;
    for (eqg_chunk *c = a->head; c; c = c->prev) total += c->size;
    eqg_chunk *one = chunk_new(total, NULL);
    if (one) {
      chunks_free(a->head);
      a->head = one;
    }
    /* On failure keep the chain; it still works, only slower. */
  }
  for (eqg_chunk *c = a->head; c; c = c->prev) c->used = 0;
  a->total_used = 0;
}

size_t eqg_arena_used(const eqg_arena *a) { return a->total_used; }

size_t eqg_arena_capacity(const eqg_arena *a)
{
  size_t total = 0;
  for (const eqg_chunk *c = a->head; c; c = c->prev) total += c->size;
  return total;
}
