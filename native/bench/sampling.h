// `keymate_bench sampling`: what picking a token costs the host per decoded
// token, the work (and the logits' trip from the GPU) that sampling on the
// device (Backend::forward_sample) takes off the key press's path.
#pragma once

namespace km::bench {

// argv after the subcommand: [--vocab 32000,128256] [--ms 300]. One JSON line
// per (vocabulary, settings) on stdout; returns the exit code.
int sampling_bench(int argc, char** argv);

}  // namespace km::bench
