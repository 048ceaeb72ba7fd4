/*
 * Helpers to walk a value tape.
 */
#include "sonde/ctf.h"

#include <string.h>

int32_t sonde_ctf_value_struct_member(const struct sonde_ctf_value *values,
				      int32_t at, const char *name)
{
	const struct sonde_ctf_type *t;
	uint32_t i;
	uint64_t k;

	if (!values || at < 0 || !name)
		return -1;
	t = values[at].type;
	if (!t || t->kind != SONDE_CTF_STRUCT)
		return -1;
	i = (uint32_t)at + 1;
	for (k = 0; k < values[at].v.count && k < t->u.structure.count; k++) {
		const char *written = t->u.structure.fields[k].name;

		if (written && (strcmp(written, name) == 0 ||
				strcmp(sonde_ctf_display_name(written), name) == 0))
			return (int32_t)i;
		i = values[i].end;
	}
	return -1;
}
