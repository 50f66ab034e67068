/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-plugin-v1.h - the part of QEMU's TCG plugin API that insncount.c
 * uses, declared by hand.
 *
 * QEMU loads a plugin (a shared object) with -plugin FILE,arg=...: it calls
 * the plugin's qemu_plugin_install(), and the plugin registers callbacks
 * through the qemu_plugin_* functions below, which the QEMU binary itself
 * exports (`nm -D $(which qemu-system-x86_64) | grep qemu_plugin`).
 *
 * Debian ships QEMU 7.2 with plugin support but without the header that
 * describes this API (include/qemu/qemu-plugin.h in QEMU's source).  These
 * declarations follow that header as of QEMU 7.2, API version 1.  Later
 * QEMU versions changed some of them (version 2 replaced the *_inline
 * calls by *_inline_per_vcpu, version 3 changed qemu_plugin_insn_data()),
 * so this file is only valid against a QEMU that accepts version 1.
 */
#ifndef VRB_QEMU_PLUGIN_V1_H
#define VRB_QEMU_PLUGIN_V1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Symbols QEMU looks up in the plugin must be visible. */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* The API version this plugin is written against (QEMU 7.2: 1). */
#define QEMU_PLUGIN_VERSION 1

/* Opaque plugin id, handed to qemu_plugin_install(). */
typedef uint64_t qemu_plugin_id_t;

/* What QEMU tells the plugin about itself and the guest at install time. */
typedef struct qemu_info_t {
	const char *target_name;	/* guest architecture, "x86_64" */
	struct {
		int min;		/* oldest API version QEMU accepts */
		int cur;		/* newest API version QEMU offers */
	} version;
	bool system_emulation;		/* softmmu (true) or user mode */
	union {
		struct {
			int smp_vcpus;	/* vCPUs at start */
			int max_vcpus;	/* vCPUs possible (hotplug) */
		} system;
	};
} qemu_info_t;

/* Handles QEMU passes to the translation callback; never dereferenced. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* Does a callback read or write guest registers?  (We never do.) */
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

/* Inline operations: QEMU emits them into the translated code itself. */
enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,	/* *(uint64_t *)ptr += imm */
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

/* Every plugin exports these two. */
extern QEMU_PLUGIN_EXPORT int qemu_plugin_version;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv);

/* Called each time QEMU translates a block of guest code. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);

/* Called once when QEMU exits. */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);

/*
 * Inside the translation callback only: add an inline operation that runs
 * each time the block executes (not atomic: exact with one vCPU).
 */
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);

/* Inside the translation callback only: call cb before insn executes. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);

/* Queries on a block and its instructions (translation callback only). */
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

/* Print to QEMU's log (-D FILE), enabled by -d plugin. */
void qemu_plugin_outs(const char *string);

#endif /* VRB_QEMU_PLUGIN_V1_H */
