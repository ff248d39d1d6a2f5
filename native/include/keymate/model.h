// The engine's data model: hyperparameters, weights and run state of a
// Llama-family transformer. Every field says its shape. Shapes list the
// contiguous dimension LAST (row-major): a weight [out, in] is `out` rows of
// `in` elements, which is GGUF's ne = {in, out}.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keymate/formats_run.h"
#include "keymate/ggml_types.h"

namespace km {

class GgufFile;

enum class RopeStyle { Normal, NeoX };  // Normal: pairs (2i, 2i+1); NeoX: pairs (i, i + d/2)

struct Config {
  std::string architecture;  // "llama", "qwen2", ... (general.architecture)
  std::string name;          // general.name, may be empty
  int dim = 0;               // model width (embedding length)
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;        // < n_heads: grouped-query attention
  int head_dim = 0;          // dim / n_heads unless the file says otherwise
  int ffn_dim = 0;           // SwiGLU hidden width
  int vocab = 0;
  int context = 0;           // trained context length
  float norm_eps = 1e-5f;    // RMSNorm epsilon
  float rope_theta = 10000.f;
  float rope_freq_scale = 1.f;  // linear scaling: position * scale
  RopeStyle rope_style = RopeStyle::Normal;
  // Llama 3 style frequency scaling ("rope_freqs" tensor or rope.scaling.* metadata)
  bool has_rope_freqs = false;
  bool qkv_bias = false;     // qwen2 has q/k/v biases
  bool tied_embeddings = false;  // output.weight absent: logits use token_embd
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

struct LayerWeights {
  Tensor attn_norm;  // [dim] f32
  Tensor wq;         // [n_heads * head_dim, dim]
  Tensor wk;         // [n_kv_heads * head_dim, dim]
  Tensor wv;         // [n_kv_heads * head_dim, dim]
  Tensor bq, bk, bv; // [n_heads*head_dim], [n_kv*head_dim] f32, qwen2 only
  Tensor wo;         // [dim, n_heads * head_dim]
  Tensor ffn_norm;   // [dim] f32
  Tensor w_gate;     // [ffn_dim, dim]
  Tensor w_up;       // [ffn_dim, dim]
  Tensor w_down;     // [dim, ffn_dim]
};

struct Weights {
  Tensor token_embd;  // [vocab, dim]
  std::vector<LayerWeights> layers;  // [n_layers]
  Tensor output_norm; // [dim] f32
  Tensor output;      // [vocab, dim]; == token_embd when tied
  Tensor rope_freqs;  // [head_dim / 2] f32 frequency factors, Llama 3 only
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

// Reads hyperparameters and binds tensors, validating every shape against the
// architecture. Throws km::Error "<path>: tensor blk.3.attn_q.weight has shape
// [64, 32], expected [64, 64]" and the like.
Model load_model(std::shared_ptr<const GgufFile> file);

}  // namespace km
