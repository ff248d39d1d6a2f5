// Tiny models of every architecture family built in memory for the loader,
// CPU and GPU backend tests: seeded random weights of any runnable type, with knobs to break one
// thing at a time (a shape, a type, a metadata key) so each loader error can
// be provoked on purpose. Random bytes are valid encodings of every block
// type as long as the fp16 scales are finite, so K-quant weights need no
// quantizer: scales are drawn small and the quants are uniform bits.
#pragma once

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gguf_writer.h"
#include "keymate/formats.h"
#include "keymate/gguf.h"
#include "keymate/half.h"
#include "keymate/model.h"

namespace kt {

struct TinySpec {
  std::string arch = "llama";
  int dim = 64, layers = 2, heads = 4, kv_heads = 2, ffn = 96, vocab = 80, context = 64;
  km::GgmlType type = km::GgmlType::F32;  // matrices; norms stay f32
  km::GgmlType embd_type = km::GgmlType::F32;
  bool tied = false;
  bool qkv_bias = false;
  bool rope_freqs = false;
  bool qk_norm = false;  // attn_q_norm / attn_k_norm (qwen3, gemma3)
  // The other families' parts (model.h's Config), for arch qwen3, gemma3,
  // phi3, smollm3: set what the arch needs.
  int head_dim = 0;         // attention.key_length; 0: dim / heads
  bool post_norms = false;  // post_attention_norm / post_ffw_norm (gemma3)
  bool fused = false;       // attn_qkv and gate|up in ffn_up (phi3)
  int window = 0;           // attention.sliding_window (gemma3)
  int rope_dims = 0;        // rope.dimension_count; 0: the head size
  int longrope_orig = 0;    // LongRoPE: original context, factors and attn_factor (phi3)
  float rope_theta = 10000.f;
  float rope_scale = 0;  // rope.scaling.factor when > 0
  uint32_t seed = 1;
  // Overrides: shape of a tensor, type of a tensor, tensors left out, extra metadata.
  std::map<std::string, std::vector<uint64_t>> shape_of;
  std::map<std::string, km::GgmlType> type_of;
  std::vector<std::string> omit;       // tensors left out
  std::vector<std::string> omit_meta;  // metadata keys left out (full names)
  std::function<void(km::GgufWriter&)> extra_meta;
};

// Random bytes for a tensor of type t: floats ~ U(-scale, scale), block scales
// ~ U(0.5, 1.5) * scale / 64 (finite fp16).
inline void fill_random(km::GgmlType t, uint8_t* dst, uint64_t n_bytes, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f), pos(0.5f, 1.5f);
  auto put16 = [&](uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); };
  switch (t) {
    case km::GgmlType::F32:
      for (uint64_t i = 0; i < n_bytes / 4; i++) {
        float v = u(rng) * scale;
        std::memcpy(dst + 4 * i, &v, 4);
      }
      return;
    case km::GgmlType::F16:
      for (uint64_t i = 0; i < n_bytes / 2; i++) put16(dst + 2 * i, km::fp32_to_fp16(u(rng) * scale));
      return;
    case km::GgmlType::BF16:
      for (uint64_t i = 0; i < n_bytes / 2; i++) put16(dst + 2 * i, km::fp32_to_bf16(u(rng) * scale));
      return;
    default: break;
  }
  for (uint64_t i = 0; i < n_bytes; i++) dst[i] = (uint8_t)rng();
  const float s = scale / 64;
  auto blocks = [&](size_t size, auto&& fix) {
    for (uint64_t off = 0; off + size <= n_bytes; off += size) fix(dst + off);
  };
  switch (t) {
    case km::GgmlType::Q8_0:
      blocks(sizeof(km::block_q8_0), [&](uint8_t* b) {
        put16(b, km::fp32_to_fp16(pos(rng) * s));
        for (int j = 0; j < 32; j++)
          if ((int8_t)b[2 + j] == -128) b[2 + j] = 0x81;  // llama.cpp's quantizer never writes -128
      });
      return;
    case km::GgmlType::Q4_0:
      blocks(sizeof(km::block_q4_0), [&](uint8_t* b) { put16(b, km::fp32_to_fp16(pos(rng) * s * 16)); });
      return;
    case km::GgmlType::Q4_K:
    case km::GgmlType::Q5_K:  // d and dmin first in both
      blocks(t == km::GgmlType::Q4_K ? sizeof(km::block_q4_K) : sizeof(km::block_q5_K), [&](uint8_t* b) {
        put16(b, km::fp32_to_fp16(pos(rng) * s * (t == km::GgmlType::Q4_K ? 4 : 2)));
        put16(b + 2, km::fp32_to_fp16(pos(rng) * s * 4));
      });
      return;
    case km::GgmlType::Q6_K:
      blocks(sizeof(km::block_q6_K), [&](uint8_t* b) {
        put16(b + offsetof(km::block_q6_K, d), km::fp32_to_fp16(pos(rng) * s / 8));
      });
      return;
    default: return;
  }
}

// An in-memory GGUF image and the model loaded from it (the image outlives the model).
struct TinyModel {
  std::vector<uint8_t> image;
  std::shared_ptr<const km::GgufFile> file;
  std::shared_ptr<const km::Model> model;
};

inline std::shared_ptr<const km::GgufFile> tiny_gguf(const TinySpec& s, std::vector<uint8_t>& image) {
  km::GgufWriter w;
  const std::string a = s.arch;
  auto keep = [&](const std::string& key) {
    for (const std::string& o : s.omit_meta)
      if (o == key) return false;
    return true;
  };
  auto u32 = [&](const std::string& key, uint32_t v) { if (keep(key)) w.add_u32(key, v); };
  auto f32 = [&](const std::string& key, float v) { if (keep(key)) w.add_f32(key, v); };
  w.add_string("general.architecture", a);
  w.add_string("general.name", "tiny test model");
  u32(a + ".embedding_length", (uint32_t)s.dim);
  u32(a + ".block_count", (uint32_t)s.layers);
  u32(a + ".attention.head_count", (uint32_t)s.heads);
  u32(a + ".attention.head_count_kv", (uint32_t)s.kv_heads);
  u32(a + ".feed_forward_length", (uint32_t)s.ffn);
  u32(a + ".context_length", (uint32_t)s.context);
  f32(a + ".rope.freq_base", s.rope_theta);
  if (s.rope_scale > 0) {
    w.add_string(a + ".rope.scaling.type", "linear");
    f32(a + ".rope.scaling.factor", s.rope_scale);
  }
  f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  if (s.head_dim) {
    u32(a + ".attention.key_length", (uint32_t)s.head_dim);
    u32(a + ".attention.value_length", (uint32_t)s.head_dim);
  }
  if (s.rope_dims) u32(a + ".rope.dimension_count", (uint32_t)s.rope_dims);
  if (s.window) u32(a + ".attention.sliding_window", (uint32_t)s.window);
  if (s.longrope_orig) {
    u32(a + ".rope.scaling.original_context_length", (uint32_t)s.longrope_orig);
    f32(a + ".rope.scaling.attn_factor", 1.19f);
  }
  if (s.extra_meta) s.extra_meta(w);
  const uint64_t hd = (uint64_t)(s.head_dim ? s.head_dim : s.dim / s.heads), q = hd * s.heads, kv = hd * s.kv_heads;
  const uint64_t half_rot = (uint64_t)(s.rope_dims ? s.rope_dims : (int)hd) / 2;
  uint32_t seed = s.seed * 7919u;
  auto add = [&](const std::string& name, km::GgmlType type, std::vector<uint64_t> shape, float scale) {
    for (const std::string& o : s.omit)
      if (o == name) return;
    if (s.shape_of.count(name)) shape = s.shape_of.at(name);
    if (s.type_of.count(name)) type = s.type_of.at(name);
    const uint32_t sd = ++seed;
    w.add_tensor(name, type, shape, [=](uint8_t* dst, uint64_t n) { fill_random(type, dst, n, sd, scale); });
  };
  auto add_norm = [&](const std::string& name, uint64_t n) {
    for (const std::string& o : s.omit)
      if (o == name) return;
    std::vector<uint64_t> shape{n};
    if (s.shape_of.count(name)) shape = s.shape_of.at(name);
    km::GgmlType type = s.type_of.count(name) ? s.type_of.at(name) : km::GgmlType::F32;
    const uint32_t sd = ++seed;
    w.add_tensor(name, type, shape, [=](uint8_t* dst, uint64_t nb) {
      std::mt19937 rng(sd);
      std::uniform_real_distribution<float> u(0.8f, 1.2f);
      if (type != km::GgmlType::F32) { std::memset(dst, 0, nb); return; }
      for (uint64_t i = 0; i < nb / 4; i++) { float v = u(rng); std::memcpy(dst + 4 * i, &v, 4); }
    });
  };
  const float ws = 1.0f / std::sqrt((float)s.dim);
  add("token_embd.weight", s.embd_type, {(uint64_t)s.dim, (uint64_t)s.vocab}, 1.0f);
  add_norm("output_norm.weight", (uint64_t)s.dim);
  if (!s.tied) add("output.weight", s.type, {(uint64_t)s.dim, (uint64_t)s.vocab}, ws);
  auto factors = [&](const char* name, float step) {
    w.add_tensor(name, km::GgmlType::F32, {half_rot}, [step](uint8_t* dst, uint64_t n) {
      for (uint64_t i = 0; i < n / 4; i++) { float v = 1.0f + step * (float)i; std::memcpy(dst + 4 * i, &v, 4); }
    });
  };
  if (s.rope_freqs) factors("rope_freqs.weight", 1.0f);
  if (s.longrope_orig) {
    factors("rope_factors_long.weight", 3.0f);
    factors("rope_factors_short.weight", 0.1f);
  }
  for (int l = 0; l < s.layers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add_norm(p + "attn_norm.weight", (uint64_t)s.dim);
    if (s.fused) {
      add(p + "attn_qkv.weight", s.type, {(uint64_t)s.dim, q + 2 * kv}, ws);
    } else {
      add(p + "attn_q.weight", s.type, {(uint64_t)s.dim, q}, ws);
      add(p + "attn_k.weight", s.type, {(uint64_t)s.dim, kv}, ws);
      add(p + "attn_v.weight", s.type, {(uint64_t)s.dim, kv}, ws);
    }
    if (s.qkv_bias) {
      add(p + "attn_q.bias", km::GgmlType::F32, {q}, 0.1f);
      add(p + "attn_k.bias", km::GgmlType::F32, {kv}, 0.1f);
      add(p + "attn_v.bias", km::GgmlType::F32, {kv}, 0.1f);
    }
    if (s.qk_norm) {
      add_norm(p + "attn_q_norm.weight", hd);
      add_norm(p + "attn_k_norm.weight", hd);
    }
    add(p + "attn_output.weight", s.type, {q, (uint64_t)s.dim}, ws);
    if (s.post_norms) add_norm(p + "post_attention_norm.weight", (uint64_t)s.dim);
    add_norm(p + "ffn_norm.weight", (uint64_t)s.dim);
    if (s.fused) {
      add(p + "ffn_up.weight", s.type, {(uint64_t)s.dim, 2 * (uint64_t)s.ffn}, ws);
    } else {
      add(p + "ffn_gate.weight", s.type, {(uint64_t)s.dim, (uint64_t)s.ffn}, ws);
      add(p + "ffn_up.weight", s.type, {(uint64_t)s.dim, (uint64_t)s.ffn}, ws);
    }
    add(p + "ffn_down.weight", s.type, {(uint64_t)s.ffn, (uint64_t)s.dim}, 1.0f / std::sqrt((float)s.ffn));
    if (s.post_norms) add_norm(p + "post_ffw_norm.weight", (uint64_t)s.dim);
  }
  image.assign(w.total_bytes(), 0);
  w.write_memory(image.data());
  return std::shared_ptr<const km::GgufFile>(km::GgufFile::parse(image.data(), image.size(), "tiny.gguf"));
}

// A tiny model of each architecture family with every part of its layer:
// qwen3 (head size 32 over width 64, head norms), gemma3 (the same, post-norms,
// GeGLU, a window of 8 on six of seven layers), phi3 (fused tensors, 12 of 16
// dimensions rotated, LongRoPE's long factors at the 64-token context),
// smollm3 (the fourth layer unrotated), llama (rope_freqs).
inline TinySpec family_spec(const std::string& arch) {
  TinySpec s;
  s.arch = arch;
  if (arch == "qwen3" || arch == "gemma3") {
    s.qk_norm = true;
    s.head_dim = 32;
  }
  if (arch == "gemma3") {
    s.post_norms = true;
    s.window = 8;
    s.layers = 7;
    s.tied = true;
  }
  if (arch == "phi3") {
    s.fused = true;
    s.rope_dims = 12;
    s.longrope_orig = 32;
  }
  if (arch == "smollm3") s.layers = 4;
  if (arch == "llama") s.rope_freqs = true;
  return s;
}

inline TinyModel tiny_model(const TinySpec& s) {
  TinyModel t;
  t.file = tiny_gguf(s, t.image);
  t.model = std::make_shared<const km::Model>(km::load_model(t.file));
  return t;
}

// Loads a tiny model built from `s`; returns the loader's error message, or ""
// when it loads.
inline std::string load_error(const TinySpec& s) {
  try {
    tiny_model(s);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace kt
