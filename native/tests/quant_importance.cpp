// Importance-aware quantization (native/src/quant/importance.h,
// calibrate.h, scale_search.h): the weighted search against the unweighted
// one on the error it minimises; the statistics the CPU backend's observer
// collects on stories260K, against the same sums made directly from the
// weights; the cache a load keeps; and one-line errors for bad imatrix files.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/simd.h"
#include "keymate/engine.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "keymate/tokenizer.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/importance.h"
#include "quant/quantize_run.h"
#include "quant/scale_search.h"
#include "gguf_writer.h"
#include "temp_dir.h"
#include "test.h"

namespace {

constexpr int kGroups = 3000;
// Sums of squares made in another order (the observer's rows vs ours).
constexpr double kSumTolerance = 1e-5;
constexpr const char* kText = "Once upon a time there was a little cat who liked to sit in the sun.";

std::shared_ptr<km::Model> stories(std::shared_ptr<const km::GgufFile>& file) {
  file = km::GgufFile::open(kt::model_path("stories260K.gguf"));
  return std::make_shared<km::Model>(km::load_model(file));
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

}  // namespace

TEST(quant_importance, weighted_search_never_loses_on_the_weighted_error) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> spread(0.0f, 1.5f);  // importance spans orders of magnitude, as measured
  const km::quant::LevelSet sets[] = {km::quant::int4_levels(), km::quant::nf4_levels(), km::quant::int8_levels()};
  for (const km::quant::LevelSet& s : sets) {
    double total_u = 0, total_w = 0;
    int worse = 0;
    for (int g = 0; g < kGroups; g++) {
      float x[32], w[32];
      for (int k = 0; k < 32; k++) {
        x[k] = 0.02f * normal(rng);
        if (g % 4 == 0 && k == g % 32) x[k] *= 8;  // an outlier in every fourth group
        w[k] = spread(rng);
      }
      uint8_t iu[32], iw[32];
      const float du = km::quant::choose_levels(x, 32, s, km::quant::ScaleRule::Search, true, iu);
      const float dw = km::quant::choose_levels(x, 32, s, km::quant::ScaleRule::Search, true, iw, w);
      const double eu = km::quant::weighted_error(x, w, 32, s, du, iu);
      const double ew = km::quant::weighted_error(x, w, 32, s, dw, iw);
      total_u += eu, total_w += ew;
      if (ew > eu) worse++;  // never: the weighted search keeps the unweighted result when it is better
    }
    CHECK_EQ(worse, 0);
    CHECK(total_w < 0.9 * total_u);  // and it gains: what the weights are for
  }
}

TEST(quant_importance, unweighted_search_is_unchanged_by_uniform_weights) {
  // All-ones weights rank and refit exactly as no weights do (x * 1 is exact).
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> ones(32, 1.0f);
  for (const km::quant::LevelSet& s : {km::quant::int4_levels(), km::quant::nf4_levels()})
    for (int g = 0; g < 200; g++) {
      float x[32];
      for (float& v : x) v = normal(rng);
      uint8_t a[32], b[32];
      CHECK_EQ(km::quant::choose_levels(x, 32, s, km::quant::ScaleRule::Search, true, a),
               km::quant::choose_levels(x, 32, s, km::quant::ScaleRule::Search, true, b, ones.data()));
    }
}

TEST(quant_importance, collected_statistics_match_the_model) {
  std::shared_ptr<const km::GgufFile> file;
  auto m = stories(file);
  const auto tok = km::Tokenizer::from_gguf(*file);
  km::quant::CalibrateOptions o;
  o.threads = 2;
  const km::quant::Importance imp = km::quant::collect_importance(m, *tok, kText, "test", o);
  const km::Config& c = m->config;
  const std::vector<int32_t> toks = tok->encode(kText, false, false);
  const int rows = (int)toks.size() + 1;  // BOS opens the one chunk
  CHECK_EQ(imp.chunks, 1);
  CHECK_EQ(imp.tensors.size(), (size_t)(7 * c.n_layers + 1));  // every matrix, and the tied output once

  // Layer 0's q/k/v input is rmsnorm(embedding) * attn_norm: made here from the weights.
  const km::Weights& w = m->weights;
  const auto& k = km::cpu::kernels_for(km::cpu::Simd::Scalar);
  std::vector<double> want((size_t)c.dim, 0.0);
  std::vector<float> e((size_t)c.dim), y((size_t)c.dim);
  for (int t = 0; t < rows; t++) {
    const int32_t id = t == 0 ? tok->bos() : toks[(size_t)t - 1];
    km::quant::tensor_row(w.token_embd, id, e.data());
    k.rms_norm(e.data(), static_cast<const float*>(w.layers[0].attn_norm.data), c.norm_eps, c.dim, y.data());
    for (int i = 0; i < c.dim; i++) want[(size_t)i] += (double)y[(size_t)i] * y[(size_t)i];
  }
  for (const km::Tensor* t : {&w.layers[0].wq, &w.layers[0].wk, &w.layers[0].wv}) {
    const km::quant::ColumnStats& s = imp.tensors.at(t->name);
    CHECK_EQ(s.count, (double)rows);
    for (int i = 0; i < c.dim; i++) CHECK_NEAR(s.sum2[(size_t)i], want[(size_t)i], kSumTolerance * (1 + want[(size_t)i]));
  }
  // Every input has its width, every row counted, and every column something in it.
  for (const auto& [name, s] : imp.tensors) {
    CHECK_EQ(s.count, (double)rows);
    double sum = 0;
    for (double v : s.sum2) sum += v;
    CHECK(sum > 0);
  }
  CHECK_EQ(imp.tensors.at(w.layers[2].w_down.name).sum2.size(), (size_t)c.ffn_dim);
  CHECK_EQ(imp.tensors.at(w.layers[2].wo.name).sum2.size(), (size_t)(c.n_heads * c.head_dim));
  CHECK_EQ(imp.tensors.at(w.output.name).sum2.size(), (size_t)c.dim);
}

TEST(quant_importance, written_file_reads_back) {
  std::shared_ptr<const km::GgufFile> file;
  auto m = stories(file);
  const auto tok = km::Tokenizer::from_gguf(*file);
  const km::quant::Importance a = km::quant::collect_importance(m, *tok, kText, "test text", {});
  kt::TempDir dir;
  const std::string path = dir.path + "/x.imatrix.gguf";
  km::quant::write_imatrix(path, a);
  const km::quant::Importance b = km::quant::read_imatrix(path);
  CHECK_EQ(b.dataset, std::string("test text"));
  CHECK_EQ(b.tensors.size(), a.tensors.size());
  const std::string q0 = m->weights.layers[0].wq.name;
  const std::vector<float> ma = a.mean(q0, m->config.dim), mb = b.mean(q0, m->config.dim);
  for (size_t i = 0; i < ma.size(); i++) CHECK_NEAR(mb[i], ma[i], 1e-6 * (1 + ma[i]));
  CHECK_THROWS_WITH(b.mean(q0, m->config.dim + 32), "measured on another model");
}

TEST(quant_importance, load_keeps_and_reuses_its_cache) {
  std::shared_ptr<const km::GgufFile> file;
  kt::TempDir dir;
  km::quant::ImportanceRequest r;
  r.cache_dir = dir.path + "/imatrix";  // made by the first load
  r.threads = 2;
  const km::quant::WeightFormat& f = km::quant::weight_format("int4");
  const km::quant::ImportanceUse first = km::quant::importance_for_load(stories(file), f, r);
  CHECK_EQ(first.origin, std::string("computed"));
  REQUIRE(!first.path.empty());
  const km::quant::ImportanceUse second = km::quant::importance_for_load(stories(file), f, r);
  CHECK_EQ(second.origin, std::string("cache"));
  CHECK_EQ(second.path, first.path);
  CHECK_EQ(second.tokens, first.tokens);
  // Another text is another cache entry; a damaged entry is measured again.
  r.text = kText;
  CHECK_EQ(km::quant::importance_for_load(stories(file), f, r).origin, std::string("computed"));
  r.text.clear();
  write_bytes(first.path, "GGUF but not really");
  CHECK_EQ(km::quant::importance_for_load(stories(file), f, r).origin, std::string("computed"));
  CHECK_EQ(km::quant::importance_for_load(stories(file), f, r).origin, std::string("cache"));
  // Formats auto leaves unweighted, and off.
  CHECK_EQ(km::quant::importance_for_load(stories(file), km::quant::weight_format("f16"), r).origin, std::string("off"));
  r.source = "off";
  CHECK_EQ(km::quant::importance_for_load(stories(file), f, r).origin, std::string("off"));
}

TEST(quant_importance, bad_imatrix_is_one_line) {
  kt::TempDir dir;
  auto load = [&](const std::string& imatrix) {
    km::LoadOptions o;
    o.backend = "cpu";
    o.threads = 2;
    o.context = 64;
    o.weights = "int4";
    o.imatrix = imatrix;
    return km::Engine::load(kt::model_path("stories260K.gguf"), o);
  };
  auto one_line = [&](const std::string& imatrix, const char* needle) {
    try {
      load(imatrix);
      CHECK(false);
    } catch (const km::Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find('\n') == std::string::npos);
      CHECK(msg.find(needle) != std::string::npos);
      if (msg.find(needle) == std::string::npos) std::fprintf(stderr, "message: %s\n", msg.c_str());
    }
  };
  one_line(dir.path + "/missing.gguf", "missing.gguf");
  write_bytes(dir.path + "/text.gguf", "not a gguf at all, just text\n");
  one_line(dir.path + "/text.gguf", "text.gguf");
  one_line(kt::model_path("stories260K.gguf"), "not an imatrix file");

  // An imatrix of another model's widths.
  km::quant::Importance other;
  other.tensors["blk.0.attn_q.weight"].sum2.assign(96, 1.0);
  other.tensors["blk.0.attn_q.weight"].count = 4;
  km::quant::write_imatrix(dir.path + "/other.gguf", other);
  one_line(dir.path + "/other.gguf", "measured on another model");

  // A count of zero, and a negative sum.
  km::quant::Importance zero = other;
  zero.tensors["blk.0.attn_q.weight"].count = 0;
  km::quant::write_imatrix(dir.path + "/zero.gguf", zero);
  one_line(dir.path + "/zero.gguf", "count 0");
  km::quant::Importance neg = other;
  neg.tensors["blk.0.attn_q.weight"].sum2[5] = -1;
  km::quant::write_imatrix(dir.path + "/neg.gguf", neg);
  one_line(dir.path + "/neg.gguf", "column 5");

  // Keymate's covariance blocks (quant_error_feedback.cpp reads a good one):
  // one block for a weight that needs two, and a negative sum of squares on
  // a diagonal. Partial blocks are not even written.
  const int64_t block = km::quant::kCovBlock;
  km::quant::Importance cov;
  cov.tensors["blk.0.attn_q.weight"].sum2.assign((size_t)block + 32, 1.0);
  cov.tensors["blk.0.attn_q.weight"].count = 4;
  cov.tensors["blk.0.attn_q.weight"].cov = std::make_shared<const std::vector<float>>((size_t)(block * block), 0.5f);
  km::quant::write_imatrix(dir.path + "/cov-size.gguf", cov);
  one_line(dir.path + "/cov-size.gguf", "in_cov: expected");
  cov.tensors["blk.0.attn_q.weight"].cov = std::make_shared<const std::vector<float>>(100, 0.5f);
  CHECK_THROWS_WITH(km::quant::write_imatrix(dir.path + "/cov-part.gguf", cov), "not whole blocks");
  cov.tensors["blk.0.attn_q.weight"].sum2.assign(64, 1.0);
  std::vector<float> diag((size_t)km::quant::cov_floats(64), 0.0f);
  diag[(size_t)(3 * km::quant::kCovBlock + 3)] = -2.0f;
  cov.tensors["blk.0.attn_q.weight"].cov = std::make_shared<const std::vector<float>>(diag);
  km::quant::write_imatrix(dir.path + "/cov-neg.gguf", cov);
  one_line(dir.path + "/cov-neg.gguf", "on the diagonal >= 0");
}

TEST(quant_importance, covariance_in_other_blocks_is_left_out_not_refused) {
  // A file whose in_cov was measured in blocks of another size (another
  // version of keymate) still gives its sums of squares.
  kt::TempDir dir;
  const int64_t other = km::quant::kCovBlock / 2, cols = 2 * km::quant::kCovBlock;
  km::GgufWriter w;
  w.add_string("general.type", "imatrix");
  w.add_tensor("blk.0.attn_q.weight.in_sum2", km::GgmlType::F32, {(uint64_t)cols, 1}, [&](uint8_t* dst, uint64_t) {
    for (int64_t k = 0; k < cols; k++) {
      const float v = 1.0f + (float)k;
      std::memcpy(dst + 4 * k, &v, 4);
    }
  });
  w.add_tensor("blk.0.attn_q.weight.counts", km::GgmlType::F32, {1, 1}, [](uint8_t* dst, uint64_t) {
    const float v = 2.0f;
    std::memcpy(dst, &v, 4);
  });
  w.add_tensor("blk.0.attn_q.weight.in_cov", km::GgmlType::F32, {(uint64_t)other, (uint64_t)other, (uint64_t)(cols / other)},
               [](uint8_t* dst, uint64_t bytes) { std::memset(dst, 0, bytes); });
  w.write_file(dir.path + "/old.gguf");
  const km::quant::Importance imp = km::quant::read_imatrix(dir.path + "/old.gguf");
  const km::quant::ColumnStats& s = imp.tensors.at("blk.0.attn_q.weight");
  CHECK(s.cov == nullptr);
  CHECK_EQ(s.sum2.size(), (size_t)cols);
  const std::vector<float> mean = imp.mean("blk.0.attn_q.weight", cols);
  CHECK_EQ(mean[3], 2.0f);  // (1 + 3) / 2 rows
}

TEST(quant_importance, a_good_imatrix_loads_and_is_reported) {
  std::shared_ptr<const km::GgufFile> file;
  auto m = stories(file);
  const auto tok = km::Tokenizer::from_gguf(*file);
  kt::TempDir dir;
  km::quant::write_imatrix(dir.path + "/s.gguf", km::quant::collect_importance(m, *tok, kText, "short", {}));
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.context = 64;
  o.weights = "nf4";
  o.imatrix = dir.path + "/s.gguf";
  const auto e = km::Engine::load(kt::model_path("stories260K.gguf"), o);
  CHECK(e->info().importance.find("s.gguf") != std::string::npos);
  o.imatrix = "off";
  CHECK(km::Engine::load(kt::model_path("stories260K.gguf"), o)->info().importance.find("none") == 0);
}
