// `keymate_bench gpu-kernels`: the GPU matrix products alone (kernels/matmul),
// against the device's own copy bandwidth, for the decode bandwidth target
// (decode GEMV at >= 85% of device-to-device copy bandwidth for FP8, INT8,
// INT4) and for tuning the chooser's thresholds.
#pragma once

namespace km::bench {

// argv after the subcommand: [--json] [--iters 100] [--formats fp8,int8-g32,...]
// [--shapes 7b,1b]. A table on stderr; with --json one JSON object on stdout.
// Returns the exit code.
int gpu_kernel_bench(int argc, char** argv);

}  // namespace km::bench
