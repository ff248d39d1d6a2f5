// The engine's data model: hyperparameters, the layer description and the
// weights of a decoder-only transformer of the Llama lineage (Llama, Qwen,
// Gemma 3, Phi-3, SmolLM3: Config says how each differs). Every field says
// its shape. Shapes list the
// contiguous dimension LAST (row-major): a weight [out, in] is `out` rows of
// `in` elements, which is GGUF's ne = {in, out}.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keymate/formats_run.h"
#include "keymate/ggml_types.h"

namespace km {

class GgufFile;

enum class RopeStyle { Normal, NeoX };  // Normal: pairs (2i, 2i+1); NeoX: pairs (i, i + rope_dims/2)

// The FFN's gated activation: down(act(gate) * up).
enum class Activation {
  Silu,      // SwiGLU (Llama, Qwen, Phi, SmolLM)
  GeluTanh,  // GeGLU with GELU's tanh approximation (Gemma)
};

// One rotation of q and k; layers that share one share its angle table.
struct RopeSpec {
  float base = 10000.f;    // theta
  float freq_scale = 1.f;  // linear scaling: position * scale
};

// What one layer does beyond the common block. Families differ by layer
// (Gemma 3 slides five layers in six with their own RoPE base, SmolLM3 skips
// RoPE every fourth layer), so the difference is data here, not a branch on
// the architecture's name in the forward pass.
struct LayerSpec {
  int rope = 0;    // index into Config::ropes; -1: q and k are not rotated
  int window = 0;  // sliding window: a query sees keys fewer than `window` positions back; 0: every key
};

// Hyperparameters, and the description of the layer that every backend runs:
//   x  = embed(token) * embed_scale
//   per layer l:  h = rmsnorm(x) * attn_norm
//                 q, k, v = Wq h (+ bq), Wk h (+ bk), Wv h (+ bv)     (or one fused Wqkv)
//                 q, k = rmsnorm per head * q_norm, k_norm            (qk_norm)
//                 q, k = rope(ropes[layers[l].rope]) on the first rope_dims of each head,
//                        cos and sin times rope_attn_factor
//                 a = softmax(attn_scale * q.k, causal, window) v
//                 x += post_norm(Wo a)                                (post_norms: rmsnorm * attn_post_norm)
//                 h = rmsnorm(x) * ffn_norm
//                 x += post_norm(Wdown (act(Wgate h) * Wup h))        (post_norms: rmsnorm * ffn_post_norm)
//   logits = Wout (rmsnorm(x) * output_norm)
struct Config {
  std::string architecture;  // "llama", "qwen2", "qwen3", "gemma3", "phi3", "smollm3" (general.architecture)
  std::string name;          // general.name, may be empty
  int dim = 0;               // model width (embedding length)
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;        // < n_heads: grouped-query attention
  int head_dim = 0;          // dim / n_heads unless the file says otherwise (Qwen3, Gemma 3)
  int ffn_dim = 0;           // gated FFN hidden width
  int vocab = 0;
  int context = 0;           // trained context length
  float norm_eps = 1e-5f;    // RMSNorm epsilon (every norm of the model)
  float rope_theta = 10000.f;   // the global layers' RoPE base (== ropes[0].base)
  float rope_freq_scale = 1.f;  // the global layers' linear scaling (== ropes[0].freq_scale)
  RopeStyle rope_style = RopeStyle::Normal;
  int rope_dims = 0;            // rotated dimensions of a head (== head_dim unless partial: Phi-4-mini)
  float rope_attn_factor = 1.f; // LongRoPE's magnitude correction, on cos and sin (so on q.k squared)
  int rope_orig_context = 0;    // LongRoPE: contexts above this use the long factors
  // Llama 3 style frequency scaling ("rope_freqs" tensor) or LongRoPE's short/long factors
  bool has_rope_freqs = false;
  bool qkv_bias = false;     // qwen2 has q/k/v biases
  bool tied_embeddings = false;  // output.weight absent: logits use token_embd
  Activation activation = Activation::Silu;
  bool qk_norm = false;      // RMSNorm of each q and k head before RoPE (Qwen3, Gemma 3)
  bool post_norms = false;   // RMSNorm of the attention and FFN outputs before the residual add (Gemma 3)
  float embed_scale = 1.f;   // embeddings times this (Gemma: sqrt(dim))
  float attn_scale = 0.f;    // scores = attn_scale * q.k (1 / sqrt(head_dim) for every family here but one)
  std::vector<RopeSpec> ropes;    // the distinct rotations; [0] is the global layers'
  std::vector<LayerSpec> layers;  // [n_layers]

  int sliding_window() const;  // the largest window of any layer, 0 when none slides
};

// A weight matrix or vector as stored (or converted): `rows` rows of `cols`
// elements of `type`, rows contiguous, `row_bytes` apart. A matrix converted
// at load to a run format (keymate/formats_run.h) has quant.type != None; its
// rows are then in that format and `type` does not apply.
struct Tensor {
  GgmlType type = GgmlType::F32;
  RunQuant quant;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  const void* data = nullptr;  // into the mapping or into Weights::owned
  std::string name;

  bool empty() const { return data == nullptr; }
  uint64_t bytes() const { return row_bytes * static_cast<uint64_t>(rows); }
};

// A fused file tensor (Phi's attn_qkv and gate|up ffn_up) is bound as row
// ranges of one tensor: wq, wk and wv are then consecutive rows of attn_qkv.
struct LayerWeights {
  Tensor attn_norm;  // [dim] f32
  Tensor wq;         // [n_heads * head_dim, dim]
  Tensor wk;         // [n_kv_heads * head_dim, dim]
  Tensor wv;         // [n_kv_heads * head_dim, dim]
  Tensor bq, bk, bv; // [n_heads*head_dim], [n_kv*head_dim] f32, qwen2 only
  Tensor q_norm;     // [head_dim] f32, qk_norm only
  Tensor k_norm;     // [head_dim] f32, qk_norm only
  Tensor wo;         // [dim, n_heads * head_dim]
  Tensor attn_post_norm;  // [dim] f32, post_norms only
  Tensor ffn_norm;   // [dim] f32
  Tensor w_gate;     // [ffn_dim, dim]
  Tensor w_up;       // [ffn_dim, dim]
  Tensor w_down;     // [dim, ffn_dim]
  Tensor ffn_post_norm;   // [dim] f32, post_norms only
};

struct Weights {
  Tensor token_embd;  // [vocab, dim]
  std::vector<LayerWeights> layers;  // [n_layers]
  Tensor output_norm; // [dim] f32
  Tensor output;      // [vocab, dim]; == token_embd when tied
  Tensor rope_freqs;  // [rope_dims / 2] f32 frequency factors: Llama 3's
  Tensor rope_long, rope_short;  // [rope_dims / 2] f32 LongRoPE factors (Phi-3, Phi-4-mini)
  // Buffers owned by the model (converted or synthetic weights); tensors point here.
  std::vector<std::unique_ptr<uint8_t[]>> owned;
};

struct Model {
  Config config;
  Weights weights;
  std::shared_ptr<const GgufFile> file;  // keeps the mapping alive; null for in-memory models

  uint64_t parameters() const;    // number of weights
  uint64_t weight_bytes() const;  // bytes of all weight tensors as held
};

// What each architecture adds to the common block (Config above), and the
// values llama.cpp fixes for it where the file carries none; everything else
// comes from the file's metadata and tensors. One table (model.cpp's
// kFamilies), read by the loader and by synth, which writes each family's
// tensors as llama.cpp's converter does.
struct ArchFamily {
  const char* name;
  RopeStyle rope;
  Activation activation;
  bool qk_norm;       // blk.N.attn_q_norm / attn_k_norm, [head_dim]
  bool post_norms;    // blk.N.post_attention_norm / post_ffw_norm, [dim]
  bool embed_scale;   // embeddings times sqrt(dim)
  bool fused_ffn_up;  // ffn_up holds gate then up (2 * ffn rows) and there is no ffn_gate
                      // (the converter fuses attn_qkv too; the loader takes either form)
  int no_rope_every;  // layer l is not rotated when (l + 1) % this == 0; 0: every layer is
  int swa_pattern;    // with a sliding window: of each `swa_pattern` layers the last is global,
                      // unless <arch>.attention.sliding_window_pattern says otherwise
  bool swa_ignored;   // a window in the file is not applied (llama.cpp disables Phi-3's)
  int wide_scale_layers;  // a model of this many layers scales queries by 1/sqrt(dim/heads)
};
// The family of `architecture` (general.architecture), or null when the
// engine does not run it; the names it runs, for an error message.
const ArchFamily* find_family(std::string_view architecture);
std::string supported_architectures();

// The frequency factors a backend running `context` tokens divides each
// rotation's frequency by, or null: Llama 3's rope_freqs; LongRoPE's long
// factors past the original context and its short ones up to it.
const float* rope_factors(const Model& m, int context);

// Reads hyperparameters and binds tensors, validating every shape against the
// architecture. Throws km::Error "<path>: tensor blk.3.attn_q.weight has shape
// [64, 32], expected [64, 64]" and the like.
Model load_model(std::shared_ptr<const GgufFile> file);

}  // namespace km
