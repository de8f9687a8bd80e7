#define _GNU_SOURCE
#include "CLoopBenchShims.h"
#include <malloc.h>
#include <sched.h>

int loopbench_pin_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

unsigned long long loopbench_thread_affinity(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    unsigned long long mask = 0;
    for (int cpu = 0; cpu < 64; cpu++) {
        if (CPU_ISSET(cpu, &set)) mask |= 1ULL << cpu;
    }
    return mask;
}

size_t loopbench_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

void loopbench_trim_heap(void) { malloc_trim(0); }
