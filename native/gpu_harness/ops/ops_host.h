// Each CUDA op of kernels/ops run once on host data: what the GPU tests
// (native/tests/gpu_ops.cpp, plain C++) compare against the ops' CPU twins.
// Plain C++ (no CUDA header). The KV cache crosses this boundary in the CPU's
// layout ([n_kv_heads][context][head_dim] quants, [n_kv_heads][context]
// scales, native/src/cpu/kv_cache.h); inside, it is paged with a shuffled
// page table, so the tests exercise the indirection the backend relies on.
// Every function throws km::Error on a CUDA error.
#pragma once

#include <cstdint>
#include <vector>

#include "keymate/backend.h"
#include "keymate/formats_run.h"
#include "keymate/model.h"

namespace km::cuda::host {

// A KV cache of one layer in the CPU layout.
struct KvCache {
  KvType type = KvType::F16;
  int n_kv_heads = 0, head_dim = 0, context = 0;
  std::vector<uint8_t> k, v;          // [n_kv_heads][context][head_dim] elements of kv_elem_bytes(type)
  std::vector<uint16_t> k_scale, v_scale;  // INT8: [n_kv_heads][context]
  KvCache(KvType t, int n_kv, int hd, int ctx);
};

// x [n][dim] -> y [n][dim].
void rmsnorm(const float* x, const float* w, int n, int dim, float eps, float* y);
// A post-norm: acc [n][dim] += rmsnorm(x) * w.
void rmsnorm_add(const float* x, const float* w, int n, int dim, float eps, float* acc);

// Rows of `table` (any type the backend uploads as is, see embed_supports)
// for tokens [n] -> x [n][dim].
bool embed_supported(const Tensor& table);
void embed(const Tensor& table, const int32_t* tokens, int n, float* x, float scale = 1.0f);

struct Rope {
  int n_heads = 0;
  int rope_dims = 0;  // 0: the head size
  bool rotate = true;
  float theta_scale = 1, freq_scale = 1, attn_factor = 1;
  const float* freq_factors = nullptr;  // [rope_dims / 2] or null
  bool neox = false;
  const float* q_norm = nullptr;  // [head_dim] head norms or null
  const float* k_norm = nullptr;
  float eps = 1e-6f;
  const float* bq = nullptr;  // biases or null
  const float* bk = nullptr;
  const float* bv = nullptr;
};
// qkv [n][q_dim + 2 kv_dim] of tokens at pos..pos+n-1: q rotated in place;
// k, v written into `cache` (which keeps its other entries).
void rope_kv(const Rope& r, int n, int pos, float* qkv, KvCache& cache);

// q [n][n_heads][head_dim] (rotated) of tokens at pos..pos+n-1 over `cache`
// -> out [n][n_heads][head_dim]. n <= 4 runs the decode ops (partial +
// combine), larger n the prefill op.
void attention(int n_heads, int n, int pos, const float* q, const KvCache& cache, float* out, int window = 0,
               float scale = 0);  // scale 0: 1 / sqrt(head_dim)

// The device sampler on logits [vocab]; s.temperature <= 0 is greedy.
int32_t sample(const float* logits, int vocab, const DeviceSample& s);
// Whether sample() takes these settings (else the host samples).
bool sample_supported(int vocab, const DeviceSample& s);

}  // namespace km::cuda::host
