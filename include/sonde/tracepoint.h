/*
 * sonde user-space tracepoints.
 *
 * A provider header declares events; exactly one C file of the program
 * (or shared library) defines SONDE_TRACEPOINT_DEFINE before including it,
 * which emits the events' descriptions, their probe functions and the
 * constructors that register them with libsonde-ust (-lsonde-ust):
 *
 *     // app_tp.h
 *     #include <sonde/tracepoint.h>
 *     SONDE_TRACEPOINT_EVENT(app, request, SONDE_LOGLEVEL_INFO,
 *         SONDE_TP_ARGS(int id, const char *path, size_t len),
 *         SONDE_TP_FIELDS(
 *             sonde_field_integer(int, id, id)
 *             sonde_field_string(path, path)
 *             sonde_field_integer_hex(size_t, len, len)))
 *
 *     // app_tp.c
 *     #define SONDE_TRACEPOINT_DEFINE
 *     #include "app_tp.h"
 *
 *     // anywhere
 *     sonde_tracepoint(app, request, 42, "/index.html", 512);
 *
 * A disabled tracepoint costs one load and one predicted branch; its
 * arguments are not evaluated.  Field macros (after lttng-ust's) take the
 * C type, the field name, and an expression of the arguments:
 *
 *     sonde_field_integer(type, name, expr)          signed/unsigned 8-64 bit
 *     sonde_field_integer_hex(type, name, expr)      printed in hex
 *     sonde_field_integer_network(type, name, expr)  big-endian on disk
 *     sonde_field_integer_network_hex(type, name, expr)
 *     sonde_field_float(type, name, expr)            float or double
 *     sonde_field_string(name, expr)                 NUL-terminated
 *     sonde_field_array(type, name, expr, n)         n integers
 *     sonde_field_array_text(type, name, expr, n)    n chars as text
 *     sonde_field_sequence(type, name, expr, ltype, len)   len integers
 *     sonde_field_sequence_text(type, name, expr, ltype, len)
 *     sonde_field_enum(prov, enum, type, name, expr) with an enum declared
 *         by SONDE_TRACEPOINT_ENUM(prov, enum, SONDE_TP_ENUM_VALUES(
 *             sonde_enum_value("LABEL", v) sonde_enum_range("L", lo, hi)))
 *
 * Events, their probes and registration work in executables, shared
 * libraries, static programs and dlopen()ed/dlclose()d modules.
 */
#ifndef SONDE_TRACEPOINT_H
#define SONDE_TRACEPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf-writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels: lttng-ust's values and names. */
enum sonde_loglevel {
	SONDE_LOGLEVEL_EMERG = 0,
	SONDE_LOGLEVEL_ALERT = 1,
	SONDE_LOGLEVEL_CRIT = 2,
	SONDE_LOGLEVEL_ERR = 3,
	SONDE_LOGLEVEL_WARNING = 4,
	SONDE_LOGLEVEL_NOTICE = 5,
	SONDE_LOGLEVEL_INFO = 6,
	SONDE_LOGLEVEL_DEBUG_SYSTEM = 7,
	SONDE_LOGLEVEL_DEBUG_PROGRAM = 8,
	SONDE_LOGLEVEL_DEBUG_PROCESS = 9,
	SONDE_LOGLEVEL_DEBUG_MODULE = 10,
	SONDE_LOGLEVEL_DEBUG_UNIT = 11,
	SONDE_LOGLEVEL_DEBUG_FUNCTION = 12,
	SONDE_LOGLEVEL_DEBUG_LINE = 13,
	SONDE_LOGLEVEL_DEBUG = 14,
};

/* One event of a provider.  `enabled` is what call sites test. */
struct sonde_tp_event {
	int32_t enabled;
	uint32_t id; /* event class id in the recording session */
	const char *name; /* "provider:event" */
	int loglevel;
	const struct sonde_ctfw_field *fields;
	uint32_t field_count;
	/* Set while a filter (`enable-event -u --filter`) applies: the probe
	 * then builds the payload aside and records it if it passes. */
	void *filter;
};

/* Payloads up to this size are built on the stack for a filter. */
#define SONDE_TP_FILTER_STACK 512

/* A reserved event being written (probe functions only): where its bytes
 * go and the sub-buffer commit counter they are accounted to. */
struct sonde_tp_ctx {
	uint8_t *payload;
	uint64_t *commit;
	uint64_t commit_end; /* the counter's value once the packet is full */
	uint32_t size;
	void *buffers;
};

#if defined(__GNUC__)
#define SONDE_TP_EXPORT __attribute__((visibility("default")))
#else
#define SONDE_TP_EXPORT
#endif

/* libsonde-ust entry points used by the generated code. */
SONDE_TP_EXPORT void sonde_tp_register(struct sonde_tp_event *ev);
SONDE_TP_EXPORT void sonde_tp_unregister(struct sonde_tp_event *ev);
/* Room for `size` bytes of fields, after the stream event context; NULL
 * if tracing stopped meanwhile or the buffer is full (counted). */
SONDE_TP_EXPORT uint8_t *sonde_tp_reserve(const struct sonde_tp_event *ev,
					  size_t size, struct sonde_tp_ctx *ctx);
/* Records `size` bytes of fields if the event's filter passes. */
SONDE_TP_EXPORT void sonde_tp_record_filtered(const struct sonde_tp_event *ev,
					      const uint8_t *payload, size_t size);
/* Wakes the consumer: the event completed its packet. */
SONDE_TP_EXPORT void sonde_tp_packet_full(struct sonde_tp_ctx *ctx);

/* Publishes the event (inline: one atomic add on the fast path). */
static inline void sonde_tp_commit(struct sonde_tp_ctx *ctx)
{
	uint64_t old = __atomic_fetch_add(ctx->commit, ctx->size,
					  __ATOMIC_RELEASE);

	if (__builtin_expect(old + ctx->size == ctx->commit_end, 0))
		sonde_tp_packet_full(ctx);
}

/* Call site ---------------------------------------------------------------- */

#define sonde_tracepoint(prov, ev, ...)                                     \
	do {                                                                \
		if (__builtin_expect(                                       \
			    __atomic_load_n(                                \
				    &sonde_tp_event__##prov##__##ev.enabled, \
				    __ATOMIC_RELAXED),                      \
			    0))                                             \
			sonde_tp_probe__##prov##__##ev(__VA_ARGS__);        \
	} while (0)

/* True if the event is being recorded (to skip preparing arguments). */
#define sonde_tracepoint_enabled(prov, ev)                                  \
	__builtin_expect(__atomic_load_n(                                   \
				 &sonde_tp_event__##prov##__##ev.enabled,   \
				 __ATOMIC_RELAXED),                         \
			 0)

/* Declarations ------------------------------------------------------------- */

#define SONDE_TP_ARGS(...) (__VA_ARGS__)
#define SONDE_TP_FIELDS(...) __VA_ARGS__
#define SONDE_TP_ENUM_VALUES(...) __VA_ARGS__

/* Each field macro becomes a tuple (kind, ...); the lists are walked with
 * the two-macro sequence trick, once per use (description, sizing,
 * writing). */
#define sonde_field_integer(t, n, e) (int_, t, n, e, 10, SONDE_CTFW_ORDER_NATIVE)
#define sonde_field_integer_hex(t, n, e) (int_, t, n, e, 16, SONDE_CTFW_ORDER_NATIVE)
#define sonde_field_integer_network(t, n, e) (int_, t, n, e, 10, SONDE_CTFW_ORDER_BE)
#define sonde_field_integer_network_hex(t, n, e) (int_, t, n, e, 16, SONDE_CTFW_ORDER_BE)
#define sonde_field_float(t, n, e) (float_, t, n, e)
#define sonde_field_string(n, e) (string_, n, e)
#define sonde_field_array(t, n, e, len) (array_, t, n, e, len, SONDE_CTF_ENC_NONE)
#define sonde_field_array_text(t, n, e, len) (array_, t, n, e, len, SONDE_CTF_ENC_UTF8)
#define sonde_field_sequence(t, n, e, lt, len) (seq_, t, n, e, lt, len, SONDE_CTF_ENC_NONE)
#define sonde_field_sequence_text(t, n, e, lt, len) (seq_, t, n, e, lt, len, SONDE_CTF_ENC_UTF8)
#define sonde_field_enum(prov, en, t, n, e) (enum_, t, n, e, sonde_tp_enum__##prov##__##en)

#define sonde_enum_value(label, v) { (label), (v), (v), 0 },
#define sonde_enum_range(label, lo, hi) { (label), (lo), (hi), 0 },

#define SONDE__CAT(a, b) SONDE__CAT_(a, b)
#define SONDE__CAT_(a, b) a##b

/* Written so that -Wtype-limits has nothing to say for unsigned types. */
#define SONDE__IS_SIGNED(t) (!((t)-1 > (t)0))
#define SONDE__BITS(t) ((uint8_t)(sizeof(t) * 8))

/*
 * Description: the sequence results are pasted with _END, which takes them
 * through a macro argument, so they must not hold top-level commas (those
 * of a braced initializer would split it).  The field array is therefore
 * sized by a count pass and filled by assignments when the event
 * registers.
 */
#define SONDE__COUNT_A(...) +1 SONDE__COUNT_B
#define SONDE__COUNT_B(...) +1 SONDE__COUNT_A
#define SONDE__COUNT_A_END
#define SONDE__COUNT_B_END
#define SONDE__FILL_A(...) SONDE__FILL(__VA_ARGS__) SONDE__FILL_B
#define SONDE__FILL_B(...) SONDE__FILL(__VA_ARGS__) SONDE__FILL_A
#define SONDE__FILL_A_END
#define SONDE__FILL_B_END
#define SONDE__FILL(kind, ...) SONDE__FILL_##kind(__VA_ARGS__)
#define SONDE__FILL_INT(dst, t, b, ord, enc)                                   \
	dst.size = SONDE__BITS(t);                                             \
	dst.is_signed = SONDE__IS_SIGNED(t);                                   \
	dst.base = (b);                                                        \
	dst.order = (ord);                                                     \
	dst.encoding = (enc);
#define SONDE__FILL_int_(t, n, e, b, ord)                                      \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_INT;                                      \
	SONDE__FILL_INT(__f->integer, t, b, ord, SONDE_CTF_ENC_NONE) __f++;
#define SONDE__FILL_float_(t, n, e)                                            \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_FLOAT;                                    \
	__f->float_bits = SONDE__BITS(t);                                      \
	__f++;
#define SONDE__FILL_string_(n, e)                                              \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_STRING;                                   \
	__f++;
#define SONDE__FILL_array_(t, n, e, len, enc)                                  \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_ARRAY;                                    \
	__f->count = (len);                                                    \
	SONDE__FILL_INT(__f->integer, t, 10, SONDE_CTFW_ORDER_NATIVE, enc) __f++;
#define SONDE__FILL_seq_(t, n, e, lt, len, enc)                                \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_SEQUENCE;                                 \
	SONDE__FILL_INT(__f->integer, t, 10, SONDE_CTFW_ORDER_NATIVE, enc)     \
	SONDE__FILL_INT(__f->length, lt, 10, SONDE_CTFW_ORDER_NATIVE,          \
			SONDE_CTF_ENC_NONE) __f++;
#define SONDE__FILL_enum_(t, n, e, ents)                                    \
	__f->name = #n;                                                        \
	__f->kind = SONDE_CTFW_FIELD_ENUM;                                     \
	__f->count = sizeof(ents) / sizeof(ents[0]) - 1;                       \
	__f->entries = ents;                                                   \
	SONDE__FILL_INT(__f->integer, t, 10, SONDE_CTFW_ORDER_NATIVE,          \
			SONDE_CTF_ENC_NONE) __f++;

/* Sizing: evaluates the pointer/length arguments once, adds to __sz. */
#define SONDE__SIZE_A(...) SONDE__SIZE(__VA_ARGS__) SONDE__SIZE_B
#define SONDE__SIZE_B(...) SONDE__SIZE(__VA_ARGS__) SONDE__SIZE_A
#define SONDE__SIZE_A_END
#define SONDE__SIZE_B_END
#define SONDE__SIZE(kind, ...) SONDE__SIZE_##kind(__VA_ARGS__)
#define SONDE__SIZE_int_(t, n, e, base, order) __sz += sizeof(t);
#define SONDE__SIZE_float_(t, n, e) __sz += sizeof(t);
#define SONDE__SIZE_enum_(t, n, e, entries) __sz += sizeof(t);
#define SONDE__SIZE_string_(n, e)                                              \
	const char *__s_##n = (e);                                             \
	if (!__s_##n)                                                          \
		__s_##n = "(null)";                                            \
	size_t __n_##n = strlen(__s_##n) + 1;                                  \
	__sz += __n_##n;
#define SONDE__SIZE_array_(t, n, e, len, enc) __sz += sizeof(t) * (size_t)(len);
#define SONDE__SIZE_seq_(t, n, e, lt, len, enc)                                \
	const t *__q_##n = (e);                                                \
	lt __n_##n = (lt)(len);                                                \
	__sz += sizeof(lt) + sizeof(t) * (size_t)__n_##n;

/* Writing: the x86 layout (byte-aligned fields, trace = host order). */
#define SONDE__WRITE_A(...) SONDE__WRITE(__VA_ARGS__) SONDE__WRITE_B
#define SONDE__WRITE_B(...) SONDE__WRITE(__VA_ARGS__) SONDE__WRITE_A
#define SONDE__WRITE_A_END
#define SONDE__WRITE_B_END
#define SONDE__WRITE(kind, ...) SONDE__WRITE_##kind(__VA_ARGS__)
#define SONDE__WRITE_int_(t, n, e, base, order)                                \
	{                                                                      \
		t __v = (t)(e);                                                \
		if ((order) == SONDE_CTFW_ORDER_BE)                            \
			sonde_tp_store_be(__p, &__v, sizeof(t));               \
		else                                                           \
			memcpy(__p, &__v, sizeof(t));                          \
		__p += sizeof(t);                                              \
	}
#define SONDE__WRITE_float_(t, n, e)                                           \
	{                                                                      \
		t __v = (t)(e);                                                \
		memcpy(__p, &__v, sizeof(t));                                  \
		__p += sizeof(t);                                              \
	}
#define SONDE__WRITE_enum_(t, n, e, entries) SONDE__WRITE_float_(t, n, e)
#define SONDE__WRITE_string_(n, e)                                             \
	memcpy(__p, __s_##n, __n_##n);                                         \
	__p += __n_##n;
#define SONDE__WRITE_array_(t, n, e, len, enc)                                 \
	memcpy(__p, (e), sizeof(t) * (size_t)(len));                           \
	__p += sizeof(t) * (size_t)(len);
#define SONDE__WRITE_seq_(t, n, e, lt, len, enc)                               \
	memcpy(__p, &__n_##n, sizeof(lt));                                     \
	__p += sizeof(lt);                                                     \
	if (__n_##n)                                                           \
		memcpy(__p, __q_##n, sizeof(t) * (size_t)__n_##n);             \
	__p += sizeof(t) * (size_t)__n_##n;

static inline void sonde_tp_store_be(uint8_t *p, const void *v, size_t n)
{
	const uint8_t *s = (const uint8_t *)v;
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = SONDE_CTFW_HOST_ORDER == SONDE_CTF_BE ? s[i] : s[n - 1 - i];
}

#define SONDE__EVENT_DECLARE(prov, ev, args)                                   \
	extern SONDE_TP_EXPORT struct sonde_tp_event                           \
		sonde_tp_event__##prov##__##ev;                                \
	SONDE_TP_EXPORT void sonde_tp_probe__##prov##__##ev args;

#ifdef SONDE_TRACEPOINT_DEFINE

#define SONDE__EVENT_DEFINE(prov, ev, level, args, flds)                     \
	static struct sonde_ctfw_field sonde_tp_fields__##prov##__##ev[           \
		1 SONDE__CAT(SONDE__COUNT_A flds, _END)];                    \
	SONDE_TP_EXPORT struct sonde_tp_event sonde_tp_event__##prov##__##ev = { \
		.name = #prov ":" #ev,                                         \
		.loglevel = (level),                                           \
		.fields = sonde_tp_fields__##prov##__##ev,                     \
		.field_count = 0 SONDE__CAT(SONDE__COUNT_A flds, _END),      \
	};                                                                     \
	_Pragma("GCC diagnostic push")                                         \
	_Pragma("GCC diagnostic ignored \"-Wunused-parameter\"")               \
	SONDE_TP_EXPORT void sonde_tp_probe__##prov##__##ev args               \
	{                                                                      \
		struct sonde_tp_ctx __ctx;                                     \
		size_t __sz = 0;                                               \
		uint8_t *__p;                                                  \
		SONDE__CAT(SONDE__SIZE_A flds, _END)                         \
		if (__builtin_expect(                                          \
			    __atomic_load_n(&sonde_tp_event__##prov##__##ev.filter, \
					    __ATOMIC_ACQUIRE) != NULL, 0)) {   \
			uint8_t __fb[SONDE_TP_FILTER_STACK];                   \
			uint8_t *__b = __sz <= sizeof(__fb) ? __fb :           \
							      (uint8_t *)malloc(__sz); \
			if (!__b)                                              \
				return;                                        \
			__b[0] = 0; /* an event without fields writes none */  \
			__p = __b;                                             \
			SONDE__CAT(SONDE__WRITE_A flds, _END)                \
			sonde_tp_record_filtered(&sonde_tp_event__##prov##__##ev, \
						 __b, __sz);                   \
			if (__b != __fb)                                       \
				free(__b);                                     \
			return;                                                \
		}                                                              \
		__p = sonde_tp_reserve(&sonde_tp_event__##prov##__##ev, __sz,  \
				       &__ctx);                                \
		if (!__p)                                                      \
			return;                                                \
		SONDE__CAT(SONDE__WRITE_A flds, _END)                        \
		sonde_tp_commit(&__ctx);                                       \
	}                                                                      \
	_Pragma("GCC diagnostic pop")                                          \
	__attribute__((constructor)) static void                               \
	sonde_tp_ctor__##prov##__##ev(void)                                    \
	{                                                                      \
		struct sonde_ctfw_field *__f = sonde_tp_fields__##prov##__##ev; \
		SONDE__CAT(SONDE__FILL_A flds, _END)                         \
		(void)__f;                                                     \
		sonde_tp_register(&sonde_tp_event__##prov##__##ev);            \
	}                                                                      \
	__attribute__((destructor)) static void                                \
	sonde_tp_dtor__##prov##__##ev(void)                                    \
	{                                                                      \
		sonde_tp_unregister(&sonde_tp_event__##prov##__##ev);          \
	}

#define SONDE_TRACEPOINT_ENUM(prov, en, ...)                                   \
	static const struct sonde_ctfw_enum_entry sonde_tp_enum__##prov##__##en[] = { \
		__VA_ARGS__{ NULL, 0, 0, 0 }                                   \
	};

#else

#define SONDE__EVENT_DEFINE(prov, ev, level, args, flds)
#define SONDE_TRACEPOINT_ENUM(prov, en, ...)

#endif

#define SONDE_TRACEPOINT_EVENT(prov, ev, level, args, fields)                  \
	SONDE__EVENT_DECLARE(prov, ev, args)                                   \
	SONDE__EVENT_DEFINE(prov, ev, level, args, fields)


#ifdef __cplusplus
}
#endif

#endif
