// Synthetic models: seeded random weights in the shapes of real models, so a
// benchmark runs at real size without downloading anything, and two machines
// given the same shape, type and seed hold the very same bytes (a file written
// by `keymate synth` is what llama.cpp and keymate are both benchmarked on).
//
// Weights: every row of every tensor has its own random stream, seeded from
// (seed, tensor name, row) with FNV-1a, drawn from rng.h's integer-only normal
// approximation and scaled to N(0, 0.02) like a real initialization; norm
// weights are 1, so activations stay finite through any depth. Rows are then
// written in the chosen type by quantize.h. The vocabulary (tokens, scores,
// types, merges, special ids) is copied from a real vocabulary GGUF, so the
// tokenizer works and prompts have real token ids.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keymate/ggml_types.h"

namespace km {

class GgufFile;

struct SynthShape {
  const char* name;
  int dim;
  int layers;
  int heads;
  int kv_heads;
  int ffn;
  int vocab;
  int context;
  float rope_theta;
  float norm_eps;
  bool tied;               // no output.weight: logits use token_embd
  const char* vocab_file;  // the vocabulary GGUF whose tokenizer it carries
  const char* about;       // what real model it mirrors
};

// Every shape, in a fixed order (keymate synth --help lists them).
const std::vector<SynthShape>& synth_shapes();
// Throws km::Error naming the known shapes when `name` is not one of them.
const SynthShape& synth_shape(std::string_view name);

struct SynthOptions {
  std::string shape = "tiny-125m";
  std::string type = "f16";  // f32 | f16 | bf16 | q8_0 | q4_0 (norms stay f32)
  uint64_t seed = 0;
  // A vocabulary GGUF or the folder holding it; "" searches KEYMATE_VOCAB_DIR,
  // KEYMATE_MODELS_DIR/vocab, then ../shared/models/vocab above the working
  // folder and above the executable.
  std::string vocab;
  int threads = 0;  // 0 = hardware threads (the bytes do not depend on it)
};

// The generator's version, written into the file (keymate.synth.version):
// it changes whenever the same options would give different bytes.
constexpr uint32_t kSynthVersion = 1;

// The storage type of a --type name; throws km::Error for others.
GgmlType synth_type(std::string_view name);

// Where the vocabulary for `shape` is; throws km::Error saying which file is
// needed and how to point at it when it cannot be found.
std::string find_vocab_file(const SynthShape& shape, const std::string& hint);

// Writes the model as a GGUF at `out`, atomically. Returns the bytes written.
uint64_t write_synthetic_gguf(const SynthOptions& opts, const std::string& out);

// The same image built in memory and parsed (Engine::synthetic). The buffer
// lives as long as the returned file.
std::shared_ptr<const GgufFile> build_synthetic_gguf(const SynthOptions& opts);

}  // namespace km
