// Conversion at load (quant/convert.h): which format each tensor of a real
// model ends in, tied embeddings converted once, conversion from quantized
// files, bytes independent of the thread count, and converted models that
// still run and say what they are.
#include <cstring>
#include <memory>
#include <string>

#include "cpu_test_models.h"
#include "keymate/engine.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "keymate/tokenizer.h"
#include "quant/convert.h"
#include "quant/weight_formats.h"
#include "test.h"

using km::RunType;

namespace {

km::LoadOptions opts(const char* weights, const char* kv = "f16") {
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = 128;
  o.weights = weights;
  o.kv = kv;
  return o;
}

km::Model converted(const std::string& path, const char* format, int threads) {
  km::Model m = km::load_model(km::GgufFile::open(path));
  km::quant::ConvertOptions co;
  co.threads = threads;
  km::quant::convert_weights(m, km::quant::weight_format(format), co);
  return m;
}

bool same_bytes(const km::Tensor& a, const km::Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.data, b.data, a.bytes()) == 0;
}

}  // namespace

TEST(quant_convert, stories260k_int4_follows_the_policy) {
  const km::Model m = converted(kt::model_path("stories260K.gguf"), "int4", 2);
  const km::LayerWeights& L = m.weights.layers[1];
  CHECK(L.wq.quant.type == RunType::Int4 && L.wq.quant.group == 32);
  CHECK(L.w_gate.quant.type == RunType::Int4);
  CHECK(L.w_down.quant.none() && L.w_down.type == km::GgmlType::F16);  // 172 columns: f16
  CHECK(m.weights.output.quant.type == RunType::Int8 && m.weights.output.quant.group == 32);
  CHECK(m.weights.token_embd.quant.type == RunType::Int4);  // untied in this file: looked up only
  CHECK(L.attn_norm.type == km::GgmlType::F32);
  CHECK_EQ(L.wq.row_bytes, km::run_row_bytes(L.wq.quant, 64));
  // the model owns exactly the converted buffers: nothing decoded earlier leaks
  CHECK_EQ(m.weights.owned.size(), (size_t)(2 + 5 * 7));
}

TEST(quant_convert, bytes_do_not_depend_on_threads) {
  for (const char* f : {"nf4-g64", "fp8", "w8a8"}) {
    const km::Model a = converted(kt::model_path("stories260K.gguf"), f, 1);
    const km::Model b = converted(kt::model_path("stories260K.gguf"), f, 3);
    CHECK(same_bytes(a.weights.output, b.weights.output));
    for (size_t l = 0; l < a.weights.layers.size(); l++) {
      CHECK(same_bytes(a.weights.layers[l].wq, b.weights.layers[l].wq));
      CHECK(same_bytes(a.weights.layers[l].w_up, b.weights.layers[l].w_up));
    }
  }
}

TEST(quant_convert, tied_embeddings_are_converted_once) {
  kt::TinySpec s;
  s.tied = true;
  s.type = km::GgmlType::Q8_0;
  s.embd_type = km::GgmlType::Q8_0;
  const kt::TinyModel tm = kt::tiny_model(s);
  km::Model m = km::load_model(tm.file);
  km::quant::convert_weights(m, km::quant::weight_format("int4-g64"), {});
  CHECK(m.weights.output.data == m.weights.token_embd.data);
  CHECK(m.weights.output.quant.type == RunType::Int8);  // the output policy wins for the shared tensor
  CHECK_EQ((int)m.weights.output.quant.group, 64);
  CHECK(m.weights.layers[0].wq.quant.type == RunType::Int4);
}

TEST(quant_convert, every_format_loads_runs_and_reports_itself) {
  // From the F32 file and from llama.cpp's Q8_0 file (quantized input):
  // every format loads, reports its canonical name and weight bytes, and
  // continues a story with words.
  for (const char* file : {"stories260K.gguf", "stories260K-Q8_0.gguf"})
    for (const auto& f : km::weight_formats()) {
      auto e = km::Engine::load(kt::model_path(file), opts(f.name.c_str()));
      const km::ModelInfo i = e->info();
      CHECK_EQ(i.weights, f.same_as.empty() ? f.name : f.same_as);
      CHECK_EQ(i.kv, std::string("f16"));
      CHECK_EQ(i.weight_bytes, e->model().weight_bytes());
      km::GenerateRequest req;
      req.prompt = "Once upon a time";
      req.max_tokens = 12;
      req.sampling.temperature = 0;
      const km::GenerateResult r = e->generate(req, nullptr);
      CHECK_EQ(r.tokens.size(), (size_t)12);
      CHECK(r.completion.find(' ') != std::string::npos);
    }
}

TEST(quant_convert, int8_keeps_the_reference_story) {
  // The README's greedy continuation of llama.cpp on the F32 model; INT8
  // (KLD ~1e-3) must keep its first sentence.
  auto e = km::Engine::load(kt::model_path("stories260K.gguf"), opts("int8"));
  km::GenerateRequest req;
  req.prompt = "Once upon a time";
  req.max_tokens = 11;
  req.sampling.temperature = 0;
  CHECK_EQ(e->generate(req, nullptr).completion, std::string(", there was a little girl named Lily."));
}

TEST(quant_convert, converted_engines_are_deterministic) {
  auto a = km::Engine::load(kt::model_path("stories260K.gguf"), opts("int4-g128", "int8"));
  auto b = km::Engine::load(kt::model_path("stories260K.gguf"), opts("int4-g128", "int8"));
  const std::vector<int32_t> toks = a->tokenizer().encode("One day, a cat and a dog went to the park.", true, false);
  CHECK(a->logits(toks, true) == b->logits(toks, true));
  // a synthetic model converts too
  auto s = km::Engine::synthetic("tiny-125m", "f16", 1, opts("fp8-g128"));
  CHECK_EQ(s->info().weights, std::string("fp8-g128"));
  CHECK(s->model().weights.layers[0].wq.quant.type == RunType::Fp8);
}
