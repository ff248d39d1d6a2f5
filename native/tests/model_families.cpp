// load_model for each architecture family: the layer description (model.h's
// Config) it derives from the file, on the synth test shapes written as
// llama.cpp's converter writes each family (fused tensors, head size, norms,
// windows, rotations), and one clear error for each way such a file can be
// wrong.
#include <cmath>
#include <memory>
#include <string>

#include "cpu_test_models.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "synth.h"
#include "test.h"

namespace {

km::Model synth_model(const char* shape) {
  km::SynthOptions o;
  o.shape = shape;
  o.type = "f32";
  o.seed = 3;
  return km::load_model(km::build_synthetic_gguf(o));
}

using kt::load_error;

void expect_error(const kt::TinySpec& s, const std::string& needle, int line) {
  const std::string e = load_error(s);
  if (e.find(needle) == std::string::npos)
    kt::report_failure(__FILE__, line, "expected an error with '" + needle + "', got '" + e + "'");
}

}  // namespace

TEST(model_families, qwen3_head_size_and_head_norms) {
  const km::Model m = synth_model("test-qwen3");
  const km::Config& c = m.config;
  CHECK_EQ(c.architecture, std::string("qwen3"));
  CHECK_EQ(c.head_dim, 32);  // attention.key_length, not dim / heads (16)
  CHECK_EQ(c.rope_dims, 32);
  CHECK(c.rope_style == km::RopeStyle::NeoX);
  CHECK(c.qk_norm && !c.post_norms && c.activation == km::Activation::Silu);
  CHECK_EQ(c.attn_scale, 1.0f / std::sqrt(32.0f));
  CHECK_EQ(c.embed_scale, 1.0f);
  CHECK_EQ(c.ropes.size(), (size_t)1);
  CHECK_EQ(c.sliding_window(), 0);
  CHECK(c.tied_embeddings);
  CHECK_EQ(m.weights.layers[1].q_norm.cols, (int64_t)32);
  CHECK_EQ(m.weights.layers[1].wq.rows, (int64_t)128);
  CHECK_EQ(m.weights.layers[1].wo.cols, (int64_t)128);
}

TEST(model_families, gemma3_slides_five_layers_in_six) {
  const km::Model m = synth_model("test-gemma3");
  const km::Config& c = m.config;
  CHECK(c.activation == km::Activation::GeluTanh);
  CHECK(c.qk_norm && c.post_norms);
  CHECK_EQ(c.embed_scale, 8.0f);  // sqrt(64)
  CHECK_EQ(c.attn_scale, 1.0f / std::sqrt(32.0f));
  REQUIRE(c.ropes.size() == 2);
  CHECK_EQ(c.ropes[0].base, 1e6f);    // the global layers'
  CHECK_EQ(c.ropes[1].base, 10000.f); // the sliding layers' (llama.cpp's default)
  CHECK_EQ(c.ropes[1].freq_scale, 1.0f);
  for (int l = 0; l < 6; l++) {
    const bool global = l == 5;
    CHECK_EQ(c.layers[(size_t)l].window, global ? 0 : 16);
    CHECK_EQ(c.layers[(size_t)l].rope, global ? 0 : 1);
  }
  CHECK_EQ(c.sliding_window(), 16);
  CHECK(!m.weights.layers[0].attn_post_norm.empty() && !m.weights.layers[5].ffn_post_norm.empty());
}

TEST(model_families, phi3_fused_tensors_partial_rotation_and_longrope) {
  const km::Model m = synth_model("test-phi3");
  const km::Config& c = m.config;
  const km::LayerWeights& L = m.weights.layers[0];
  // attn_qkv [64 -> 64 + 32 + 32] and ffn_up [64 -> 2 * 96] bound as row ranges.
  CHECK_EQ(L.wq.rows, (int64_t)64);
  CHECK_EQ(L.wk.rows, (int64_t)32);
  CHECK_EQ(L.wv.rows, (int64_t)32);
  CHECK(static_cast<const uint8_t*>(L.wk.data) == static_cast<const uint8_t*>(L.wq.data) + 64 * L.wq.row_bytes);
  CHECK(static_cast<const uint8_t*>(L.wv.data) == static_cast<const uint8_t*>(L.wk.data) + 32 * L.wk.row_bytes);
  CHECK_EQ(L.wq.name, std::string("blk.0.attn_qkv.weight[q]"));
  CHECK_EQ(L.w_gate.rows, (int64_t)96);
  CHECK(static_cast<const uint8_t*>(L.w_up.data) == static_cast<const uint8_t*>(L.w_gate.data) + 96 * L.w_gate.row_bytes);
  CHECK_EQ(c.head_dim, 16);
  CHECK_EQ(c.rope_dims, 12);
  CHECK(c.has_rope_freqs);
  CHECK_EQ(c.rope_orig_context, 256);
  CHECK_NEAR(c.rope_attn_factor, std::sqrt(1 + std::log(2.0) / std::log(256.0)), 1e-6);
  // The short factors up to the original context, the long ones past it.
  CHECK(km::rope_factors(m, 256) == m.weights.rope_short.data);
  CHECK(km::rope_factors(m, 257) == m.weights.rope_long.data);
  // Parameters: each fused tensor counted once, not once per part. Untied
  // embedding and output 32064x64; per layer qkv 128x64, o 64x64, gate|up
  // 192x64, down 64x96, two norms of 64; output_norm 64; 2 x 6 LongRoPE factors.
  const uint64_t per_layer = 128 * 64 + 64 * 64 + 192 * 64 + 64 * 96 + 2 * 64;
  CHECK_EQ(m.parameters(), (uint64_t)(2 * 32064 * 64 + 2 * per_layer + 64 + 2 * 6));
  CHECK_EQ(m.weight_bytes(), m.parameters() * 4);
}

TEST(model_families, smollm3_skips_rope_every_fourth_layer) {
  const km::Model m = synth_model("test-smollm3");
  const km::Config& c = m.config;
  CHECK(c.rope_style == km::RopeStyle::Normal);
  CHECK_EQ(c.layers[0].rope, 0);
  CHECK_EQ(c.layers[2].rope, 0);
  CHECK_EQ(c.layers[3].rope, -1);
}

TEST(model_families, llama3_rope_freqs) {
  const km::Model m = synth_model("test-llama3");
  CHECK(m.config.has_rope_freqs);
  CHECK(km::rope_factors(m, 512) == m.weights.rope_freqs.data);
  const float* ff = static_cast<const float*>(m.weights.rope_freqs.data);
  CHECK_EQ(ff[0], 1.0f);   // short wavelengths kept
  CHECK_EQ(ff[7], 32.0f);  // the longest slowed by the factor
}

TEST(model_families, errors_name_the_problem) {
  kt::TinySpec q;
  q.arch = "qwen3";
  q.qk_norm = true;
  CHECK(load_error(q).empty());
  {
    kt::TinySpec b = q;
    b.omit = {"blk.1.attn_k_norm.weight"};
    expect_error(b, "missing tensor blk.1.attn_k_norm.weight (the qwen3 architecture needs it)", __LINE__);
  }
  {
    kt::TinySpec b = q;
    b.arch = "llama";
    expect_error(b, "tensor blk.0.attn_q_norm.weight is not part of the llama graph", __LINE__);
  }
  {
    kt::TinySpec b = q;
    b.extra_meta = [](km::GgufWriter& w) { w.add_u32("qwen3.attention.sliding_window", 8); };
    expect_error(b, "has a sliding window, which the qwen3 graph does not use", __LINE__);
  }
  {
    kt::TinySpec b = q;
    b.extra_meta = [](km::GgufWriter& w) { w.add_u32("qwen3.rope.dimension_count", 12); };
    CHECK(load_error(b).empty());  // partial rotation: allowed beyond llama
    b.extra_meta = [](km::GgufWriter& w) { w.add_u32("qwen3.rope.dimension_count", 18); };
    expect_error(b, "rope.dimension_count 18 does not fit the head size 16", __LINE__);
  }
  {
    kt::TinySpec b;
    b.arch = "mamba";
    expect_error(b, "architecture 'mamba' is not supported (supported: llama, qwen2, qwen3, gemma3, phi3, smollm3)",
                 __LINE__);
  }
  {
    kt::TinySpec g = q;
    g.arch = "gemma3";
    expect_error(g, "missing tensor blk.0.post_attention_norm.weight", __LINE__);
  }
}
