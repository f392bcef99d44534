/* SPDX-License-Identifier: MIT */
/*
 * The crash-wipe table: where every section that may hold secrets is mapped
 * in this process, kept so that a process about to die of a fatal signal can
 * zero them all from its signal handler. Clients may keep their mappings of
 * a section after the owner is gone; what they can read then must be zeros.
 *
 * The section layer keeps the table (add at create, set the length at
 * commit, remove before unmapping) and knows nothing of signals; the program
 * that owns the sections (lsashmd) installs the handler that calls
 * crash_wipe_all().
 */
#ifndef LSASHM_SECTION_CRASH_WIPE_H
#define LSASHM_SECTION_CRASH_WIPE_H

#include <stddef.h>
#include <stdint.h>

struct crash_wipe_slot;

/* A slot for a mapping at base (length 0 until set), or NULL: out of memory. */
struct crash_wipe_slot *crash_wipe_add(void *base);
/* The first length bytes at base are accessible and writable through this
 * mapping. Growing: call it once the pages are accessible. Shrinking: call it
 * before they stop being so (it then behaves as remove does). The section's
 * lock orders the calls for one slot. */
void crash_wipe_set_length(struct crash_wipe_slot *slot, uint64_t length);
/* Forget the slot. Call it before the mapping goes away: once it returns,
 * no wipe will touch the mapping (a wipe already under way makes it wait for
 * ever, since the process is about to die). NULL is fine. */
void crash_wipe_remove(struct crash_wipe_slot *slot);

/*
 * Zero every mapping in the table through this process's own mapping (which
 * stays writable even for sections sealed F_SEAL_FUTURE_WRITE). Async-signal-
 * safe and lock-free: meant for a fatal signal's handler. Returns how many
 * mappings it zeroed. Sections being created or deleted on other threads at
 * the same moment are either wiped whole or not yet/no longer readable.
 */
unsigned crash_wipe_all(void);

/* Mappings in the table now (for tests). */
unsigned crash_wipe_count(void);

#endif
