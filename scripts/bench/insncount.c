// SPDX-License-Identifier: GPL-2.0
/*
 * insncount.c - a QEMU TCG plugin that counts the guest instructions
 * executed between two marks set from inside the guest, per block of guest
 * kernel code.
 *
 * Why: under TCG, wall-clock numbers swing with host load, but the number
 * of guest instructions a driver executes per I/O does not.  The benchmark
 * (scripts/bench.sh) loads this plugin, the guest runs fio, and around a
 * stretch of each fio run it executes two marker instructions:
 *
 *	66 87 db	xchg %bx,%bx	start a window (clear all counts)
 *	66 87 c9	xchg %cx,%cx	stop it (print the counts)
 *
 * Both are no-ops for the CPU (a register exchanged with itself) that
 * compilers do not emit, so nothing else triggers them by accident (and if
 * something did, the host would see more windows than runs and say so).
 * The guest program scripts/bench/vrbmark.c executes them.
 *
 * At each stop the plugin prints, through QEMU's log (-D FILE -d plugin):
 *
 *	insncount: start 3
 *	insncount: stop 3 user 1234 kernel 56789
 *	insncount: tb 3 ffffffffc0a41230 4321
 *	...
 *	insncount: end 3
 *
 * "user" and "kernel" are the instructions executed at lower-half and
 * upper-half (kernel) virtual addresses; each "tb" line gives the kernel
 * instructions executed in the blocks that start at that address.  The host
 * knows from the guest's /proc/modules and /proc/kallsyms which module and
 * which function each address belongs to, and adds them up
 * (scripts/bench/report.py).  The same log holds QEMU's trace events
 * (-trace), so events between "start N" and "stop N" happened inside
 * window N.
 *
 * How the counting works: QEMU translates guest code in translation blocks
 * (TBs, straight-line runs of instructions ending at a branch).  For each
 * new TB the plugin allocates a record {start address, instruction count,
 * execution counter} and asks QEMU to emit, at the head of the translated
 * code, an inline "counter += 1" (no function call: cheap).  Instructions
 * executed = sum of count * executions over all records.  A TB left early
 * (an exception or interrupt in its middle) is still counted whole: the
 * error is a few instructions per interrupt.
 *
 * Limits: the inline adds are not atomic, so the counts are exact only
 * when one host thread runs guest code at a time: one vCPU, or several
 * that take turns on one thread (-accel tcg,thread=single, QEMU's
 * "round-robin" TCG).  With several vCPUs in parallel threads (MTTCG,
 * QEMU's default for x86 guests), two vCPUs executing the same block
 * would both read the counter, add one and write it back, and one of the
 * additions would be lost.  QEMU 7.2 does not tell a plugin which mode
 * it runs in, so with more than one vCPU the caller must promise
 * thread=single with the argument one_thread=on, or the plugin refuses to
 * load.  Records are never freed (QEMU keeps pointers to them in
 * translated code); a TB translated again gets a new record.
 *
 * Build:  gcc -Wall -Wextra -Werror -O2 -shared -fPIC -fvisibility=hidden
 *	       -o insncount.so insncount.c
 * Use:    qemu-system-x86_64 -accel tcg -smp 1 -plugin ./insncount.so \
 *	       -d plugin -D qemu.log ...
 *	   qemu-system-x86_64 -accel tcg,thread=single -smp 2 \
 *	       -plugin ./insncount.so,one_thread=on -d plugin -D qemu.log ...
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-v1.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* One translated block of guest code. */
struct tb_rec {
	uint64_t vaddr;		/* guest virtual address of its first insn */
	uint64_t execs;		/* times executed; QEMU's inline op adds 1 */
	uint64_t ninsns;	/* instructions in the block */
};

/*
 * Records live in fixed-size chunks that never move (QEMU holds pointers
 * to the execs fields); chunk pointers are kept in a growing array.
 */
#define RECS_PER_CHUNK 65536

/* Instructions executed in the blocks starting at one address. */
struct addr_count {
	uint64_t vaddr;		/* guest virtual address of the blocks */
	uint64_t insns;		/* instructions executed in them */
};

/* x86-64: addresses with the top bit set are the kernel's half. */
#define KERNEL_HALF (UINT64_C(1) << 63)

/* The two marker instructions (see the head comment). */
static const uint8_t mark_start[] = { 0x66, 0x87, 0xdb };
static const uint8_t mark_stop[] = { 0x66, 0x87, 0xc9 };

enum mark { MARK_START = 1, MARK_STOP = 2 };

static struct {
	pthread_mutex_t lock;	/* protects chunks, nchunks, nrecs */
	struct tb_rec **chunks;
	size_t nchunks;
	size_t nrecs;		/* records in use, over all chunks */
	unsigned int window;	/* number of the current/last window */
	int open;		/* a window is running */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Allocate a record for a new TB.  Called with st.lock held. */
static struct tb_rec *rec_alloc(void)
{
	size_t chunk = st.nrecs / RECS_PER_CHUNK;
	struct tb_rec **chunks;

	if (chunk == st.nchunks) {
		chunks = realloc(st.chunks, (st.nchunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		st.chunks = chunks;
		st.chunks[chunk] = calloc(RECS_PER_CHUNK, sizeof(struct tb_rec));
		if (!st.chunks[chunk])
			return NULL;
		st.nchunks++;
	}
	return &st.chunks[chunk][st.nrecs++ % RECS_PER_CHUNK];
}

/* The i-th record. */
static struct tb_rec *rec_at(size_t i)
{
	return &st.chunks[i / RECS_PER_CHUNK][i % RECS_PER_CHUNK];
}

static int addr_cmp(const void *a, const void *b)
{
	const struct addr_count *x = a, *y = b;

	return (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
}

/* MARK_START: forget every count so far. */
static void window_start(void)
{
	char line[64];
	size_t i;

	pthread_mutex_lock(&st.lock);
	for (i = 0; i < st.nrecs; i++)
		rec_at(i)->execs = 0;
	st.window++;
	st.open = 1;
	pthread_mutex_unlock(&st.lock);
	snprintf(line, sizeof(line), "insncount: start %u\n", st.window);
	qemu_plugin_outs(line);
}

/*
 * MARK_STOP: add the counts up per kernel address and print them, in one
 * qemu_plugin_outs() call so that no trace event lands in the middle.
 * (A block translated twice, e.g. after a flush of QEMU's code cache, has
 * two records with the same address: they are merged.)
 */
static void window_stop(void)
{
	struct addr_count *addrs;
	uint64_t user = 0, kernel = 0;
	size_t i, n = 0, m, len, size;
	char *out;

	pthread_mutex_lock(&st.lock);
	if (!st.open) {
		pthread_mutex_unlock(&st.lock);
		qemu_plugin_outs("insncount: stop without start, ignored\n");
		return;
	}
	st.open = 0;
	addrs = malloc((st.nrecs + 1) * sizeof(*addrs));
	if (!addrs) {
		pthread_mutex_unlock(&st.lock);
		qemu_plugin_outs("insncount: out of memory\n");
		return;
	}
	for (i = 0; i < st.nrecs; i++) {
		struct tb_rec *r = rec_at(i);
		uint64_t insns = r->execs * r->ninsns;

		if (!insns)
			continue;
		if (!(r->vaddr & KERNEL_HALF)) {
			user += insns;
			continue;
		}
		kernel += insns;
		addrs[n].vaddr = r->vaddr;
		addrs[n].insns = insns;
		n++;
	}
	pthread_mutex_unlock(&st.lock);

	/* Sort by address, then merge the records of the same address. */
	qsort(addrs, n, sizeof(*addrs), addr_cmp);
	for (i = 0, m = 0; i < n; i++) {
		if (m && addrs[m - 1].vaddr == addrs[i].vaddr)
			addrs[m - 1].insns += addrs[i].insns;
		else
			addrs[m++] = addrs[i];
	}

	/* 64 bytes is more than one line ever needs. */
	size = (m + 3) * 64;
	out = malloc(size);
	if (!out) {
		free(addrs);
		qemu_plugin_outs("insncount: out of memory\n");
		return;
	}
	len = snprintf(out, size, "insncount: stop %u user %" PRIu64
		       " kernel %" PRIu64 "\n", st.window, user, kernel);
	for (i = 0; i < m; i++)
		len += snprintf(out + len, size - len,
				"insncount: tb %u %" PRIx64 " %" PRIu64 "\n",
				st.window, addrs[i].vaddr, addrs[i].insns);
	snprintf(out + len, size - len, "insncount: end %u\n", st.window);
	qemu_plugin_outs(out);
	free(out);
	free(addrs);
}

/* Runs just before a marker instruction executes. */
static void vcpu_mark(unsigned int vcpu_index, void *userdata)
{
	(void)vcpu_index;
	if ((uintptr_t)userdata == MARK_START)
		window_start();
	else
		window_stop();
}

/* Is this instruction one of our markers?  Returns MARK_* or 0. */
static enum mark insn_mark(const struct qemu_plugin_insn *insn)
{
	const void *data = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != sizeof(mark_start))
		return 0;
	if (!memcmp(data, mark_start, sizeof(mark_start)))
		return MARK_START;
	if (!memcmp(data, mark_stop, sizeof(mark_stop)))
		return MARK_STOP;
	return 0;
}

/* QEMU translated a new block: count it, and watch for markers. */
static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct tb_rec *r;

	(void)id;
	pthread_mutex_lock(&st.lock);
	r = rec_alloc();
	pthread_mutex_unlock(&st.lock);
	if (!r)
		return;		/* out of memory: this block goes uncounted */
	r->vaddr = qemu_plugin_tb_vaddr(tb);
	r->ninsns = n;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &r->execs, 1);

	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		enum mark mark = insn_mark(insn);

		if (mark)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_mark,
				QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)mark);
	}
}

static void plugin_exit(qemu_plugin_id_t id, void *userdata)
{
	char line[128];

	(void)id;
	(void)userdata;
	snprintf(line, sizeof(line),
		 "insncount: exit, %u windows, %zu blocks translated\n",
		 st.window, st.nrecs);
	qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	char line[96];
	int one_thread = 0;

	if (argc == 1 && !strcmp(argv[0], "one_thread=on")) {
		one_thread = 1;
	} else if (argc) {
		fprintf(stderr, "insncount: the only argument is one_thread=on\n");
		return -1;
	}
	if (!info->system_emulation) {
		fprintf(stderr, "insncount: needs system emulation\n");
		return -1;
	}
	if (info->system.max_vcpus != 1 && !one_thread) {
		fprintf(stderr, "insncount: counters are not atomic: needs one vCPU (-smp 1), or -accel tcg,thread=single and the argument one_thread=on\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	snprintf(line, sizeof(line), "insncount: loaded, %d vCPU(s)%s\n",
		 info->system.max_vcpus,
		 one_thread ? ", taking turns on one thread" : "");
	qemu_plugin_outs(line);
	return 0;
}
