// Error feedback within covariance blocks; see error_feedback.h. The block
// factors are made in doubles (a kCovBlock-square Cholesky and a triangular
// inverse per block, once per input), the rows run in floats.
#include "quant/error_feedback.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "keymate/error.h"
#include "quant/importance.h"
#include "quant/quantize_run.h"

// The axpy below is built twice where the loader can choose (x86-64 Linux, GCC or
// Clang): for AVX2 and for the baseline, one picked when the program starts.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define KM_AXPY_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KM_AXPY_CLONES
#endif

namespace km::quant {

namespace {

constexpr int B = kCovBlock;

// y[0, n) += a * x[0, n): the inner loop of the pass and of the polish. AVX2 without FMA
// rounds each element as the baseline does, so every machine stores the same bytes.
KM_AXPY_CLONES void axpy(int n, float a, const float* __restrict x, float* __restrict y) {
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}

// Lower Cholesky factor of the n x n matrix a (row-major, stride ld) into l
// (same stride; its upper triangle is left as it was); false when a is not
// positive definite. The blocks' factors use it at stride B, the polish's
// scale refit at the size of its small system.
bool cholesky(const double* a, int n, int ld, double* l) {
  for (int j = 0; j < n; j++) {
    double d = a[j * ld + j];
    for (int k = 0; k < j; k++) d -= l[j * ld + k] * l[j * ld + k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    const double s = std::sqrt(d);
    l[j * ld + j] = s;
    for (int i = j + 1; i < n; i++) {
      double v = a[i * ld + j];
      for (int k = 0; k < j; k++) v -= l[i * ld + k] * l[j * ld + k];
      l[i * ld + j] = v / s;
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
  std::memset(l, 0, sizeof(double) * B * B);
  if (!cholesky(a, n, B, l)) return false;
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

FeedbackMode feedback_from_env() {
  const char* v = std::getenv("KEYMATE_QUANT_FEEDBACK");
  if (!v || !*v || std::string(v) == "on") return FeedbackMode::On;
  if (std::string(v) == "greedy") return FeedbackMode::Greedy;
  if (std::string(v) == "off") return FeedbackMode::Off;
  fail("KEYMATE_QUANT_FEEDBACK=%s: unknown value (on, greedy or off)", v);
}

namespace {

// Block b of h into out [B * B]: the sums over their mean diagonal plus the
// block's damping, or the identity where the block has none.
void damped(const Feedback& f, int64_t b, double* out) {
  const int n = (int)std::min<int64_t>(B, f.cols - b * B);
  const float* s = f.sums->data() + (size_t)b * B * B;
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

Feedback feedback_for(std::shared_ptr<const std::vector<float>> shared, int64_t cols) {
  if (!shared) fail("error feedback: no covariance");
  const std::vector<float>& sums = *shared;
  check_sums(sums, cols);
  Feedback f;
  f.cols = cols;
  f.sums = std::move(shared);
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
      damped(f, b, h.data());
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

std::vector<double> damped_block(const Feedback& f, int64_t b) {
  std::vector<double> h((size_t)B * B);
  damped(f, b, h.data());
  return h;
}

double feedback_error(const Feedback& f, const float* x, const float* decoded) {
  double total = 0;
  double e[B];
  for (int64_t c0 = 0, b = 0; c0 < f.cols; c0 += B, b++) {
    const int n = (int)std::min<int64_t>(B, f.cols - c0);
    for (int i = 0; i < n; i++) e[i] = (double)x[c0 + i] - decoded[c0 + i];
    const std::vector<double> h = damped_block(f, b);
    for (int i = 0; i < n; i++) {
      double v = 0;
      for (int j = 0; j < n; j++) v += h[(size_t)i * B + j] * e[j];
      total += v * e[i];
    }
  }
  return total;
}

namespace {

// ---- the polish -------------------------------------------------------------------------
// The greedy pass decides each weight once, knowing the errors before it but not the ones
// after, and each group's scale before its weights are decided. What it ends at is not a
// minimum of e^T h e: with the later weights known, an earlier weight can be better at
// another level, and the scales can be better for the levels chosen. The polish descends the
// same objective from there, so it can only lower it:
//  - a sweep visits each weight of the block and moves it to the level nearest the value that
//    minimises e^T h e with every other weight fixed (e_j = -sum_{k != j} h_jk e_k / h_jj);
//  - a refit solves for the scales of the block's groups together, the levels fixed (a small
//    least-squares system in h's metric), rounds them to fp16 as stored, and is kept only if
//    the objective fell; sweeps follow it.
// r = h e is kept current, so a sweep costs O(n) plus O(n) per weight that moves.
constexpr int kPolishSweeps = 8;  // a descent's passes at most (it stops at a sweep that moves nothing)
constexpr int kPolishRefits = 1;  // further refits moved the KLD by less than its noise (docs/ACCURACY.md)
constexpr int kMaxGroups = B / kRunColAlign;  // groups wholly inside a block, at most

class BlockPolish {
 public:
  // Block b of a row x whose levels `codes` and group scales `scales` (the whole row's) the
  // greedy pass chose; h is the block's, as f's factors were made from it.
  BlockPolish(const Feedback& f, int64_t b, const float* x, const LevelSet& set, int64_t gsize, uint8_t* codes,
              float* scales)
      : x_(x + b * B),
        c0_(b * B),
        n_((int)std::min<int64_t>(B, f.cols - b * B)),
        cols_(f.cols),
        s_(f.sums->data() + (size_t)b * B * B),
        norm_((float)f.norm[(size_t)b]),
        damp_(f.norm[(size_t)b] > 0 ? (float)f.damping[(size_t)b] : 1.0f),
        set_(set),
        gsize_(gsize),
        codes_(codes + b * B),
        scales_(scales) {}

  // Runs the descent and refits; returns the block's e^T h e at the end.
  double run() {
    errors();
    descend();
    for (int i = 0; i < kPolishRefits && refit(); i++) descend();
    return objective();
  }

 private:
  float scale(int j) const { return scales_[(c0_ + j) / gsize_]; }
  // The block's columns [first, second) of group g (one wholly inside it).
  std::pair<int, int> span(int64_t g) const {
    const int j0 = (int)(g * gsize_ - c0_);
    return {j0, (int)std::min<int64_t>(n_, j0 + gsize_)};
  }
  float level(int j) const { return (float)set_.level(codes_[j]); }

  // h = sums * norm + damp * I (norm 0: the identity). Row j of h times t, added to out.
  void add_h_row(int j, float t, float* out) const {
    const float* sj = s_ + (size_t)j * B;
    const float a = t * norm_;
    if (a != 0.0f) axpy(n_, a, sj, out);
    out[j] += t * damp_;
  }
  float h_diag(int j) const { return norm_ != 0.0f ? s_[(size_t)j * B + j] * norm_ + damp_ : damp_; }

  // e and r from the codes and scales.
  void errors() {
    for (int j = 0; j < n_; j++) e_[j] = x_[j] - scale(j) * level(j);
    for (int i = 0; i < n_; i++) r_[i] = 0.0f;
    for (int j = 0; j < n_; j++) add_h_row(j, e_[j], r_);
  }

  double objective() const {
    double t = 0;
    for (int j = 0; j < n_; j++) t += (double)e_[j] * r_[j];
    return t;
  }

  void descend() {
    // Per column, what the sweeps divide by (0: the weight stays).
    float d[B], inv_d[B], inv_h[B];
    for (int j = 0; j < n_; j++) {
      d[j] = scale(j);
      const float hjj = h_diag(j);
      const bool free = d[j] != 0.0f && hjj > 0;
      inv_d[j] = free ? 1.0f / d[j] : 0.0f;
      inv_h[j] = free ? 1.0f / hjj : 0.0f;
    }
    for (int sweep = 0; sweep < kPolishSweeps; sweep++) {
      int moved = 0;
      for (int j = 0; j < n_; j++) {
        if (inv_h[j] == 0.0f) continue;
        const float best_e = e_[j] - r_[j] * inv_h[j];  // the error j would take, the others fixed
        const int code = nearest_level(set_, (x_[j] - best_e) * inv_d[j]);
        if (code == codes_[j]) continue;
        codes_[j] = (uint8_t)code;
        const float e = x_[j] - d[j] * level(j), delta = e - e_[j];
        e_[j] = e;
        add_h_row(j, delta, r_);  // h is symmetric: row j is column j
        moved++;
      }
      if (!moved) break;
    }
  }

  // The scales of the groups wholly inside the block, solved together; false if nothing
  // was kept.
  bool refit() {
    int64_t groups[kMaxGroups];
    int m = 0;
    for (int64_t g = (c0_ + gsize_ - 1) / gsize_; g * gsize_ < c0_ + n_ && std::min(cols_, (g + 1) * gsize_) <= c0_ + n_;
         g++) {
      if (m == kMaxGroups) return false;  // groups narrower than kRunColAlign: none in the format table
      groups[m++] = g;
    }
    if (m == 0) return false;
    // With L_g the levels of group g (zero elsewhere): a step s_g on each scale changes e by
    // -sum s_g L_g, so the best steps solve A s = c, A_gk = L_g^T h L_k, c_g = L_g^T r.
    std::fill(&hl_[0][0], &hl_[0][0] + kMaxGroups * B, 0.0f);
    double a[kMaxGroups * kMaxGroups] = {}, c[kMaxGroups] = {};
    for (int g = 0; g < m; g++) {
      const auto [j0, j1] = span(groups[g]);
      float* out = hl_[g];
      for (int j = j0; j < j1; j++) {
        const float l = level(j);
        if (l == 0.0f) continue;
        add_h_row(j, l, out);
        c[g] += (double)l * r_[j];
      }
    }
    for (int g = 0; g < m; g++)
      for (int k = 0; k < m; k++) {
        const auto [j0, j1] = span(groups[k]);
        double v = 0;
        for (int j = j0; j < j1; j++) v += (double)hl_[g][j] * level(j);
        a[g * m + k] = v;
      }
    // A group of zero levels has a zero row: its scale stays (its step is 0).
    for (int g = 0; g < m; g++)
      if (!(a[g * m + g] > 0)) {
        for (int k = 0; k < m; k++) a[g * m + k] = a[k * m + g] = 0.0;
        a[g * m + g] = 1.0, c[g] = 0.0;
      }
    if (!solve_spd(a, c, m)) return false;

    const double before = objective();
    float old[kMaxGroups];
    bool changed = false;
    for (int g = 0; g < m; g++) {
      float& d = scales_[groups[g]];
      old[g] = d;
      // A zero scale stays (its group is all zeros); one that fp16 cannot hold is not taken.
      const float next = fp16_to_fp32(fp32_to_fp16((float)(d + c[g])));
      if (d == 0.0f || !std::isfinite(next) || std::fabs(next) > 65504.0f || next == d) continue;
      d = next;
      changed = true;
    }
    if (!changed) return false;
    std::copy(e_, e_ + n_, e_old_);
    std::copy(r_, r_ + n_, r_old_);
    for (int g = 0; g < m; g++) {
      const float step = scales_[groups[g]] - old[g];
      if (step == 0.0f) continue;
      const auto [j0, j1] = span(groups[g]);
      for (int j = j0; j < j1; j++) e_[j] -= step * level(j);
      axpy(n_, -step, hl_[g], r_);
    }
    if (objective() < before) return true;
    for (int g = 0; g < m; g++) scales_[groups[g]] = old[g];
    std::copy(e_old_, e_old_ + n_, e_);
    std::copy(r_old_, r_old_ + n_, r_);
    return false;
  }

  // a s = c for a symmetric positive definite a [m][m]; the solution replaces c.
  static bool solve_spd(const double* a, double* c, int m) {
    double l[kMaxGroups * kMaxGroups] = {};
    if (!cholesky(a, m, m, l)) return false;
    for (int i = 0; i < m; i++) {  // L y = c
      for (int k = 0; k < i; k++) c[i] -= l[i * m + k] * c[k];
      c[i] /= l[i * m + i];
    }
    for (int i = m - 1; i >= 0; i--) {  // L^T s = y
      for (int k = i + 1; k < m; k++) c[i] -= l[k * m + i] * c[k];
      c[i] /= l[i * m + i];
    }
    return true;
  }

  const float* x_;
  int64_t c0_;
  int n_;
  int64_t cols_;
  const float* s_;  // the block's covariance sums [B][B]
  float norm_, damp_;
  const LevelSet& set_;
  int64_t gsize_;
  uint8_t* codes_;
  float* scales_;
  float e_[B], r_[B], e_old_[B], r_old_[B];
  float hl_[kMaxGroups][B];  // h L_g of each group the refit solves for
};

}  // namespace

double quantize_run_row_feedback(RunQuant q, const float* x, int64_t cols, uint8_t* row, ScaleRule rule, const float* w,
                                 const Feedback& f, bool polish) {
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
      axpy(n - j - 1, -err, ur + j + 1, wb + j + 1);
    }
  }
  if (polish) {
    loss = 0;
    for (int64_t b = 0; b * B < cols; b++) loss += BlockPolish(f, b, x, set, gsize, codes.data(), scales.data()).run();
  }
  for (int64_t g = 0; g < (int64_t)scales.size(); g++)
    put_group(q, row, cols, g, scales[(size_t)g], codes.data() + g * gsize, std::min(gsize, cols - g * gsize));
  return loss;
}

}  // namespace km::quant
