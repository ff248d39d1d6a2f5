// The KV cache in any of its formats (keymate/formats_run.h): writing one head
// vector of one token, and widening a run of tokens of one head to f32 for
// attention. Attention itself stays in f32 whatever the cache holds; only
// these two functions know the format, so adding one touches nothing else.
#pragma once

#include <cstdint>

#include "cpu/kernels.h"
#include "keymate/formats_run.h"

namespace km::cpu {

// Bytes of one layer's K (or V) quants: [n_kv_heads][context][head_dim] elements.
uint64_t kv_quant_bytes(KvType t, int n_kv_heads, int context, int head_dim);
// Bytes of one layer's K (or V) scales ([n_kv_heads][context] fp16), 0 if none.
uint64_t kv_scale_bytes(KvType t, int n_kv_heads, int context);

// Stores x[0, hd) as the vector at `q` (element offset already applied) and,
// for INT8, its scale at *scale.
void kv_store(const Kernels& k, KvType t, const float* x, int hd, uint8_t* q, uint16_t* scale);

// Widens n consecutive token vectors of one head (quants at q, scales at
// scales[0, n)) into out[n * hd].
void kv_load(const Kernels& k, KvType t, const uint8_t* q, const uint16_t* scales, int n, int hd, float* out);

}  // namespace km::cpu
