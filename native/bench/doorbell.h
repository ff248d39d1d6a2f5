// `keymate_bench doorbell`: the zero-launch doorbell's latency (kernels/exec/
// doorbell.cuh) beside what a kernel launch and a graph launch cost.
#pragma once

namespace km::bench {

// argv after the subcommand: [--rings 10000] [--warmup 200] [--json].
// Prints one JSON object on stdout with --json, else a short table; returns
// the exit code. Throws km::Error when there is no usable GPU.
int doorbell_bench(int argc, char** argv);

}  // namespace km::bench
