// Importance measured on a calibration text, and the policy at load; see
// calibrate.h. The observer keeps one sum per (layer, input) and copies it
// to every weight that reads that input when the run is over, so fused
// q|k|v and gate|up cost one sum each.
#include "quant/calibrate.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "keymate/backend.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/tokenizer.h"
#include "kv_state.h"
#include "rng.h"
#include "timer.h"

namespace km {
extern const unsigned char kCalibrationText[];
extern const size_t kCalibrationText_size;
}  // namespace km

namespace km::quant {

namespace {

// Bumped when what is measured changes, so older cache files are not reused.
constexpr uint64_t kCollectorVersion = 2;  // 2: the block covariance
constexpr int kSites = 5;  // MatSite values

class Collector final : public MatInputObserver {
 public:
  Collector(const Config& c, bool covariance) : layers_((size_t)c.n_layers + 1), cov_(layers_.size()) {
    for (size_t l = 0; l < layers_.size(); l++) {
      const bool out = l == (size_t)c.n_layers;
      const int64_t q_dim = (int64_t)c.n_heads * c.head_dim;
      const int64_t cols[kSites] = {c.dim, q_dim, c.dim, c.ffn_dim, c.dim};
      for (int s = 0; s < kSites; s++) {
        if (out != (s == (int)MatSite::Output)) continue;
        layers_[l][s].sum2.assign((size_t)cols[s], 0.0);
        // The output matrix stays 8-bit under every 4-bit format: no error feedback, no covariance.
        if (covariance && !out) cov_[l][s].assign((size_t)cov_floats(cols[s]), 0.0);
      }
    }
  }

  void rows(int layer, MatSite site, const float* x, int n, int64_t cols, int64_t ld) override {
    const size_t l = layer < 0 ? layers_.size() - 1 : (size_t)layer;
    ColumnStats& cs = layers_[l][(int)site];
    if ((int64_t)cs.sum2.size() != cols) fail("calibration: %lld columns at a matrix input of %zu", (long long)cols, cs.sum2.size());
    for (int t = 0; t < n; t++) {
      const float* r = x + (int64_t)t * ld;
      for (int64_t k = 0; k < cols; k++) cs.sum2[(size_t)k] += (double)r[k] * r[k];
    }
    cs.count += n;
    if (!cov_[l][(int)site].empty()) add_cov(cov_[l][(int)site], x, n, cols, ld);
  }

  // Every weight that reads each input gets its sums, under the weight's name.
  void fill(const Weights& w, Importance& imp) const {
    for (size_t l = 0; l < layers_.size(); l++) {
      std::array<ColumnStats, kSites> s = layers_[l];
      for (int k = 0; k < kSites; k++)
        if (!cov_[l][k].empty()) s[k].cov = std::make_shared<const std::vector<float>>(cov_[l][k].begin(), cov_[l][k].end());
      auto put = [&](const Tensor& t, MatSite site) {
        if (!t.empty() && s[(int)site].count > 0) imp.tensors[t.name] = s[(int)site];
      };
      if (l + 1 == layers_.size()) {
        put(w.output, MatSite::Output);
        continue;
      }
      const LayerWeights& L = w.layers[l];
      for (const Tensor* t : {&L.wq, &L.wk, &L.wv}) put(*t, MatSite::AttnIn);
      put(L.wo, MatSite::AttnOut);
      for (const Tensor* t : {&L.w_gate, &L.w_up}) put(*t, MatSite::FfnIn);
      put(L.w_down, MatSite::FfnDownIn);
    }
  }

 private:
  // sum x_i x_j within each block of kCovBlock columns, over n rows: summed
  // in floats for this call (a chunk's rows; the inner loop vectorises), then
  // added to the double totals.
  void add_cov(std::vector<double>& cov, const float* x, int n, int64_t cols, int64_t ld) {
    constexpr int B = kCovBlock;
    acc_.resize((size_t)B * B);
    for (int64_t c0 = 0, b = 0; c0 < cols; c0 += B, b++) {
      const int nb = (int)std::min<int64_t>(B, cols - c0);
      std::fill(acc_.begin(), acc_.end(), 0.0f);
      for (int t = 0; t < n; t++) {
        const float* r = x + (int64_t)t * ld + c0;
        for (int i = 0; i < nb; i++) {
          const float xi = r[i];
          float* a = acc_.data() + (size_t)i * B;
          for (int j = i; j < nb; j++) a[j] += xi * r[j];  // the upper triangle; the block is symmetric
        }
      }
      double* dst = cov.data() + (size_t)b * B * B;
      for (int i = 0; i < nb; i++)
        for (int j = i; j < nb; j++) {
          dst[(size_t)i * B + j] += acc_[(size_t)i * B + j];
          if (j != i) dst[(size_t)j * B + i] += acc_[(size_t)i * B + j];
        }
    }
  }

  std::vector<std::array<ColumnStats, kSites>> layers_;  // [n_layers + 1]: the last holds Output
  std::vector<std::array<std::vector<double>, kSites>> cov_;  // [cov_floats(cols)] or empty
  std::vector<float> acc_;
};

std::string cache_file(const std::string& dir, const Model& m, std::string_view text, const CalibrateOptions& o) {
  uint64_t h = kv_state_model_hash(m);
  h = fnv1a64(text.data(), text.size(), h);
  for (uint64_t v : {kCollectorVersion, (uint64_t)o.ctx, (uint64_t)o.max_tokens}) h = fnv1a64(&v, sizeof v, h);
  return format("%s/%016llx.imatrix.gguf", dir.c_str(), (unsigned long long)h);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// mkdir -p; false (errno set) when it cannot be made.
bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i < dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) return false;
  }
  return true;
}

int64_t rows_of(const Importance& imp) {
  int64_t n = 0;
  for (const auto& [name, cs] : imp.tensors) n = std::max(n, (int64_t)cs.count);
  return n;
}

}  // namespace

std::string_view builtin_calibration_text() {
  return std::string_view(reinterpret_cast<const char*>(kCalibrationText), kCalibrationText_size);
}

bool importance_helps(const WeightFormat& f) {
  return f.kind == WeightKind::Run && run_is_4bit(f.quant.type);
}

Importance collect_importance(std::shared_ptr<const Model> m, const Tokenizer& tok, std::string_view text,
                              const std::string& dataset, const CalibrateOptions& o) {
  const Config& c = m->config;
  const int ctx = std::min(o.ctx, c.context > 0 ? c.context : o.ctx);
  if (ctx < 2) fail("calibration: a chunk of %d tokens is too short", ctx);
  std::vector<int32_t> tokens = tok.encode(text, false, false);
  if (o.max_tokens > 0 && (int64_t)tokens.size() > o.max_tokens) tokens.resize((size_t)o.max_tokens);
  if (tokens.empty()) fail("calibration: the text %s has no tokens", dataset.c_str());
  Collector col(c, o.covariance);
  BackendOptions bo;
  bo.threads = o.threads;
  bo.context = ctx;
  bo.observer = &col;
  std::unique_ptr<Backend> cpu = make_cpu_backend(m, bo);
  // Each chunk opens with BOS (where the model has one), then ctx - 1 tokens of the text.
  const bool bos = tok.bos() >= 0;
  const size_t body = (size_t)ctx - (bos ? 1 : 0);
  std::vector<int32_t> chunk;
  std::vector<float> logits;
  int chunks = 0;
  for (size_t at = 0; at < tokens.size(); at += body) {
    chunk.clear();
    if (bos) chunk.push_back(tok.bos());
    chunk.insert(chunk.end(), tokens.begin() + (ptrdiff_t)at, tokens.begin() + (ptrdiff_t)std::min(tokens.size(), at + body));
    logits.resize(chunk.size() * (size_t)c.vocab);
    cpu->forward(chunk.data(), (int)chunk.size(), 0, logits.data(), true);  // every row reaches the output matrix
    chunks++;
  }
  Importance imp;
  imp.dataset = dataset;
  imp.chunks = chunks;
  imp.chunk_size = ctx;
  col.fill(m->weights, imp);
  return imp;
}

std::string ImportanceUse::describe() const {
  if (origin == "off") return "none (unweighted scale search)";
  if (origin == "file") return format("%s (%s)", path.c_str(), importance.dataset.c_str());
  std::string s = format("%s, %lld tokens, %s in %.1f s", importance.dataset.c_str(), (long long)tokens,
                         origin == "cache" ? "read from the cache" : "measured", ms / 1000.0);
  if (!path.empty()) s += origin == "cache" ? format(" (%s)", path.c_str()) : format(", kept in %s", path.c_str());
  return s;
}

ImportanceUse importance_for_load(const std::shared_ptr<Model>& m, const WeightFormat& f, const ImportanceRequest& r) {
  ImportanceUse u;
  u.origin = "off";
  if (r.source == "off" || f.kind != WeightKind::Run) return u;
  const double t0 = now_ms();
  if (r.source != "auto") {
    u.importance = read_imatrix(r.source);
    u.origin = "file";
    u.path = r.source;
    u.tokens = rows_of(u.importance);
    u.ms = now_ms() - t0;
    return u;
  }
  if (r.synthetic || !importance_helps(f) || !m->file) return u;
  const std::string_view text = r.text.empty() ? builtin_calibration_text() : std::string_view(r.text);
  CalibrateOptions o;
  o.threads = r.threads;
  const std::string path = r.cache_dir.empty() ? "" : cache_file(r.cache_dir, *m, text, o);
  if (!path.empty() && exists(path)) {
    try {
      u.importance = read_imatrix(path);
      u.origin = "cache";
      u.path = path;
      u.tokens = rows_of(u.importance);
      u.ms = now_ms() - t0;
      return u;
    } catch (const Error&) {
      // A damaged cache file is measured again (and replaced) below.
    }
  }
  const std::unique_ptr<Tokenizer> tok = Tokenizer::from_gguf(*m->file);
  u.importance = collect_importance(m, *tok, text, r.text.empty() ? "keymate calibration text" : "calibration text", o);
  u.origin = "computed";
  u.tokens = rows_of(u.importance);
  if (!path.empty() && make_dirs(r.cache_dir)) {
    try {
      write_imatrix(path, u.importance);
      u.path = path;
    } catch (const Error&) {
      // A read-only or full disk costs the next load the measurement, nothing else.
    }
  }
  u.ms = now_ms() - t0;
  return u;
}

}  // namespace km::quant
