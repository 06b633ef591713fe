/*
 * Callgrind client requests for the Bun benchmark programs (loaded with
 * bun:ffi; built by bench/lib/build.ts as zig-out/bench/libcgreq.so). Each
 * dump writes the instructions counted since the previous one (all threads)
 * to its own file and zeroes the counters, so that one process can measure
 * several windows of work side by side. Outside valgrind every call is a
 * no-op (the client request is a special no-op instruction sequence).
 */
#include <valgrind/callgrind.h>

/* 1 when running under valgrind. */
int fo_bench_cg_running(void) { return RUNNING_ON_VALGRIND ? 1 : 0; }

/* Dumps the counts since the last dump (or the start) as a file described by `name`, and zeroes them. */
void fo_bench_cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }

/* Zeroes the counts without dumping them. */
void fo_bench_cg_zero(void) { CALLGRIND_ZERO_STATS; }

/* Starts instrumenting (for a run begun with --instr-atstart=no: the warm-up runs at valgrind's plain speed). */
void fo_bench_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
