/*
 * The session-start state dump, as lttng-modules 2.12+ writes it
 * (lttng_statedump_* events, ctf.md §2.5), built from what /proc and /sys
 * show to an unprivileged-module-free tracer: processes and threads, file
 * descriptors, block devices, CPU topology, network interfaces and
 * interrupts.  Values the kernel keeps private (the file table address)
 * are replaced by stable stand-ins (the thread group id), so that
 * process_state and file_descriptor still link up.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kernel/kernel-internal.h"

enum {
	SD_START,
	SD_END,
	SD_PROCESS,
	SD_FD,
	SD_BLOCK,
	SD_CPU,
	SD_NET,
	SD_IRQ,
	SD_COUNT,
};

static const struct sonde_ctfw_field sd_process_f[] = {
	SONDE_CTFW_INTEGER("tid", 32, true),
	SONDE_CTFW_INTEGER("pid", 32, true),
	SONDE_CTFW_INTEGER("ppid", 32, true),
	SONDE_CTFW_ARRAY_TEXT("name", 16),
	SONDE_CTFW_INTEGER("type", 32, true),
	SONDE_CTFW_INTEGER("mode", 32, true),
	SONDE_CTFW_INTEGER("submode", 32, true),
	SONDE_CTFW_INTEGER("status", 32, true),
	SONDE_CTFW_INTEGER("cpu", 32, false),
	SONDE_CTFW_INTEGER_HEX("file_table_address", 64, false),
};
static const struct sonde_ctfw_field sd_fd_f[] = {
	SONDE_CTFW_INTEGER_HEX("file_table_address", 64, false),
	SONDE_CTFW_INTEGER("fd", 32, true),
	SONDE_CTFW_INTEGER_OCT("flags", 32, false),
	SONDE_CTFW_INTEGER_HEX("fmode", 32, false),
	SONDE_CTFW_STRING("filename"),
};
static const struct sonde_ctfw_field sd_block_f[] = {
	SONDE_CTFW_INTEGER("dev", 32, false),
	SONDE_CTFW_STRING("diskname"),
};
static const struct sonde_ctfw_field sd_cpu_f[] = {
	SONDE_CTFW_STRING("architecture"),
	SONDE_CTFW_INTEGER("cpu_id", 16, false),
	SONDE_CTFW_STRING("vendor"),
	SONDE_CTFW_INTEGER("family", 8, false),
	SONDE_CTFW_INTEGER("model", 8, false),
	SONDE_CTFW_STRING("model_name"),
	SONDE_CTFW_INTEGER("physical_id", 16, false),
	SONDE_CTFW_INTEGER("core_id", 16, false),
	SONDE_CTFW_INTEGER("cores", 16, false),
};
static const struct sonde_ctfw_field sd_net_f[] = {
	SONDE_CTFW_STRING("name"),
	SONDE_CTFW_INTEGER_NETWORK_HEX("address_ipv4", 32, false),
};
static const struct sonde_ctfw_field sd_irq_f[] = {
	SONDE_CTFW_INTEGER("irq", 32, false),
	SONDE_CTFW_STRING("name"),
	SONDE_CTFW_STRING("action"),
	SONDE_CTFW_INTEGER("tid", 32, true),
};

#define SD_CLASS(n, f) { n, f, sizeof(f) / sizeof((f)[0]) }

static const struct kstatedump_class sd_classes[SD_COUNT] = {
	[SD_START] = { "lttng_statedump_start", NULL, 0 },
	[SD_END] = { "lttng_statedump_end", NULL, 0 },
	[SD_PROCESS] = SD_CLASS("lttng_statedump_process_state", sd_process_f),
	[SD_FD] = SD_CLASS("lttng_statedump_file_descriptor", sd_fd_f),
	[SD_BLOCK] = SD_CLASS("lttng_statedump_block_device", sd_block_f),
	[SD_CPU] = SD_CLASS("lttng_statedump_cpu_topology", sd_cpu_f),
	[SD_NET] = SD_CLASS("lttng_statedump_network_interface", sd_net_f),
	[SD_IRQ] = SD_CLASS("lttng_statedump_interrupt", sd_irq_f),
};

const struct kstatedump_class *kstatedump_classes(size_t *count)
{
	*count = SD_COUNT;
	return sd_classes;
}

size_t kstatedump_size(size_t cls, const struct kstatedump_value *v)
{
	const struct kstatedump_class *c = &sd_classes[cls];
	size_t i, n = 0;

	for (i = 0; i < c->count; i++) {
		const struct sonde_ctfw_field *f = &c->fields[i];

		if (f->kind == SONDE_CTFW_FIELD_STRING)
			n += strlen(v[i].s ? v[i].s : "") + 1;
		else if (f->kind == SONDE_CTFW_FIELD_ARRAY)
			n += f->count;
		else
			n += f->integer.size / 8;
	}
	return n;
}

void kstatedump_encode(size_t cls, const struct kstatedump_value *v,
		       struct sonde_ctfw_cursor *c)
{
	const struct kstatedump_class *k = &sd_classes[cls];
	size_t i;

	for (i = 0; i < k->count; i++) {
		const struct sonde_ctfw_field *f = &k->fields[i];

		if (f->kind == SONDE_CTFW_FIELD_STRING)
			sonde_ctfw_put_string(c, v[i].s ? v[i].s : "");
		else if (f->kind == SONDE_CTFW_FIELD_ARRAY)
			sonde_ctfw_put_text_array(c, v[i].s ? v[i].s : "",
						  f->count);
		else
			sonde_ctfw_put_int(c, (uint64_t)v[i].i,
					   f->integer.size / 8,
					   f->integer.order ==
							   SONDE_CTFW_ORDER_BE ?
						   SONDE_CTF_BE :
						   c->byte_order);
	}
}

/* Processes ------------------------------------------------------------------ */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Reads a small /proc file, `name` under the directory `dir`, into `buf`
 * as a string.  The walk below opens relative to each process's directory:
 * a full /proc path costs a path walk per file, and stdio a buffer and an
 * fstat, on some thousand files per session start. */
static ssize_t read_at(int dir, const char *name, char *buf, size_t size)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* A /proc/<pid>/task/<tid>/stat line: comm, state, ppid, flags,
 * processor.  The comm may hold spaces and parentheses: it ends at the
 * last ')'. */
int kstatedump_parse_stat(char *buf, char comm[17], char *state, int *ppid,
			  unsigned long *flags, int *cpu)
{
	char *open, *close, *p;
	size_t n;
	int field;

	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -1;
	n = (size_t)(close - open - 1);
	if (n > 16)
		n = 16;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	p = close + 2;
	*state = *p;
	*ppid = 0;
	*flags = 0;
	*cpu = 0;
	/* fields after ')': 3 state, 4 ppid, ... 9 flags, ... 39 processor */
	for (field = 3; *p && field <= 39; field++) {
		if (field == 4)
			*ppid = (int)strtol(p, NULL, 10);
		else if (field == 9)
			*flags = strtoul(p, NULL, 10);
		else if (field == 39)
			*cpu = (int)strtol(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	return 0;
}

/* lttng's enum lttng_process_status */
static int status_of(char state)
{
	switch (state) {
	case 'R':
		return 6; /* LTTNG_RUN */
	case 'Z':
		return 4; /* LTTNG_ZOMBIE */
	case 'X':
		return 7; /* LTTNG_DEAD */
	case 'S':
	case 'D':
	case 'I':
		return 5; /* LTTNG_WAIT */
	default:
		return 0; /* LTTNG_UNNAMED */
	}
}

static DIR *opendir_at(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* The fds of the process whose /proc directory is `pid_dir`. */
static int dump_fds(kstatedump_emit_fn emit, void *arg, int pid_dir, int pid)
{
	DIR *d = opendir_at(pid_dir, "fd");
	int info_dir = -1, ret = 0;
	struct dirent *de;

	if (!d)
		return 0; /* gone, or not ours to read */
	while (!ret && (de = readdir(d))) {
		char target[4096], info[512], *flags_line;
		struct kstatedump_value v[5];
		unsigned long flags = 0;
		ssize_t n;

		if (!all_digits(de->d_name))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (info_dir < 0)
			info_dir = openat(pid_dir, "fdinfo",
					  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* "pos:\t0\nflags:\t0100002\n..." */
		if (info_dir >= 0 &&
		    read_at(info_dir, de->d_name, info, sizeof(info)) > 0 &&
		    (flags_line = strstr(info, "flags:")))
			flags = strtoul(flags_line + 6, NULL, 8);
		v[0].i = pid;
		v[1].i = atoi(de->d_name);
		v[2].i = (int64_t)flags;
		/* FMODE_READ 1, FMODE_WRITE 2 from the access mode */
		v[3].i = (flags & 3) == 0 ? 1 : (flags & 3) == 1 ? 2 : 3;
		v[4].s = target;
		ret = emit(arg, SD_FD, v);
	}
	if (info_dir >= 0)
		close(info_dir);
	closedir(d);
	return ret;
}

/* The threads of the process whose /proc directory is `pid_dir`. */
static int dump_threads(kstatedump_emit_fn emit, void *arg, int pid_dir,
			int pid)
{
	DIR *tasks = opendir_at(pid_dir, "task");
	struct dirent *te;
	int ret = 0;

	if (!tasks)
		return 0;
	while (!ret && (te = readdir(tasks))) {
		struct kstatedump_value v[10];
		char path[300], buf[1024], comm[17], state;
		unsigned long flags;
		int ppid, cpu;

		if (!all_digits(te->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/stat", te->d_name);
		if (read_at(dirfd(tasks), path, buf, sizeof(buf)) < 0 ||
		    kstatedump_parse_stat(buf, comm, &state, &ppid, &flags,
					  &cpu) < 0)
			continue;
		memset(v, 0, sizeof(v));
		v[0].i = atoi(te->d_name);
		v[1].i = pid;
		v[2].i = ppid;
		v[3].s = comm;
		v[4].i = (flags & 0x00200000) ? 1 : 0; /* PF_KTHREAD */
		v[5].i = 5; /* LTTNG_MODE_UNKNOWN */
		v[6].i = 1; /* LTTNG_UNKNOWN */
		v[7].i = status_of(state);
		v[8].i = cpu;
		v[9].i = (flags & 0x00200000) ? 0 : pid;
		ret = emit(arg, SD_PROCESS, v);
	}
	closedir(tasks);
	return ret;
}

static int dump_processes(kstatedump_emit_fn emit, void *arg)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;
	int ret = 0;

	if (!proc)
		return 0;
	while (!ret && (pe = readdir(proc))) {
		int pid_dir, pid;

		if (!all_digits(pe->d_name))
			continue;
		/* gone since the listing: nothing to dump */
		pid_dir = openat(dirfd(proc), pe->d_name,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pid_dir < 0)
			continue;
		pid = atoi(pe->d_name);
		ret = dump_threads(emit, arg, pid_dir, pid);
		if (!ret)
			ret = dump_fds(emit, arg, pid_dir, pid);
		close(pid_dir);
	}
	closedir(proc);
	return ret;
}

/* Devices, CPUs, interfaces, interrupts ---------------------------------- */

static int dump_block_devices(kstatedump_emit_fn emit, void *arg)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *de;
	int ret = 0;

	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		char path[300], buf[32];
		struct kstatedump_value v[2];
		unsigned int maj, min;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev",
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%u:%u", &maj, &min) == 2) {
			/* the kernel's dev_t: major << 20 | minor */
			v[0].i = (int64_t)((maj << 20) | min);
			v[1].s = de->d_name;
			ret = emit(arg, SD_BLOCK, v);
		}
		fclose(f);
	}
	closedir(d);
	return ret;
}

static int dump_cpus(kstatedump_emit_fn emit, void *arg)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512], vendor[64] = "", model_name[160] = "";
	int cpu = -1, family = 0, model = 0, phys = 0, core = 0, cores = 1;
	int ret = 0;

	if (!f)
		return 0;
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);
		char *colon = eof ? NULL : strchr(line, ':');
		char *val = colon ? colon + 1 : NULL;

		if (val) {
			while (*val == ' ')
				val++;
			val[strcspn(val, "\n")] = '\0';
		}
		if ((eof || line[0] == '\n') && cpu >= 0) {
			struct kstatedump_value v[9] = { 0 };

			v[0].s = "x86";
			v[1].i = cpu;
			v[2].s = vendor;
			v[3].i = family;
			v[4].i = model;
			v[5].s = model_name;
			v[6].i = phys;
			v[7].i = core;
			v[8].i = cores;
			ret = emit(arg, SD_CPU, v);
			cpu = -1;
			if (ret)
				break;
		}
		if (eof)
			break;
		if (!val)
			continue;
		if (strncmp(line, "processor", 9) == 0)
			cpu = atoi(val);
		else if (strncmp(line, "vendor_id", 9) == 0)
			snprintf(vendor, sizeof(vendor), "%s", val);
		else if (strncmp(line, "cpu family", 10) == 0)
			family = atoi(val);
		else if (strncmp(line, "model name", 10) == 0)
			snprintf(model_name, sizeof(model_name), "%s", val);
		else if (strncmp(line, "model\t", 6) == 0)
			model = atoi(val);
		else if (strncmp(line, "physical id", 11) == 0)
			phys = atoi(val);
		else if (strncmp(line, "core id", 7) == 0)
			core = atoi(val);
		else if (strncmp(line, "cpu cores", 9) == 0)
			cores = atoi(val);
	}
	fclose(f);
	return ret;
}

static int dump_interfaces(kstatedump_emit_fn emit, void *arg)
{
	struct ifaddrs *ifs, *i;
	int ret = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i && !ret; i = i->ifa_next) {
		struct kstatedump_value v[2];

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		v[0].s = i->ifa_name;
		v[1].i = ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)
				       ->sin_addr.s_addr);
		ret = emit(arg, SD_NET, v);
	}
	freeifaddrs(ifs);
	return ret;
}

/* /proc/interrupts: "  9:  0  0  IO-APIC  9-fasteoi  acpi, other" */
static int dump_interrupts(kstatedump_emit_fn emit, void *arg)
{
	FILE *f = fopen("/proc/interrupts", "re");
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char line[1024];
	int ret = 0;

	if (!f)
		return 0;
	while (!ret && fgets(line, sizeof(line), f)) {
		char *p = line, *end, *chip, *action, *tok;
		long irq, c;

		while (*p == ' ')
			p++;
		irq = strtol(p, &end, 10);
		if (end == p || *end != ':')
			continue;
		p = end + 1;
		for (c = 0; c < ncpu; c++) {
			strtoul(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
		while (*p == ' ')
			p++;
		chip = p;
		p += strcspn(p, " \n");
		if (*p)
			*p++ = '\0';
		/* skip the hwirq/type column, the rest are action names */
		while (*p == ' ')
			p++;
		p += strcspn(p, " \n");
		while (*p == ' ')
			p++;
		action = p;
		action[strcspn(action, "\n")] = '\0';
		for (tok = strtok(action, ","); tok && !ret;
		     tok = strtok(NULL, ",")) {
			struct kstatedump_value v[4];

			while (*tok == ' ')
				tok++;
			if (!*tok)
				continue;
			v[0].i = irq;
			v[1].s = chip;
			v[2].s = tok;
			v[3].i = 0;
			ret = emit(arg, SD_IRQ, v);
		}
	}
	fclose(f);
	return ret;
}

int kstatedump_run(kstatedump_emit_fn emit, void *arg,
		   struct sonde_error *err)
{
	int ret;

	(void)err;
	ret = emit(arg, SD_START, NULL);
	if (!ret)
		ret = dump_processes(emit, arg);
	if (!ret)
		ret = dump_block_devices(emit, arg);
	if (!ret)
		ret = dump_cpus(emit, arg);
	if (!ret)
		ret = dump_interfaces(emit, arg);
	if (!ret)
		ret = dump_interrupts(emit, arg);
	if (!ret)
		ret = emit(arg, SD_END, NULL);
	return ret;
}
