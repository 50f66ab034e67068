/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrb_trace.h - vringblk's tracepoints, system "vringblk".
 *
 * One event per step of a request's trip around the ring:
 *
 *	vrb_add		a chain was published in the avail ring (§2.7.13.2)
 *	vrb_kick	the kick decision and the indices it used (§2.7.13.4)
 *	vrb_irq		an interrupt arrived (ISR value or MSI-X vector)
 *	vrb_used	a used element was taken (§2.7.8)
 *	vrb_free	its descriptors went back to the free list
 *	vrb_broken	the device misbehaved; the queue is broken
 *	vrb_reset	the device is being reset to recover
 *
 * Use them from tracefs (events/vringblk/), trace-cmd or perf trace:
 *	echo 1 > /sys/kernel/tracing/events/vringblk/enable
 *
 * Only vrb_trace.c defines them (CREATE_TRACE_POINTS); the ring core in
 * vrb_vq.c stays free of tracing so it builds unchanged into KUnit.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vringblk

#if !defined(VRB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VRB_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vrb_add,
	TP_PROTO(int disk, u16 q, u16 chain_head, u16 nbufs, u16 ndescs, u32 bytes,
		 bool indirect, u16 avail_idx),
	TP_ARGS(disk, q, chain_head, nbufs, ndescs, bytes, indirect, avail_idx),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(u16, q)
		__field(u16, head)
		__field(u16, nbufs)
		__field(u16, ndescs)
		__field(u32, bytes)
		__field(bool, indirect)
		__field(u16, avail_idx)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->q = q;
		__entry->head = chain_head;
		__entry->nbufs = nbufs;
		__entry->ndescs = ndescs;
		__entry->bytes = bytes;
		__entry->indirect = indirect;
		__entry->avail_idx = avail_idx;
	),
	TP_printk("vringblk%d vq%u head=%u bufs=%u descs=%u bytes=%u %s avail_idx=%u",
		  __entry->disk, __entry->q, __entry->head, __entry->nbufs,
		  __entry->ndescs, __entry->bytes,
		  __entry->indirect ? "indirect" : "direct", __entry->avail_idx)
);

TRACE_EVENT(vrb_kick,
	TP_PROTO(int disk, u16 q, u16 old, u16 new_idx, u16 event,
		 bool event_idx, bool kick),
	TP_ARGS(disk, q, old, new_idx, event, event_idx, kick),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(u16, q)
		__field(u16, old)
		__field(u16, new_idx)
		__field(u16, event)
		__field(bool, event_idx)
		__field(bool, kick)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->q = q;
		__entry->old = old;
		__entry->new_idx = new_idx;
		__entry->event = event;
		__entry->event_idx = event_idx;
		__entry->kick = kick;
	),
	TP_printk("vringblk%d vq%u old=%u new=%u %s=%u -> %s",
		  __entry->disk, __entry->q, __entry->old, __entry->new_idx,
		  __entry->event_idx ? "avail_event" : "used_flags",
		  __entry->event, __entry->kick ? "kick" : "no kick")
);

TRACE_EVENT(vrb_irq,
	TP_PROTO(int disk, int vector, u8 isr),
	TP_ARGS(disk, vector, isr),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(int, vector)
		__field(u8, isr)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->vector = vector;
		__entry->isr = isr;
	),
	TP_printk("vringblk%d vector=%d isr=%#x", __entry->disk,
		  __entry->vector, __entry->isr)
);

TRACE_EVENT(vrb_used,
	TP_PROTO(int disk, u16 q, u16 id, u32 len, u16 last_used_idx),
	TP_ARGS(disk, q, id, len, last_used_idx),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(u16, q)
		__field(u16, id)
		__field(u32, len)
		__field(u16, last_used_idx)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->q = q;
		__entry->id = id;
		__entry->len = len;
		__entry->last_used_idx = last_used_idx;
	),
	TP_printk("vringblk%d vq%u id=%u len=%u last_used_idx=%u",
		  __entry->disk, __entry->q, __entry->id, __entry->len,
		  __entry->last_used_idx)
);

TRACE_EVENT(vrb_free,
	TP_PROTO(int disk, u16 q, u16 chain_head, u16 ndescs, u16 num_free),
	TP_ARGS(disk, q, chain_head, ndescs, num_free),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(u16, q)
		__field(u16, head)
		__field(u16, ndescs)
		__field(u16, num_free)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->q = q;
		__entry->head = chain_head;
		__entry->ndescs = ndescs;
		__entry->num_free = num_free;
	),
	TP_printk("vringblk%d vq%u head=%u descs=%u num_free=%u",
		  __entry->disk, __entry->q, __entry->head, __entry->ndescs,
		  __entry->num_free)
);

TRACE_EVENT(vrb_broken,
	TP_PROTO(int disk, u16 q, u16 used_idx, u16 last_used_idx),
	TP_ARGS(disk, q, used_idx, last_used_idx),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(u16, q)
		__field(u16, used_idx)
		__field(u16, last_used_idx)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->q = q;
		__entry->used_idx = used_idx;
		__entry->last_used_idx = last_used_idx;
	),
	TP_printk("vringblk%d vq%u broken at used.idx=%u last_used_idx=%u",
		  __entry->disk, __entry->q, __entry->used_idx,
		  __entry->last_used_idx)
);

TRACE_EVENT(vrb_reset,
	TP_PROTO(int disk, unsigned int inflight),
	TP_ARGS(disk, inflight),
	TP_STRUCT__entry(
		__field(int, disk)
		__field(unsigned int, inflight)
	),
	TP_fast_assign(
		__entry->disk = disk;
		__entry->inflight = inflight;
	),
	TP_printk("vringblk%d reset, %u requests failed", __entry->disk,
		  __entry->inflight)
);

#endif /* VRB_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vrb_trace
#include <trace/define_trace.h>
