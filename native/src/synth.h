// Synthetic models: seeded random weights in the shapes of real models, so a
// benchmark runs at real size without downloading anything, and two machines
// given the same shape, type and seed hold the very same bytes (a file written
// by `keymate synth` is what llama.cpp and keymate are both benchmarked on).
//
// Weights: every row of every tensor has its own random stream, seeded from
// (seed, tensor name, row) with FNV-1a, drawn from rng.h's integer-only normal
// approximation and scaled to N(0, 0.02) like a real initialization; norm
// weights are N(1, 0.1), so activations stay finite through any depth and a
// norm applied to the wrong vector shows in the output. Rows are then
// written in the chosen type by quant/quantize_gguf.h. The vocabulary (tokens, scores,
// types, merges, special ids) is copied from a real vocabulary GGUF, so the
// tokenizer works and prompts have real token ids. A shape whose family's
// vocabulary is not at hand (Gemma 3's 262144 tokens, Phi-4-mini's 200064)
// takes a smaller real one, padded with unused tokens to the real size, so
// the embedding and output matrices are the real model's.
//
// Each shape is in its family's architecture, as llama.cpp's converter
// writes it: Qwen3's head size and q/k norms, Gemma 3's sliding window and
// extra norms, Phi's fused attn_qkv and gate|up, partial rotation and
// LongRoPE factors, Llama 3.1's rope_freqs.
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
  const char* vocab_file;  // the vocabulary GGUF whose tokenizer it carries (padded to `vocab`)
  const char* about;       // what real model it mirrors
  // The family (model.h's Config); the defaults are Llama 2's.
  const char* arch = "llama";  // general.architecture: llama, qwen3, gemma3, phi3, smollm3
  int head_dim = 0;            // 0: dim / heads
  int window = 0;              // gemma3: the sliding layers' window (five layers in six slide)
  int rope_dims = 0;           // rotated dimensions of a head, 0: all of them
  int orig_context = 0;        // phi3: LongRoPE's original context (short and long factors written)
  bool llama3_rope = false;    // Llama 3.1's rope_freqs (factor 32, original context 8192)

  int head_size() const { return head_dim ? head_dim : dim / heads; }
};

// Every shape, in a fixed order (keymate synth --help lists them).
const std::vector<SynthShape>& synth_shapes();
// Throws km::Error naming the known shapes when `name` is not one of them.
const SynthShape& synth_shape(std::string_view name);

struct SynthOptions {
  std::string shape = "tiny-125m";
  std::string type = "f16";  // f32 | f16 | bf16 | q8_0 | q4_0 (norms and RoPE factors stay f32)
  uint64_t seed = 0;
  // A vocabulary GGUF or the folder holding it; "" searches KEYMATE_VOCAB_DIR,
  // KEYMATE_MODELS_DIR/vocab, then ../shared/models/vocab above the working
  // folder and above the executable.
  std::string vocab;
  int threads = 0;  // 0 = hardware threads (the bytes do not depend on it)
  // Jinja source written as tokenizer.chat_template in place of the
  // vocabulary's (a family's real template, for the app's tests); "" keeps it.
  std::string chat_template;
};

// The generator's version, written into the file (keymate.synth.version):
// it changes whenever the same options would give different bytes.
constexpr uint32_t kSynthVersion = 2;  // 2: norms N(1, 0.1), families, rope_freqs

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
