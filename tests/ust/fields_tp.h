/* Test provider: every field kind (tests/ust). */
#ifndef FIELDS_TP_H
#define FIELDS_TP_H

#include <stdint.h>

#include "sonde/tracepoint.h"

SONDE_TRACEPOINT_ENUM(fields, color,
	SONDE_TP_ENUM_VALUES(
		sonde_enum_value("RED", 0)
		sonde_enum_value("GREEN", 1)
		sonde_enum_range("MANY", 10, 19)))

SONDE_TRACEPOINT_EVENT(fields, ints, SONDE_LOGLEVEL_INFO,
	SONDE_TP_ARGS(int8_t s8, uint8_t u8, int16_t s16, uint16_t u16,
		      int32_t s32, uint32_t u32, int64_t s64, uint64_t u64),
	SONDE_TP_FIELDS(
		sonde_field_integer(int8_t, s8, s8)
		sonde_field_integer(uint8_t, u8, u8)
		sonde_field_integer(int16_t, s16, s16)
		sonde_field_integer(uint16_t, u16, u16)
		sonde_field_integer(int32_t, s32, s32)
		sonde_field_integer(uint32_t, u32, u32)
		sonde_field_integer(int64_t, s64, s64)
		sonde_field_integer(uint64_t, u64, u64)
		sonde_field_integer_hex(uint32_t, x32, u32)
		sonde_field_integer_hex(uint64_t, x64, u64)
		sonde_field_integer_network(uint16_t, n16, u16)
		sonde_field_integer_network(int32_t, n32, s32)
		sonde_field_integer_network_hex(uint64_t, nx64, u64)))

SONDE_TRACEPOINT_EVENT(fields, floats, SONDE_LOGLEVEL_DEBUG,
	SONDE_TP_ARGS(float f, double d),
	SONDE_TP_FIELDS(
		sonde_field_float(float, f, f)
		sonde_field_float(double, d, d)))

SONDE_TRACEPOINT_EVENT(fields, texts, SONDE_LOGLEVEL_WARNING,
	SONDE_TP_ARGS(const char *s, const char *a8, const char *seq,
		      uint16_t seqlen),
	SONDE_TP_FIELDS(
		sonde_field_string(s, s)
		sonde_field_array_text(char, a8, a8, 8)
		sonde_field_sequence_text(char, seq, seq, uint16_t, seqlen)))

SONDE_TRACEPOINT_EVENT(fields, arrays, SONDE_LOGLEVEL_DEBUG_LINE,
	SONDE_TP_ARGS(const int32_t *a3, const uint8_t *bytes, uint32_t n,
		      const int64_t *s64, uint8_t n64),
	SONDE_TP_FIELDS(
		sonde_field_array(int32_t, a3, a3, 3)
		sonde_field_sequence(uint8_t, bytes, bytes, uint32_t, n)
		sonde_field_sequence(int64_t, s64, s64, uint8_t, n64)))

SONDE_TRACEPOINT_EVENT(fields, enums, SONDE_LOGLEVEL_ERR,
	SONDE_TP_ARGS(int c, unsigned int k),
	SONDE_TP_FIELDS(
		sonde_field_enum(fields, color, int32_t, c, c)
		sonde_field_enum(fields, color, uint8_t, k, k)))

SONDE_TRACEPOINT_EVENT(fields, empty, SONDE_LOGLEVEL_DEBUG,
	SONDE_TP_ARGS(void),
	SONDE_TP_FIELDS())

SONDE_TRACEPOINT_EVENT(fields, seq, SONDE_LOGLEVEL_DEBUG,
	SONDE_TP_ARGS(uint32_t thread, uint32_t i),
	SONDE_TP_FIELDS(
		sonde_field_integer(uint32_t, thread, thread)
		sonde_field_integer(uint32_t, i, i)))

#endif
