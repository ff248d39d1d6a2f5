// The memory plan (src/memory_plan.h): the file route (header only) must
// count the weights exactly as a loaded, converted model holds them, for
// every format and model kind (untied, tied, quantized input, rows that fall
// back to f16); the KV term follows the cache layout; fits and max_context
// follow from the totals.
#include <string>

#include "cpu_test_models.h"
#include "keymate/engine.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "memory_plan.h"
#include "quant/convert.h"
#include "quant/weight_formats.h"
#include "test.h"

namespace {

uint64_t converted_bytes(std::shared_ptr<const km::GgufFile> file, const km::quant::WeightFormat& f) {
  km::Model m = km::load_model(std::move(file));
  km::quant::convert_weights(m, f, {});
  return m.weight_bytes();
}

}  // namespace

TEST(memory_plan, file_route_counts_weights_as_loaded) {
  std::vector<kt::TinySpec> specs(6);
  specs[1].tied = true;
  specs[2].type = km::GgmlType::Q8_0;
  specs[2].embd_type = km::GgmlType::Q8_0;
  specs[3].ffn = 80;  // not a multiple of 32: ffn_down falls back to f16
  specs[3].type = km::GgmlType::F16;
  specs[4].type_of["blk.0.ffn_up.weight"] = km::GgmlType::Q5_0;  // held as Q8_0
  specs[4].type_of["blk.1.attn_q.weight"] = km::GgmlType::Q5_1;  // held as f32
  specs[5].dim = 256;  // whole K-quant super-blocks: Q4_K, Q5_K and Q6_K run as stored
  specs[5].ffn = 512;
  specs[5].type = km::GgmlType::Q4_K;
  specs[5].type_of["blk.0.ffn_down.weight"] = km::GgmlType::Q6_K;
  specs[5].type_of["blk.1.ffn_down.weight"] = km::GgmlType::Q5_K;
  for (size_t i = 0; i < specs.size(); i++) {
    std::vector<uint8_t> image;
    auto file = kt::tiny_gguf(specs[i], image);
    for (const auto& f : km::quant::weight_format_table()) {
      const uint64_t want = converted_bytes(file, f);
      const uint64_t got = km::plan_input(*file, f).weights_bytes;
      if (got != want)
        kt::report_failure(__FILE__, __LINE__,
                           km::format("spec %zu format %s: plan %llu vs loaded %llu", i, f.name,
                                      (unsigned long long)got, (unsigned long long)want));
    }
  }
  // And the real model, through the public API and a loaded engine.
  for (const char* w : {"native", "f16", "int4", "nf4-g128", "fp8", "w8a8"}) {
    km::LoadOptions o;
    o.backend = "cpu";
    o.threads = 1;
    o.context = 64;
    o.weights = w;
    auto e = km::Engine::load(kt::model_path("stories260K.gguf"), o);
    const km::MemoryPlan a = km::plan_memory(kt::model_path("stories260K.gguf"), w, "f16", 64, 0);
    const km::MemoryPlan b = e->plan(0, 0);
    CHECK_EQ(a.weights_bytes, e->model().weight_bytes());
    CHECK_EQ(b.weights_bytes, a.weights_bytes);
    CHECK_EQ(b.context, 64);  // the engine's context
    CHECK_EQ(a.total_bytes, b.total_bytes);
  }
}

TEST(memory_plan, kv_term_follows_the_cache_layout) {
  // stories260K: 5 layers, 4 KV heads of 8: per token, K and V of 32
  // elements per layer, plus INT8's fp16 scale per head.
  const std::string path = kt::model_path("stories260K.gguf");
  CHECK_EQ(km::plan_memory(path, "native", "f16", 0, 0).kv_bytes_per_token, (uint64_t)(2 * 5 * 32 * 2));
  CHECK_EQ(km::plan_memory(path, "native", "fp8", 0, 0).kv_bytes_per_token, (uint64_t)(2 * 5 * 32));
  CHECK_EQ(km::plan_memory(path, "native", "fp8-e5m2", 0, 0).kv_bytes_per_token, (uint64_t)(2 * 5 * 32));
  CHECK_EQ(km::plan_memory(path, "native", "int8", 0, 0).kv_bytes_per_token, (uint64_t)(2 * 5 * (32 + 4 * 2)));
  const km::MemoryPlan p = km::plan_memory(path, "int8", "int8", 0, 0);
  CHECK_EQ(p.context, 512);  // the model's
  CHECK_EQ(p.kv_bytes, p.kv_bytes_per_token * 512);
  CHECK_EQ(p.weights, std::string("int8-g32"));
  CHECK_EQ(p.kv, std::string("int8"));
  CHECK_EQ(p.total_bytes, p.weights_bytes + p.kv_bytes + p.activation_bytes + p.reserve_bytes);
  CHECK(p.activation_bytes > 0);
  CHECK_EQ(p.reserve_bytes, km::kPlanReserve);
}

TEST(memory_plan, fits_and_max_context) {
  const std::string path = kt::model_path("stories260K.gguf");
  const km::MemoryPlan p = km::plan_memory(path, "fp8", "f16", 256, 0);
  CHECK(!p.fits);  // no memory given
  CHECK_EQ(p.max_context, 0);
  CHECK(km::plan_memory(path, "fp8", "f16", 256, p.total_bytes).fits);
  CHECK(!km::plan_memory(path, "fp8", "f16", 256, p.total_bytes - 1).fits);
  const uint64_t fixed = p.weights_bytes + p.activation_bytes + p.reserve_bytes;
  CHECK_EQ(km::plan_memory(path, "fp8", "f16", 256, fixed + 100 * p.kv_bytes_per_token + 1).max_context, 100);
  CHECK_EQ(km::plan_memory(path, "fp8", "f16", 256, fixed + 1000000 * p.kv_bytes_per_token).max_context, 512);
  CHECK_EQ(km::plan_memory(path, "fp8", "f16", 256, fixed / 2).max_context, 0);

  // A 7B model on an 8 GB laptop GPU, planned from its shape: FP8 weights
  // with an f16 cache fit 4096 tokens only with GQA; INT4 leaves room.
  km::PlanInput llama3;
  llama3.layers = 32, llama3.heads = 32, llama3.kv_heads = 8, llama3.head_dim = 128, llama3.dim = 4096;
  llama3.ffn = 14336, llama3.vocab = 128256, llama3.context_max = 8192;
  llama3.weights_bytes = 8030261248ull;  // fp8 of Llama 3 8B: one byte per weight
  const uint64_t gb8 = 8ull << 30;
  const km::MemoryPlan q = km::make_plan(llama3, km::quant::weight_format("fp8"), km::quant::kv_format("f16"), 4096, gb8);
  CHECK_EQ(q.kv_bytes_per_token, (uint64_t)(2 * 32 * 8 * 128 * 2));  // 128 KiB per token
  CHECK(!q.fits);  // 7.5 GiB of weights + 0.5 GiB of KV + reserve > 8 GiB
}

TEST(memory_plan, errors_name_the_problem) {
  const std::string path = kt::model_path("stories260K.gguf");
  CHECK_THROWS_WITH(km::plan_memory(path, "int5", "f16", 0, 0), "weights int5: unknown format");
  CHECK_THROWS_WITH(km::plan_memory(path, "int4", "q8", 0, 0), "kv q8: unknown format");
  CHECK_THROWS_WITH(km::plan_memory(path, "int4", "f16", -1, 0), "context -1 is negative");
  CHECK_THROWS_WITH(km::plan_memory(kt::models_dir() + "/no-such.gguf", "int4", "f16", 0, 0), "no-such.gguf");
}
