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
#include <sys/stat.h>
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

/* A /proc/<pid>[/task/<tid>]/stat line: comm, state, ppid, flags,
 * num_threads, processor.  The comm may hold spaces and parentheses: it
 * ends at the last ')'. */
int kstatedump_parse_stat(char *buf, struct kstatedump_stat *st)
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
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	p = close + 2;
	st->state = *p;
	st->ppid = 0;
	st->flags = 0;
	st->threads = 0;
	st->cpu = 0;
	/* fields after ')': 3 state, 4 ppid, ... 9 flags, ... 20 num_threads,
	 * ... 39 processor */
	for (field = 3; *p && field <= 39; field++) {
		if (field == 4)
			st->ppid = (int)strtol(p, NULL, 10);
		else if (field == 9)
			st->flags = strtoul(p, NULL, 10);
		else if (field == 20)
			st->threads = (int)strtol(p, NULL, 10);
		else if (field == 39)
			st->cpu = (int)strtol(p, NULL, 10);
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

#define PF_KTHREAD 0x00200000UL

/* A /proc directory listed with getdents64 into a buffer of its own:
 * opendir() adds an fstat and an fcntl per directory, on a few hundred
 * directories per session start. */
struct proc_dir {
	int fd;
	size_t pos, len;
	union {
		struct dirent64 align;
		char bytes[4096];
	} buf;
};

static int proc_dir_open(struct proc_dir *d, int at, const char *name)
{
	d->fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->pos = 0;
	d->len = 0;
	return d->fd < 0 ? -1 : 0;
}

/* The next entry whose name is a number (a pid, tid or fd); NULL at the
 * end, or when the directory went away. */
static const char *proc_dir_next(struct proc_dir *d)
{
	for (;;) {
		struct dirent64 *de;

		if (d->pos >= d->len) {
			ssize_t n = getdents64(d->fd, d->buf.bytes,
					       sizeof(d->buf.bytes));

			if (n <= 0)
				return NULL;
			d->pos = 0;
			d->len = (size_t)n;
		}
		de = (struct dirent64 *)(void *)(d->buf.bytes + d->pos);
		d->pos += de->d_reclen;
		if (all_digits(de->d_name))
			return de->d_name;
	}
}

/* "<pid>/<leaf>", to open under /proc: a process's files are opened by
 * such paths rather than under an fd of its directory, which would cost
 * an open and a close more per process. */
static const char *pid_path(char out[64], const char *pid, const char *leaf)
{
	snprintf(out, 64, "%s/%s", pid, leaf);
	return out;
}

/* The flags /proc/PID/fdinfo/FD shows (the file's f_flags, plus O_CLOEXEC
 * from the fd table) of one of our own fds, or -1.  fdinfo costs some
 * 8 us per fd here, the daemon's own ~45 (BPF objects, epoll, streams)
 * included; two fcntl() a tenth of that. */
static long own_fd_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	if (fl < 0 || fdfl < 0)
		return -1;
	return (long)((unsigned int)fl |
		      ((fdfl & FD_CLOEXEC) ? (unsigned int)O_CLOEXEC : 0u));
}

/* The fds of process `pid` (`pid_name` under the /proc fd `proc`). */
static int dump_fds(kstatedump_emit_fn emit, void *arg, int proc,
		    const char *pid_name, int pid)
{
	bool own = pid == getpid();
	struct proc_dir d;
	int info_dir = -1, ret = 0;
	const char *name;
	char path[64];

	if (proc_dir_open(&d, proc, pid_path(path, pid_name, "fd")) < 0)
		return 0; /* gone, or not ours to read */
	while (!ret && (name = proc_dir_next(&d))) {
		char target[4096], info[512], *flags_line;
		struct kstatedump_value v[5];
		unsigned long flags = 0;
		long own_flags;
		ssize_t n;

		n = readlinkat(d.fd, name, target, sizeof(target) - 1);
		if (n < 0 && errno == EACCES)
			break; /* a process we may not inspect: all its fds */
		if (n < 0)
			continue;
		target[n] = '\0';
		if (own && (own_flags = own_fd_flags(atoi(name))) >= 0) {
			flags = (unsigned long)own_flags;
		} else {
			if (info_dir < 0)
				info_dir = openat(
					proc,
					pid_path(path, pid_name, "fdinfo"),
					O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			/* "pos:\t0\nflags:\t0100002\n..." */
			if (info_dir >= 0 &&
			    read_at(info_dir, name, info, sizeof(info)) > 0 &&
			    (flags_line = strstr(info, "flags:")))
				flags = strtoul(flags_line + 6, NULL, 8);
		}
		v[0].i = pid;
		v[1].i = atoi(name);
		v[2].i = (int64_t)flags;
		/* FMODE_READ 1, FMODE_WRITE 2 from the access mode */
		v[3].i = (flags & 3) == 0 ? 1 : (flags & 3) == 1 ? 2 : 3;
		v[4].s = target;
		ret = emit(arg, SD_FD, v);
	}
	if (info_dir >= 0)
		close(info_dir);
	close(d.fd);
	return ret;
}

static int emit_thread(kstatedump_emit_fn emit, void *arg, int tid, int pid,
		       const struct kstatedump_stat *st)
{
	bool kthread = st->flags & PF_KTHREAD;
	struct kstatedump_value v[10];

	memset(v, 0, sizeof(v));
	v[0].i = tid;
	v[1].i = pid;
	v[2].i = st->ppid;
	v[3].s = st->comm;
	v[4].i = kthread ? 1 : 0;
	v[5].i = 5; /* LTTNG_MODE_UNKNOWN */
	v[6].i = 1; /* LTTNG_UNKNOWN */
	v[7].i = status_of(st->state);
	v[8].i = st->cpu;
	v[9].i = kthread ? 0 : pid;
	return emit(arg, SD_PROCESS, v);
}

/* The threads of process `pid` (`pid_name` under the /proc fd `proc`). */
static int dump_threads(kstatedump_emit_fn emit, void *arg, int proc,
			const char *pid_name, int pid)
{
	struct proc_dir tasks;
	const char *tid;
	char path[64];
	int ret = 0;

	if (proc_dir_open(&tasks, proc, pid_path(path, pid_name, "task")) < 0)
		return 0;
	while (!ret && (tid = proc_dir_next(&tasks))) {
		struct kstatedump_stat st;
		char buf[1024];

		if (read_at(tasks.fd, pid_path(path, tid, "stat"), buf,
			    sizeof(buf)) < 0 ||
		    kstatedump_parse_stat(buf, &st) < 0)
			continue;
		ret = emit_thread(emit, arg, atoi(tid), pid, &st);
	}
	close(tasks.fd);
	return ret;
}

/* Whether process `pid_name` (under the /proc fd `proc`) may have open
 * files.  Since Linux 6.2 a stat of /proc/PID/fd gives the number of open
 * files as its size (`fd_counts`, checked once on our own); kernel threads
 * have none, and this spares listing some sixty empty directories. */
static bool may_have_fds(int proc, const char *pid_name, bool fd_counts,
			 const struct kstatedump_stat *st)
{
	struct stat sb;
	char path[64];

	if (!fd_counts || !(st->flags & PF_KTHREAD))
		return true;
	return fstatat(proc, pid_path(path, pid_name, "fd"), &sb, 0) < 0 ||
	       sb.st_size != 0;
}

static int dump_process(kstatedump_emit_fn emit, void *arg, int proc,
			const char *pid_name, bool fd_counts)
{
	struct kstatedump_stat st;
	int ret, pid = atoi(pid_name);
	char buf[1024], path[64];

	if (read_at(proc, pid_path(path, pid_name, "stat"), buf,
		    sizeof(buf)) < 0 ||
	    kstatedump_parse_stat(buf, &st) < 0)
		return 0; /* gone since the listing */
	/* A live leader alone in its group is the process's only thread,
	 * and the process's stat line is then that thread's: no need to
	 * list task/ and read its stat again. */
	if (st.threads == 1 && st.state != 'Z' && st.state != 'X')
		ret = emit_thread(emit, arg, pid, pid, &st);
	else
		ret = dump_threads(emit, arg, proc, pid_name, pid);
	if (!ret && may_have_fds(proc, pid_name, fd_counts, &st))
		ret = dump_fds(emit, arg, proc, pid_name, pid);
	return ret;
}

static int dump_processes(kstatedump_emit_fn emit, void *arg)
{
	struct proc_dir proc;
	const char *name;
	struct stat sb;
	bool fd_counts;
	int ret = 0;

	if (proc_dir_open(&proc, AT_FDCWD, "/proc") < 0)
		return 0;
	/* we hold at least the fd of /proc open */
	fd_counts = stat("/proc/self/fd", &sb) == 0 && sb.st_size > 0;
	while (!ret && (name = proc_dir_next(&proc)))
		ret = dump_process(emit, arg, proc.fd, name, fd_counts);
	close(proc.fd);
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

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/dev", de->d_name);
		if (read_at(dirfd(d), path, buf, sizeof(buf)) > 0 &&
		    sscanf(buf, "%u:%u", &maj, &min) == 2) {
			/* the kernel's dev_t: major << 20 | minor */
			v[0].i = (int64_t)((maj << 20) | min);
			v[1].s = de->d_name;
			ret = emit(arg, SD_BLOCK, v);
		}
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
