// load_model: hyperparameters and tensors of the real stories260K files, the
// parameter and byte counts, and one clear error for each way a file can be
// wrong (each provoked on a tiny in-memory model that is otherwise valid).
#include <cstring>
#include <memory>
#include <string>

#include "cpu_test_models.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "test.h"

using km::GgmlType;

namespace {

std::shared_ptr<const km::GgufFile> open_model(const std::string& name) {
  const std::string path = kt::model_path(name);
  return std::shared_ptr<const km::GgufFile>(km::GgufFile::open(path));
}

void expect_error(const kt::TinySpec& s, const std::string& needle) {
  const std::string e = kt::load_error(s);
  if (e.find(needle) == std::string::npos)
    kt::report_failure(__FILE__, __LINE__, "expected an error with '" + needle + "', got '" + e + "'");
}

}  // namespace

TEST(model, stories260k_hyperparameters) {
  const km::Model m = km::load_model(open_model("stories260K.gguf"));
  const km::Config& c = m.config;
  CHECK_EQ(c.architecture, std::string("llama"));
  CHECK_EQ(c.name, std::string("tinyllamas-stories-260k"));
  CHECK_EQ(c.dim, 64);
  CHECK_EQ(c.n_layers, 5);
  CHECK_EQ(c.n_heads, 8);
  CHECK_EQ(c.n_kv_heads, 4);
  CHECK_EQ(c.head_dim, 8);
  CHECK_EQ(c.ffn_dim, 172);
  CHECK_EQ(c.vocab, 512);
  CHECK_EQ(c.context, 512);
  CHECK_NEAR(c.norm_eps, 1e-5, 1e-12);
  CHECK_EQ(c.rope_theta, 10000.0f);
  CHECK_EQ(c.rope_freq_scale, 1.0f);
  CHECK(c.rope_style == km::RopeStyle::Normal);
  // The original model ties its output to the embedding, but this conversion
  // stores output.weight as a copy, so the file is loaded as untied.
  CHECK(!c.tied_embeddings);
  CHECK(!c.qkv_bias);
  CHECK(!c.has_rope_freqs);
  CHECK_EQ(m.weights.layers.size(), (size_t)5);
  // token_embd and output 512x64; per layer q 64x64, k, v 32x64, o 64x64,
  // gate/up 172x64, down 64x172, two norms of 64; output_norm 64.
  const uint64_t per_layer = 4096 + 2048 + 2048 + 4096 + 3 * 11008 + 128;
  CHECK_EQ(m.parameters(), (uint64_t)(2 * 32768 + 5 * per_layer + 64));
  CHECK_EQ(m.weight_bytes(), m.parameters() * 4);
  const km::Tensor& q = m.weights.layers[2].wq;
  CHECK_EQ(q.rows, (int64_t)64);
  CHECK_EQ(q.cols, (int64_t)64);
  CHECK_EQ(q.name, std::string("blk.2.attn_q.weight"));
  CHECK(m.weights.output.data != m.weights.token_embd.data);
  CHECK(std::memcmp(m.weights.output.data, m.weights.token_embd.data, 512 * 64 * 4) == 0);
}

TEST(model, tied_output_is_the_embedding) {
  kt::TinySpec s;
  s.tied = true;
  const kt::TinyModel tm = kt::tiny_model(s);
  CHECK(tm.model->config.tied_embeddings);
  CHECK(tm.model->weights.output.data == tm.model->weights.token_embd.data);
  kt::TinySpec u;
  const kt::TinyModel um = kt::tiny_model(u);
  // counted once when tied
  CHECK_EQ(tm.model->parameters() + (uint64_t)(80 * 64), um.model->parameters());
}

TEST(model, stories260k_quantized_files) {
  const km::Model q8 = km::load_model(open_model("stories260K-Q8_0.gguf"));
  CHECK(!q8.config.tied_embeddings);
  CHECK(q8.weights.layers[0].wq.type == GgmlType::Q8_0);
  CHECK(q8.weights.layers[0].w_down.type == GgmlType::F16);  // 172 columns: llama-quantize's fallback
  CHECK_EQ(q8.parameters(), (uint64_t)(32768 * 2 + 5 * (4096 + 2048 + 2048 + 4096 + 3 * 11008 + 128) + 64));
  const km::Model q4 = km::load_model(open_model("stories260K-Q4_0.gguf"));
  CHECK(q4.weights.token_embd.type == GgmlType::Q4_0);
  CHECK(q4.weights.output.type == GgmlType::Q8_0);
  CHECK(q4.weight_bytes() < q8.weight_bytes());
}

TEST(model, llama2_tiny_random_f16) {
  const km::Model m = km::load_model(open_model("llama-2-tiny-random.gguf"));
  CHECK_EQ(m.config.vocab, 32000);
  CHECK_EQ(m.config.dim, 8);
  CHECK(m.weights.output.type == GgmlType::F16);
  CHECK_EQ(m.config.context, 4096);
}

TEST(model, tiny_variants_load) {
  kt::TinySpec s;
  s.arch = "qwen2";
  s.qkv_bias = true;
  s.rope_freqs = true;
  s.rope_scale = 2;
  s.tied = true;
  s.type = GgmlType::Q8_0;
  const kt::TinyModel tm = kt::tiny_model(s);
  const km::Config& c = tm.model->config;
  CHECK(c.rope_style == km::RopeStyle::NeoX);
  CHECK(c.qkv_bias);
  CHECK(c.has_rope_freqs);
  CHECK(c.tied_embeddings);
  CHECK_EQ(c.rope_freq_scale, 0.5f);
  CHECK(!tm.model->weights.layers[1].bk.empty());
}

TEST(model, types_not_multiplied_as_stored_are_converted_at_load) {
  // Q5_0 (llama-quantize's fallback for rows that are not whole Q4_K
  // super-blocks) becomes Q8_0 holding the same values exactly; Q5_1 becomes f32.
  kt::TinySpec s;
  s.type_of["blk.0.ffn_up.weight"] = GgmlType::Q5_0;
  s.type_of["blk.1.ffn_up.weight"] = GgmlType::Q5_1;
  const kt::TinyModel tm = kt::tiny_model(s);
  const int64_t cols = 64, rows = 96;
  std::vector<float> want((size_t)(cols * rows)), got(want.size());
  const km::Tensor& up0 = tm.model->weights.layers[0].w_up;
  CHECK(up0.type == GgmlType::Q8_0);
  CHECK_EQ(up0.row_bytes, km::ggml_row_bytes(GgmlType::Q8_0, cols));
  km::dequantize_row(GgmlType::Q5_0, tm.file->tensor("blk.0.ffn_up.weight")->data, want.data(), cols * rows);
  km::dequantize_row(GgmlType::Q8_0, up0.data, got.data(), cols * rows);
  CHECK(std::memcmp(want.data(), got.data(), 4 * want.size()) == 0);
  const km::Tensor& up1 = tm.model->weights.layers[1].w_up;
  CHECK(up1.type == GgmlType::F32);
  CHECK_EQ(up1.row_bytes, (uint64_t)(4 * cols));
  km::dequantize_row(GgmlType::Q5_1, tm.file->tensor("blk.1.ffn_up.weight")->data, want.data(), cols * rows);
  CHECK(std::memcmp(want.data(), up1.data, 4 * want.size()) == 0);
}

TEST(model, errors_name_the_problem) {
  kt::TinySpec s;
  {
    kt::TinySpec b = s;
    b.arch = "gpt2";
    expect_error(b, "architecture 'gpt2' is not supported");
  }
  {
    kt::TinySpec b = s;
    b.shape_of["blk.1.attn_q.weight"] = {64, 32};
    expect_error(b, "tiny.gguf: tensor blk.1.attn_q.weight has shape [64, 32], expected [64, 64]");
  }
  {
    kt::TinySpec b = s;
    b.omit = {"blk.1.ffn_down.weight"};
    expect_error(b, "missing tensor blk.1.ffn_down.weight");
  }
  {
    kt::TinySpec b = s;
    b.type_of["blk.0.attn_norm.weight"] = GgmlType::F16;
    expect_error(b, "blk.0.attn_norm.weight has type f16, expected f32");
  }
  {
    kt::TinySpec b = s;
    b.omit_meta = {"llama.attention.layer_norm_rms_epsilon"};
    expect_error(b, "missing metadata llama.attention.layer_norm_rms_epsilon");
  }
  {
    kt::TinySpec b = s;
    b.kv_heads = 3;
    expect_error(b, "not a multiple of 3 KV heads");
  }
  {
    kt::TinySpec b = s;
    b.extra_meta = [](km::GgufWriter& w) { w.add_string("llama.rope.scaling.type", "yarn"); };
    expect_error(b, "rope scaling 'yarn' is not supported");
  }
  {
    kt::TinySpec b = s;
    b.extra_meta = [](km::GgufWriter& w) { w.add_u32("llama.rope.dimension_count", 8); };
    expect_error(b, "rotates whole heads");
  }
  {
    kt::TinySpec b = s;
    b.omit_meta = {"llama.attention.head_count_kv"};
    b.extra_meta = [](km::GgufWriter& w) {
      const uint32_t heads[2] = {4, 8};
      w.add_array("llama.attention.head_count_kv", km::GgufKind::U32, 2, heads);
    };
    expect_error(b, "differs between layers");
  }
  {
    kt::TinySpec b = s;
    b.extra_meta = [](km::GgufWriter& w) {
      std::vector<std::string_view> toks(3, "x");
      w.add_string_array("tokenizer.ggml.tokens", toks);
    };
    expect_error(b, "the tokenizer has 3 tokens but token_embd.weight has 80 rows");
  }
  {
    kt::TinySpec b = s;
    b.type_of["blk.0.ffn_gate.weight"] = GgmlType::I32;
    expect_error(b, "which the engine cannot read");
  }
}
