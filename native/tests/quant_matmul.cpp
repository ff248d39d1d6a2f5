// The CPU dot products of every run format (FP8 per channel and per 128,
// INT8, INT4 and NF4 per 32/64/128, W8A8), through the same matmul phase the
// forward pass runs, at every SIMD level, against float64: the reference
// multiplies the format's own decoding of each weight (dequantize_run_row)
// by the activation as its form represents it (block_q8a, per-token int8, or
// f32), so the check is of the kernels, not of quantization. SIMD must also
// agree with the scalar kernels, and results must not depend on the thread
// count. Shapes cover row tails (rows not a multiple of the 4- and 2-row
// tiles), token tails, short last groups, fused parts and the accumulate
// epilogue.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "cpu_test_matmul.h"
#include "keymate/error.h"
#include "keymate/formats_run.h"
#include "quant/quantize_run.h"
#include "test.h"

using namespace km::cpu;
using kt::run_group;
using km::RunQuant;
using km::RunType;

namespace {

// Error bound relative to sum_k |w_k * a_k| of each output: f32
// accumulation over a few hundred terms, plus the scale products.
constexpr double kTol = 3e-6;

struct Weight {
  std::vector<uint8_t> bytes;
  km::Tensor t;
};

std::vector<float> randv(size_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

Weight make_weight(RunQuant q, int64_t rows, int64_t cols, uint32_t seed, const char* name) {
  Weight w;
  const uint64_t rb = km::run_row_bytes(q, cols);
  w.bytes.resize(rb * rows);
  const std::vector<float> x = randv((size_t)(rows * cols), seed, 0.05f);
  for (int64_t r = 0; r < rows; r++)
    km::quant::quantize_run_row(q, x.data() + r * cols, cols, w.bytes.data() + r * rb, km::quant::ScaleRule::Search);
  w.t.type = km::GgmlType::F32;  // not used: quant decides
  w.t.quant = q;
  w.t.rows = rows;
  w.t.cols = cols;
  w.t.row_bytes = rb;
  w.t.data = w.bytes.data();
  w.t.name = name;
  return w;
}

// The activation row as its form represents it.
std::vector<float> effective(ActFormat f, const float* x, int64_t cols) {
  std::vector<float> out(x, x + cols);
  if (f == ActFormat::Q8) {
    std::vector<block_q8a> b(cols / QA);
    quantize_q8a_scalar(x, b.data(), cols);
    for (int64_t i = 0; i < cols; i++) out[i] = b[i / QA].d * b[i / QA].qs[i % QA];
  } else if (f == ActFormat::Q8Row) {
    std::vector<uint8_t> row(act_row_bytes(f, cols));
    quantize_q8row_scalar(x, row.data(), cols);
    float d;
    std::memcpy(&d, row.data(), 4);
    for (int64_t i = 0; i < cols; i++) out[i] = d * (int8_t)row[kQ8RowHeader + i];
  }
  return out;
}

void check_reference(const std::vector<const km::Tensor*>& ts, const std::vector<float>& x, int n, bool acc,
                     const std::vector<float>& y0, const std::vector<float>& y, const std::string& what) {
  int64_t rows = 0;
  for (const km::Tensor* t : ts) rows += t->rows;
  const int64_t cols = ts[0]->cols;
  int64_t off = 0;
  int failures = 0;
  for (const km::Tensor* t : ts) {
    const ActFormat f = act_format_for(t->type, t->quant);
    std::vector<float> w(cols);
    for (int tok = 0; tok < n; tok++) {
      const std::vector<float> a = effective(f, x.data() + (size_t)tok * cols, cols);
      for (int64_t r = 0; r < t->rows; r++) {
        km::quant::tensor_row(*t, r, w.data());
        double ref = acc ? y0[(size_t)tok * rows + off + r] : 0.0, mag = 0;
        for (int64_t k = 0; k < cols; k++) ref += (double)w[k] * a[k], mag += std::fabs((double)w[k] * a[k]);
        const double got = y[(size_t)tok * rows + off + r];
        if (!(std::fabs(got - ref) <= kTol * mag + 1e-30) && failures++ < 3)
          kt::report_failure(__FILE__, __LINE__,
                             km::format("%s: %s row %lld token %d: %.9g vs %.9g (tol %.3g)", what.c_str(),
                                        t->name.c_str(), (long long)r, tok, got, ref, kTol * mag));
      }
    }
    off += t->rows;
  }
}

std::vector<Simd> levels() {
  std::vector<Simd> out{Simd::Scalar};
  if (detect_simd() >= Simd::Avx2) out.push_back(Simd::Avx2);
  if (detect_simd() >= Simd::Avx512Vnni) out.push_back(Simd::Avx512Vnni);
  return out;
}

const RunQuant kFormats[] = {
    {RunType::Fp8, 0},   {RunType::Fp8, 128}, {RunType::Int8, 32}, {RunType::Int8, 128},
    {RunType::Int4, 32}, {RunType::Int4, 64}, {RunType::Int4, 128}, {RunType::Nf4, 32},
    {RunType::Nf4, 64},  {RunType::Nf4, 128}, {RunType::W8A8, 0},
};

}  // namespace

TEST(quant_matmul, every_format_every_level_matches_float64) {
  for (RunQuant q : kFormats)
    for (int64_t cols : {96, 256})      // 96: g64 / g128 rows end in a short group
      for (int64_t rows : {1, 7, 18}) {  // remainders of the 4- and 2-row tiles
        Weight w = make_weight(q, rows, cols, (uint32_t)(rows * 31 + cols + q.group), "w");
        for (int n : {1, 2, 3, 5}) {
          const std::vector<float> x = randv((size_t)n * cols, (uint32_t)(n + 7 * rows));
          const std::vector<float> y0 = randv((size_t)n * rows, 99);
          for (bool acc : {false, true}) {
            std::vector<float> scalar_y;
            for (Simd s : levels()) {
              const std::vector<float> y = run_group(s, {&w.t}, x, n, 1, acc, y0);
              const std::string what = km::format("%s type %d g%d rows %lld cols %lld n %d acc %d", simd_name(s),
                                                  (int)q.type, q.group, (long long)rows, (long long)cols, n, (int)acc);
              check_reference({&w.t}, x, n, acc, y0, y, what);
              if (s == Simd::Scalar) scalar_y = y;
              else
                for (size_t i = 0; i < y.size(); i++) CHECK_NEAR(y[i], scalar_y[i], 1e-5 * (std::fabs(scalar_y[i]) + 1));
            }
          }
        }
      }
}

TEST(quant_matmul, fused_parts_and_threads) {
  // q|k|v in INT4 with k in INT8 (both take block_q8a: one fused matrix),
  // then FP8 next to W8A8 (different activation forms: two matrices).
  Weight q = make_weight({RunType::Int4, 32}, 20, 128, 1, "q");
  Weight k = make_weight({RunType::Int8, 128}, 13, 128, 2, "k");
  Weight v = make_weight({RunType::Nf4, 64}, 16, 128, 3, "v");
  Weight f = make_weight({RunType::Fp8, 0}, 24, 128, 4, "f");
  Weight w = make_weight({RunType::W8A8, 0}, 24, 128, 5, "w");
  for (Simd s : levels()) {
    const MatGroup qkv = MatGroup::build({&q.t, &k.t, &v.t}, s);
    CHECK_EQ(qkv.mats.size(), (size_t)1);
    const MatGroup fw = MatGroup::build({&f.t, &w.t}, s);
    CHECK_EQ(fw.mats.size(), (size_t)2);
    for (int n : {1, 6}) {
      const std::vector<float> x = randv((size_t)n * 128, 5);
      const std::vector<float> y0 = randv((size_t)n * 49, 6);
      const std::vector<float> y1 = run_group(s, {&q.t, &k.t, &v.t}, x, n, 1, true, y0);
      check_reference({&q.t, &k.t, &v.t}, x, n, true, y0, y1, simd_name(s));
      for (int threads : {2, 3}) CHECK(run_group(s, {&q.t, &k.t, &v.t}, x, n, threads, true, y0) == y1);
      const std::vector<float> z0 = randv((size_t)n * 48, 7);
      const std::vector<float> z1 = run_group(s, {&f.t, &w.t}, x, n, 1, false, z0);
      check_reference({&f.t, &w.t}, x, n, false, z0, z1, simd_name(s));
      CHECK(run_group(s, {&f.t, &w.t}, x, n, 3, false, z0) == z1);
    }
  }
}

TEST(quant_matmul, w8a8_activation_quantization_is_bit_identical) {
  // The SIMD per-token quantizer must write the scalar one's bytes.
  for (Simd s : levels()) {
    for (int64_t cols : {32, 96, 4096}) {
      const std::vector<float> x = randv((size_t)cols, (uint32_t)cols, 3.f);
      std::vector<uint8_t> a(act_row_bytes(ActFormat::Q8Row, cols)), b(a.size());
      quantize_q8row_scalar(x.data(), a.data(), cols);
      kernels_for(s).quantize_q8row(x.data(), b.data(), cols);
      CHECK(a == b);
    }
  }
}
