// `keymate_bench cpu-kernels`: the CPU matrix kernels alone, per weight type
// and SIMD level, for tuning them (whole-model numbers come from the main bench).
#pragma once

namespace km::bench {

// argv after the subcommand: [--rows 2048] [--cols 768] [--tokens 1,128]
// [--types q8_0,q4_0,q4_K,q6_K,f16,f32] [--ms 300] [--threads 1]; --types also takes run formats
// by their --weights names (int8-g32, int4-g128, nf4, fp8, w8a8, ...). One JSON line per
// (type, level, tokens) on stdout; returns the exit code.
int cpu_kernel_bench(int argc, char** argv);

}  // namespace km::bench
