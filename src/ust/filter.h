/*
 * Event filters (`sonde enable-event -u PATTERN --filter EXPR`): LTTng's
 * filter language, compiled by sonde-sessiond into a postfix bytecode that
 * travels to traced programs with the enabled patterns, where it is
 * checked, bound to each event's fields and evaluated on the event's
 * payload before it is recorded.
 *
 * Bytecode (every multi-byte number little-endian):
 *
 *   u8 version (1), then instructions until the end:
 *   FIELD  u8 len, name[len]      push the event field `name`
 *   CTX    u8 ctx                 push a context (enum sonde_ust_context)
 *   INT    i64                    push an integer
 *   FLOAT  f64                    push a double
 *   STR    u16 len, bytes[len]    push a string (exact)
 *   GLOB   u16 len, bytes[len]    push a star-glob pattern (`*`, `\` escapes)
 *   EQ NE LT LE GT GE             pop 2, push 1 or 0
 *   NOT                           pop 1, push !x
 *   AND OR                        pop 2, push 1 or 0
 *   NEG                           pop 1, push -x
 *   ELEM   u8 len, name[len], u32 index
 *                                 push element `index` of the integer
 *                                 array or sequence `name` (`name[index]`)
 *
 * A well-formed program leaves exactly one value; the program is refused
 * otherwise.  The expression compares event fields and contexts with
 * literals; a program referring to a field the event lacks, or comparing
 * a string with a number, never passes for that event, and neither does
 * an element past the end of its array or sequence.
 */
#ifndef SONDE_UST_FILTER_H
#define SONDE_UST_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"
#include "sonde/tracepoint.h"
#include "sonde/ust.h"

#define SONDE_UST_FILTER_VERSION 1
#define SONDE_UST_FILTER_CODE_MAX 2000 /* bytes; hex on the wire */
#define SONDE_UST_FILTER_EXPR_MAX 1024 /* characters of an expression */
#define SONDE_UST_FILTER_STACK_MAX 32

enum sonde_ust_filter_op {
	SONDE_UST_FOP_FIELD = 1,
	SONDE_UST_FOP_CTX,
	SONDE_UST_FOP_INT,
	SONDE_UST_FOP_FLOAT,
	SONDE_UST_FOP_STR,
	SONDE_UST_FOP_GLOB,
	SONDE_UST_FOP_EQ,
	SONDE_UST_FOP_NE,
	SONDE_UST_FOP_LT,
	SONDE_UST_FOP_LE,
	SONDE_UST_FOP_GT,
	SONDE_UST_FOP_GE,
	SONDE_UST_FOP_NOT,
	SONDE_UST_FOP_AND,
	SONDE_UST_FOP_OR,
	SONDE_UST_FOP_NEG,
	SONDE_UST_FOP_ELEM,
};

/*
 * Compiles an expression (filter-compile.c, in the daemon): on success
 * *code (malloc'd) holds *len bytes.  A bad expression gives SONDE_EFORMAT
 * and "filter: column N: what is wrong".
 */
int sonde_ust_filter_compile(const char *expr, uint8_t **code, size_t *len,
			     struct sonde_error *err);

/* Hex text of bytecode for the control protocol (malloc'd, NULL without
 * memory) and back (SONDE_EFORMAT on anything but pairs of hex digits). */
char *sonde_ust_filter_hex(const uint8_t *code, size_t len);
int sonde_ust_filter_unhex(const char *hex, uint8_t **code, size_t *len);

/* A checked program, as traced programs keep it (filter.c). */
struct sonde_ust_filter;

/* Checks bytecode from the daemon: every instruction within the bytes,
 * known opcodes and contexts, the stack within its bounds, one result. */
int sonde_ust_filter_load(const uint8_t *code, size_t len,
			  struct sonde_ust_filter **out,
			  struct sonde_error *err);
void sonde_ust_filter_free(struct sonde_ust_filter *f);

/*
 * A program bound to one event: its field names resolved to the event's
 * fields and the types checked.  NULL when the program can never pass
 * for this event (a field it lacks, a type mismatch) or without memory.
 */
struct sonde_ust_bound_filter;
struct sonde_ust_bound_filter *
sonde_ust_filter_bind(const struct sonde_ust_filter *f,
		      const struct sonde_tp_event *ev);
void sonde_ust_bound_filter_free(struct sonde_ust_bound_filter *b);

/* Context values the evaluator asks for (the runtime's cached ids). */
struct sonde_ust_filter_ctx {
	int64_t (*integer)(int ctx);
	const char *(*string)(int ctx);
};

/* Whether an event whose fields are `payload` (len bytes, the trace's
 * layout) passes.  Bounds-checked: a payload that does not hold the
 * event's fields does not pass. */
bool sonde_ust_filter_eval(const struct sonde_ust_bound_filter *b,
			   const uint8_t *payload, size_t len,
			   const struct sonde_ust_filter_ctx *ctx);

#endif
