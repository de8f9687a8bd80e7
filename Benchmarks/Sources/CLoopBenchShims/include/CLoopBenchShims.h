#ifndef CLOOPBENCHSHIMS_H
#define CLOOPBENCHSHIMS_H

#include <stddef.h>

/// Pins the calling thread to `cpu`; returns 0 or -1 (errno set).
int loopbench_pin_thread(int cpu);

/// The calling thread's CPU mask (CPUs 0-63), or 0 on failure.
unsigned long long loopbench_thread_affinity(void);

/// Bytes malloc has handed out and not had back (mallinfo2: uordblks + hblkhd), over all arenas.
size_t loopbench_heap_in_use(void);

/// Gives free memory back to the kernel (malloc_trim(0)), so that RSS deltas start from a clean heap.
void loopbench_trim_heap(void);

#endif
