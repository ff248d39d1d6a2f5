// `keymate_bench energy`: what a reply costs in joules on the GPU, measured
// through NVML (keymate/nvml.h) while the engine generates. Read only: it
// never calls an NVML setter (power limit, clocks, fans).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "keymate/engine.h"

namespace km::bench {

// main.cpp's option helpers, handed over so that `energy` parses its options
// and loads the engine exactly as the `bench` subcommand does.
using Options = std::map<std::string, std::string>;
struct Cli {
  Options (*parse_options)(int argc, char** argv, int first, const std::vector<std::string>& known);
  long long (*to_int)(const Options& o, const std::string& key, long long fallback);
  std::string (*get)(const Options& o, const std::string& key, const std::string& fallback);
  km::LoadOptions (*load_options)(const Options& o);
  std::string (*quote)(const std::string& s);  // a JSON string literal
};

// argv after the subcommand: (--model F | --synthetic SHAPE [--type T] [--seed S])
// [--backend auto|cpu|cuda] [--weights W] [--kv K] [--threads N] [--context N]
// [--prompt-tokens 128] [--gen-tokens 128] [--replies 10] [--gpu 0] [--json].
// Prints one JSON object with --json, else a table; returns the exit code.
// Without NVML it still runs and reports every energy as null, with why.
int energy_bench(int argc, char** argv, const Cli& cli);

}  // namespace km::bench
