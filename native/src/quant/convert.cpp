// convert_weights; see convert.h. Rows are independent, so the work is a flat
// list of (tensor, block of rows) items taken by a few threads from a shared
// counter; each row is decoded from its file type and encoded on its own, so
// the result does not depend on the thread count.
#include "quant/convert.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "keymate/error.h"
#include "quant/error_feedback.h"
#include "quant/importance.h"
#include "quant/quantize_gguf.h"
#include "quant/quantize_run.h"

namespace km::quant {

namespace {

constexpr int64_t kRowsPerItem = 16;

struct Job {
  Tensor* t;         // the tensor, replaced when all items are done
  Tensor out;        // the converted tensor (data points into `buf`)
  std::unique_ptr<uint8_t[]> buf;
  std::vector<float> weights;  // [cols] column weights, or empty
  std::shared_ptr<const Feedback> feedback;  // the input's error feedback factors (4-bit formats), or null
};

// Runs fn(0) .. fn(n - 1) on up to `threads` threads, items taken in order
// from a shared counter; the first exception stops the rest and is rethrown.
void parallel_items(size_t n, int threads, const std::function<void(size_t)>& fn) {
  threads = (int)std::min<size_t>((size_t)std::max(1, threads), std::max<size_t>(1, n));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  auto work = [&] {
    try {
      for (size_t it = next.fetch_add(1); it < n && !failed.load(); it = next.fetch_add(1)) fn(it);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; i++) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void encode_rows(const Tensor& src, Tensor& dst, int64_t r0, int64_t r1, ScaleRule rule, const float* w,
                 const Feedback* fb, bool polish, std::vector<float>& row) {
  row.resize((size_t)src.cols);
  uint8_t* base = static_cast<uint8_t*>(const_cast<void*>(dst.data));
  for (int64_t r = r0; r < r1; r++) {
    tensor_row(src, r, row.data());
    uint8_t* out = base + (uint64_t)r * dst.row_bytes;
    if (dst.quant.none()) quantize_row(dst.type, row.data(), out, src.cols);
    else if (fb) quantize_run_row_feedback(dst.quant, row.data(), src.cols, out, rule, w, *fb, polish);
    else quantize_run_row(dst.quant, row.data(), src.cols, out, rule, w);
  }
}

}  // namespace

std::vector<float> column_weights(const std::vector<float>& mean) {
  if (mean.empty()) return {};
  double sum = 0;
  for (float m : mean) sum += m;
  const double avg = sum / (double)mean.size();
  std::vector<float> w(mean.size(), 1.0f);
  if (!(avg > 0)) return w;  // nothing measured: uniform
  const float floor = kImportanceFloor;
  for (size_t k = 0; k < mean.size(); k++) w[k] = (float)((1.0 - floor) * mean[k] / avg + floor);
  return w;
}

TensorPlan plan_tensor(const WeightFormat& f, int64_t cols, bool is_output) {
  if (f.kind == WeightKind::Native) return {WeightKind::Native, {}};
  if (cols % kRunColAlign || f.kind == WeightKind::F16) return {WeightKind::F16, {}};
  RunQuant q = f.quant;
  if (is_output && run_is_4bit(q.type)) q = RunQuant{RunType::Int8, q.group};
  return {WeightKind::Run, q};
}

void convert_weights(Model& m, const WeightFormat& f, const ConvertOptions& o) {
  if (f.kind == WeightKind::Native) return;
  Weights& w = m.weights;
  const bool tied = w.output.data == w.token_embd.data;
  std::vector<std::pair<Tensor*, bool>> targets{{&w.output, true}};  // (tensor, is_output)
  if (!tied) targets.push_back({&w.token_embd, false});
  for (LayerWeights& L : w.layers)
    for (Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) targets.push_back({t, false});

  const int threads = o.threads > 0 ? o.threads : (int)std::max(1u, std::thread::hardware_concurrency());
  const FeedbackMode mode = o.importance ? feedback_from_env() : FeedbackMode::Off;
  // Feedback factors by covariance, made once for every matrix that reads the input (q, k and v share one).
  std::map<std::shared_ptr<const std::vector<float>>, std::shared_ptr<Feedback>> factors;
  std::vector<Job> jobs;
  for (auto [t, is_output] : targets) {
    const TensorPlan p = plan_tensor(f, t->cols, is_output);
    if (p.kind == WeightKind::F16 && t->quant.none() && t->type == GgmlType::F16) continue;  // already so
    Job j;
    j.t = t;
    j.out = *t;
    j.out.quant = p.quant;
    if (p.kind == WeightKind::F16) j.out.type = GgmlType::F16;
    j.out.row_bytes = p.kind == WeightKind::F16 ? ggml_row_bytes(GgmlType::F16, (uint64_t)t->cols)
                                                : run_row_bytes(p.quant, t->cols);
    const uint64_t bytes = j.out.row_bytes * (uint64_t)t->rows;
    j.buf.reset(new (std::nothrow) uint8_t[bytes]);
    if (!j.buf) fail("%s: out of memory converting to %s (%llu bytes)", t->name.c_str(), f.name,
                     (unsigned long long)bytes);
    j.out.data = j.buf.get();
    if (o.importance && p.kind == WeightKind::Run) {
      j.weights = column_weights(o.importance->mean(t->name, t->cols));
      const auto it = o.importance->tensors.find(t->name);
      if (mode != FeedbackMode::Off && run_is_4bit(p.quant.type) && it != o.importance->tensors.end() && it->second.cov) {
        std::shared_ptr<Feedback>& fb = factors[it->second.cov];
        if (!fb) {
          fb = std::make_shared<Feedback>();
          fb->cols = t->cols;
        }
        j.feedback = fb;
      }
    }
    jobs.push_back(std::move(j));
  }

  // The factors, filled in place (the jobs point at them).
  std::vector<std::pair<std::shared_ptr<const std::vector<float>>, Feedback*>> todo;
  for (auto& [cov, fb] : factors) todo.push_back({cov, fb.get()});
  parallel_items(todo.size(), threads,
                 [&](size_t i) { *todo[i].second = feedback_for(todo[i].first, todo[i].second->cols); });

  // Work items: (job, first row).
  std::vector<std::pair<size_t, int64_t>> items;
  for (size_t i = 0; i < jobs.size(); i++)
    for (int64_t r = 0; r < jobs[i].t->rows; r += kRowsPerItem) items.push_back({i, r});
  parallel_items(items.size(), threads, [&](size_t it) {
    thread_local std::vector<float> row;
    Job& j = jobs[items[it].first];
    const int64_t r0 = items[it].second, r1 = std::min(j.t->rows, r0 + kRowsPerItem);
    encode_rows(*j.t, j.out, r0, r1, o.rule, j.weights.empty() ? nullptr : j.weights.data(), j.feedback.get(),
                mode == FeedbackMode::On, row);
  });

  std::set<const void*> replaced;
  for (Job& j : jobs) {
    replaced.insert(j.t->data);
    *j.t = j.out;
    w.owned.push_back(std::move(j.buf));
  }
  if (tied) w.token_embd = w.output;

  // Buffers of replaced tensors that nothing points at any more (f32 decodes
  // made at load) go.
  std::set<const void*> live{w.token_embd.data, w.output.data, w.output_norm.data, w.rope_freqs.data};
  for (const LayerWeights& L : w.layers)
    for (const Tensor* t : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.bq, &L.bk, &L.bv, &L.wo, &L.ffn_norm, &L.w_gate,
                            &L.w_up, &L.w_down})
      live.insert(t->data);
  w.owned.erase(std::remove_if(w.owned.begin(), w.owned.end(),
                               [&](const std::unique_ptr<uint8_t[]>& b) {
                                 return replaced.count(b.get()) && !live.count(b.get());
                               }),
                w.owned.end());
}

}  // namespace km::quant
