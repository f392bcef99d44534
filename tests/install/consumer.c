/* SPDX-License-Identifier: MIT */
/* Built against an installed lsashm through pkg-config alone. */
#include <lsashm/ntsecpkg.h>
#include <lsashm/section.h>
#include <stdio.h>

int main(void)
{
        PVOID section = LsaCreateSharedMemory(65536, 4096);
        PVOID block = section ? LsaAllocateSharedMemory(section, 100) : NULL;
        struct lsashm_section_stats st = { 0 };
        int ok = block && lsashm_shared_memory_stats(section, &st) == 0 && st.live_blocks == 1 &&
                 LsaDeleteSharedMemory(section) == TRUE;
        puts(ok ? "installed lsashm works" : "installed lsashm FAILED");
        return ok ? 0 : 1;
}
