/*
 * The eBPF fast path where it was not built (no clang, bpftool, libbpf or
 * BTF at build time): every session uses the ftrace backend.
 */
#include "kernel/bpf/kbpf.h"

int kbpf_create(const struct kbpf_config *cfg, struct kbpf **out,
		struct sonde_error *err)
{
	(void)cfg;
	*out = NULL;
	return sonde_error_set(err, SONDE_EINVAL,
			       "eBPF support was not built (meson -Debpf)");
}

void kbpf_free(struct kbpf *b)
{
	(void)b;
}

bool kbpf_handles(const struct kbpf *b, const char *system, const char *event)
{
	(void)b;
	(void)system;
	(void)event;
	return false;
}

void kbpf_prepare(const struct kbpf *b, const struct kfmt_event *fmt,
		  struct kmap_event *m)
{
	(void)b;
	(void)fmt;
	(void)m;
}

int kbpf_track(struct kbpf *b, enum sonde_kernel_tracker attr, bool all,
	       const uint64_t *ids, const char *const *names, size_t n,
	       struct sonde_error *err)
{
	(void)b;
	(void)attr;
	(void)all;
	(void)ids;
	(void)names;
	(void)n;
	return sonde_error_set(err, SONDE_EINVAL,
			       "eBPF support was not built (meson -Debpf)");
}

int kbpf_enable(struct kbpf *b, const char *system, const char *event,
		const struct kmap_event *m, const uint32_t *ctf_id, bool on,
		struct sonde_error *err)
{
	(void)b;
	(void)system;
	(void)event;
	(void)m;
	(void)ctf_id;
	(void)on;
	return sonde_error_set(err, SONDE_EINVAL, "eBPF support was not built");
}

int kbpf_start(struct kbpf *b, const struct kbpf_output *o,
	       struct sonde_error *err)
{
	(void)b;
	(void)o;
	(void)err;
	return 0;
}

int kbpf_stop(struct kbpf *b, uint64_t end, struct sonde_error *err)
{
	(void)b;
	(void)end;
	(void)err;
	return 0;
}

void kbpf_add_stats(const struct kbpf *b, struct sonde_kernel_stats *st)
{
	(void)b;
	(void)st;
}
