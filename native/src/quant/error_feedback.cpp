// Error feedback within covariance blocks; see error_feedback.h. The block
// factors are made in doubles (a kCovBlock-square Cholesky and a triangular
// inverse per block, once per input), the rows run in floats.
#include "quant/error_feedback.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "keymate/error.h"
#include "quant/importance.h"
#include "quant/quantize_run.h"

namespace km::quant {

namespace {

constexpr int B = kCovBlock;

// Lower Cholesky factor of the n x n matrix a (row-major, stride B) into l;
// false when a is not positive definite.
bool cholesky(const double* a, int n, double* l) {
  std::memset(l, 0, sizeof(double) * B * B);
  for (int j = 0; j < n; j++) {
    double d = a[j * B + j];
    for (int k = 0; k < j; k++) d -= l[j * B + k] * l[j * B + k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    const double s = std::sqrt(d);
    l[j * B + j] = s;
    for (int i = j + 1; i < n; i++) {
      double v = a[i * B + j];
      for (int k = 0; k < j; k++) v -= l[i * B + k] * l[j * B + k];
      l[i * B + j] = v / s;
    }
  }
  return true;
}

// The factor U of one block: h (n x n, damped) -> U upper with h^-1 = U^T U,
// without forming h^-1. With J the order reversal, let L be the lower
// Cholesky factor of J h J; then h = V V^T for V = J L J (upper), so
// h^-1 = V^-T V^-1 and U = V^-1 = J L^-1 J. false when h is not positive
// definite.
bool block_factor(const double* h, int n, double* u) {
  static thread_local double a[B * B], l[B * B], m[B * B];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) a[i * B + j] = h[(n - 1 - i) * B + (n - 1 - j)];
  if (!cholesky(a, n, l)) return false;
  // m = l^-1, lower, a row at a time: row i is (e_i - sum_k<i l[i][k] row k) / l[i][i].
  std::memset(m, 0, sizeof m);
  for (int i = 0; i < n; i++) {
    double* mi = m + i * B;
    for (int k = 0; k < i; k++) {
      const double c = l[i * B + k];
      const double* mk = m + k * B;
      for (int j = 0; j <= k; j++) mi[j] -= c * mk[j];
    }
    const double inv = 1.0 / l[i * B + i];
    for (int j = 0; j < i; j++) mi[j] *= inv;
    mi[i] = inv;
  }
  std::memset(u, 0, sizeof(double) * B * B);
  for (int i = 0; i < n; i++)
    for (int j = i; j < n; j++) u[i * B + j] = m[(n - 1 - i) * B + (n - 1 - j)];
  return true;
}

}  // namespace

bool feedback_from_env() {
  const char* v = std::getenv("KEYMATE_QUANT_FEEDBACK");
  if (!v || !*v || std::string(v) == "on") return true;
  if (std::string(v) == "off") return false;
  fail("KEYMATE_QUANT_FEEDBACK=%s: unknown value (on or off)", v);
}

namespace {

// Block b of h into out [B * B]: the sums over their mean diagonal plus the
// block's damping, or the identity where the block has none.
void damped(const Feedback& f, const std::vector<float>& sums, int64_t b, double* out) {
  const int n = (int)std::min<int64_t>(B, f.cols - b * B);
  const float* s = sums.data() + (size_t)b * B * B;
  const double norm = f.norm[(size_t)b], damp = f.damping[(size_t)b];
  std::fill(out, out + B * B, 0.0);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) out[i * B + j] = norm > 0 ? s[i * B + j] * norm + (i == j ? damp : 0.0) : (i == j);
}

void check_sums(const std::vector<float>& sums, int64_t cols) {
  if ((int64_t)sums.size() != cov_floats(cols))
    fail("error feedback: %zu covariance values for %lld columns (expected %lld)", sums.size(), (long long)cols,
         (long long)cov_floats(cols));
}

}  // namespace

Feedback feedback_for(const std::vector<float>& sums, int64_t cols) {
  check_sums(sums, cols);
  Feedback f;
  f.cols = cols;
  f.u.assign(sums.size(), 0.0f);
  const int64_t blocks = (int64_t)sums.size() / (B * B);
  f.norm.assign((size_t)blocks, 0.0);
  f.damping.assign((size_t)blocks, 0.0);
  std::vector<double> h((size_t)B * B), u((size_t)B * B);
  for (int64_t b = 0; b < blocks; b++) {
    const int n = (int)std::min<int64_t>(B, cols - b * B);
    const float* s = sums.data() + (size_t)b * B * B;
    double mean = 0;
    for (int i = 0; i < n; i++) mean += s[i * B + i];
    mean /= n;
    bool ok = false;
    // A block the text never reached (or whose sums are not a covariance)
    // keeps norm 0, the identity: plain rounding, no feedback.
    for (double damp = kFeedbackDamping; mean > 0 && std::isfinite(mean) && damp <= 1.0 && !ok; damp *= 10) {
      f.norm[(size_t)b] = 1.0 / mean, f.damping[(size_t)b] = damp;
      damped(f, sums, b, h.data());
      ok = block_factor(h.data(), n, u.data());
    }
    if (!ok) {
      f.norm[(size_t)b] = f.damping[(size_t)b] = 0;
      std::fill(u.begin(), u.end(), 0.0);
      for (int i = 0; i < n; i++) u[(size_t)i * B + i] = 1.0;
    }
    for (size_t i = 0; i < (size_t)B * B; i++) f.u[(size_t)b * B * B + i] = (float)u[i];
  }
  return f;
}

std::vector<double> damped_block(const Feedback& f, const std::vector<float>& sums, int64_t b) {
  check_sums(sums, f.cols);
  std::vector<double> h((size_t)B * B);
  damped(f, sums, b, h.data());
  return h;
}

double feedback_error(const Feedback& f, const std::vector<float>& sums, const float* x, const float* decoded) {
  double total = 0;
  double e[B];
  for (int64_t c0 = 0, b = 0; c0 < f.cols; c0 += B, b++) {
    const int n = (int)std::min<int64_t>(B, f.cols - c0);
    for (int i = 0; i < n; i++) e[i] = (double)x[c0 + i] - decoded[c0 + i];
    const std::vector<double> h = damped_block(f, sums, b);
    for (int i = 0; i < n; i++) {
      double v = 0;
      for (int j = 0; j < n; j++) v += h[(size_t)i * B + j] * e[j];
      total += v * e[i];
    }
  }
  return total;
}

double quantize_run_row_feedback(RunQuant q, const float* x, int64_t cols, uint8_t* row, ScaleRule rule, const float* w,
                                 const Feedback& f) {
  if (!run_is_4bit(q.type) || q.group == 0) fail("error feedback: only the grouped 4-bit formats take it");
  if (f.cols != cols) fail("error feedback: factors for %lld columns, a row of %lld", (long long)f.cols, (long long)cols);
  if (cols <= 0 || cols % kRunColAlign) fail("quantize: a row of %lld columns is not a multiple of %d", (long long)cols,
                                             kRunColAlign);
  thread_local std::vector<float> work;
  thread_local std::vector<uint8_t> codes;
  thread_local std::vector<float> scales;
  work.assign(x, x + cols);
  codes.resize((size_t)cols);
  scales.resize((size_t)run_groups(q, cols));
  std::memset(row, 0, run_row_bytes(q, cols));
  const int64_t gsize = q.group;
  const LevelSet set = run_levels(q.type);
  double loss = 0;
  float d = 0;
  for (int64_t c0 = 0, b = 0; c0 < cols; c0 += B, b++) {
    const int n = (int)std::min<int64_t>(B, cols - c0);
    const float* u = f.u.data() + (size_t)b * B * B;
    float* wb = work.data() + c0;
    for (int j = 0; j < n; j++) {
      const int64_t k = c0 + j;
      if (k % gsize == 0) {
        // The group's scale, searched on what the feedback has left of it
        // (its columns past this block, if any, are still as they came).
        const int64_t g = k / gsize, gn = std::min(gsize, cols - k);
        d = scales[(size_t)g] = choose_levels(work.data() + k, gn, set, rule, true, codes.data() + k, w ? w + k : nullptr);
      }
      const int code = d != 0.0f ? nearest_level(set, wb[j] / d) : nearest_level(set, 0.0f);
      codes[(size_t)k] = (uint8_t)code;
      const float err = (wb[j] - d * (float)set.level(code)) / u[j * B + j];
      loss += (double)err * err;
      const float* ur = u + j * B;
      for (int i = j + 1; i < n; i++) wb[i] -= err * ur[i];
    }
  }
  for (int64_t g = 0; g < (int64_t)scales.size(); g++)
    put_group(q, row, cols, g, scales[(size_t)g], codes.data() + g * gsize, std::min(gsize, cols - g * gsize));
  return loss;
}

}  // namespace km::quant
