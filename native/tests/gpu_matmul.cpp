// gpu_matmul: every matrix product of kernels/matmul against its CPU twin: the
// weights decoded by the format's reference decoder (quant::tensor_row, the
// definition every kernel is held to) and a float64 dot product, for every
// weight format the GPU runs, a sweep of shapes (1..4096 rows, 32..11008
// columns, non-multiples of 256 included), n = 1, 2, 7, 64, 200 tokens (GEMV
// and tensor-core GEMM), the four epilogues and last_only. Each case also
// runs a second time on the launch path and once through matmul_tile() on
// fewer blocks than tiles (as the persistent kernel runs it): all three must
// agree bit for bit. Skipped (exit 77, with the reason) where the build has
// no CUDA or no GPU is usable.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "test.h"

#ifdef KEYMATE_HAVE_CUDA
#include "cpu/act_quant.h"
#include "cpu_test_models.h"
#include "keymate/formats.h"
#include "keymate/cuda.h"
#include "keymate/engine.h"
#include "matmul/matmul_harness.h"
#include "quant/quantize_gguf.h"
#include "quant/quantize_run.h"
#endif

namespace {

#ifndef KEYMATE_HAVE_CUDA
TEST(gpu_matmul, all) { kt::skip("built without the CUDA backend (KEYMATE_CUDA=off or no nvcc)"); }
#else

using km::GgmlType;
using km::RunQuant;
using km::RunType;
using km::cuda::Epilogue;

void require_gpu() {
  static const km::CudaProbe p = km::cuda_probe();
  if (!p.available) kt::skip("no usable GPU: " + p.reason);
}

// Tolerances, as a fraction of sum_k |w_k x_k| (the error any summation order
// or operand rounding can cause scales with it, not with |y|).
// GEMV: weights decoded exactly, f32 products and sums: f32 rounding over a
// lane's share of the row plus a 5-level tree, well under 32 * 2^-24 * ... of
// the terms for these sizes.
constexpr double kTolGemvF32 = 4e-5;
// The integer formats (W8A8, Q8_0, Q4_0) are held to the same bound on both
// paths: their products are exact int32 sums (dp4a, integer mma), against the
// activations as the CPU quantizes them (int_activations below).
// GEMM: x (and decoded weights, unless the format is F16) rounded to f16 for
// the tensor cores: 2^-11 each, f32 accumulation on top.
constexpr double kTolGemmF16Operands = 1.2e-3;
// GEMM with F16 weights: x is rounded to f16 in the reference too (the CPU
// twin's activations), so only the f32 sums remain; the bound is kept loose
// for the tensor cores' own summation order.
constexpr double kTolGemmF16Weights = 6e-4;

struct Format {
  const char* name;
  GgmlType type;
  RunQuant quant;
};

RunQuant rq(RunType t, uint16_t group) {
  RunQuant q;
  q.type = t;
  q.group = group;
  return q;
}

const Format kFormats[] = {
    {"f32", GgmlType::F32, {}},
    {"f16", GgmlType::F16, {}},
    {"bf16", GgmlType::BF16, {}},
    {"q8_0", GgmlType::Q8_0, {}},
    {"q4_0", GgmlType::Q4_0, {}},
    {"fp8", GgmlType::F32, rq(RunType::Fp8, 0)},
    {"fp8-g128", GgmlType::F32, rq(RunType::Fp8, 128)},
    {"int8-g32", GgmlType::F32, rq(RunType::Int8, 32)},
    {"int8-g128", GgmlType::F32, rq(RunType::Int8, 128)},
    {"int4-g32", GgmlType::F32, rq(RunType::Int4, 32)},
    {"int4-g128", GgmlType::F32, rq(RunType::Int4, 128)},
    {"nf4-g64", GgmlType::F32, rq(RunType::Nf4, 64)},
    {"w8a8", GgmlType::F32, rq(RunType::W8A8, 0)},
    {"q4_K", GgmlType::Q4_K, {}},
    {"q5_K", GgmlType::Q5_K, {}},
    {"q6_K", GgmlType::Q6_K, {}},
};

bool is_kquant(const Format& f) {
  return f.quant.none() && (f.type == GgmlType::Q4_K || f.type == GgmlType::Q5_K || f.type == GgmlType::Q6_K);
}

bool is_w8a8(const Format& f) { return f.quant.type == RunType::W8A8; }
// Formats whose products are int8 x int8 against quantized activations, on
// the CPU and the GPU alike (cpu/act_quant.h).
bool is_integer(const Format& f) {
  return is_w8a8(f) || (f.quant.none() && (f.type == GgmlType::Q8_0 || f.type == GgmlType::Q4_0));
}

// Random weights with a few outliers, as trained weights have.
std::vector<float> random_values(std::mt19937& rng, size_t count, float scale) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::uniform_int_distribution<int> pick(0, 97);
  std::vector<float> v(count);
  for (float& x : v) x = pick(rng) == 0 ? 8.0f * nd(rng) : nd(rng);
  return v;
}

// A matrix in format f, and its rows decoded by the reference decoder.
struct Matrix {
  km::Tensor t;
  std::vector<uint8_t> bytes;
  std::vector<float> w;  // [rows][cols] decoded
};

// `src` ([rows][cols]) in format f.
Matrix matrix_from(const Format& f, const std::vector<float>& src, int rows, int cols) {
  Matrix m;
  m.t.type = f.type;
  m.t.quant = f.quant;
  m.t.rows = rows;
  m.t.cols = cols;
  m.t.row_bytes = f.quant.none() ? km::ggml_row_bytes(f.type, cols) : km::run_row_bytes(f.quant, cols);
  m.bytes.assign(m.t.row_bytes * rows, 0);
  for (int r = 0; r < rows; r++) {
    uint8_t* row = m.bytes.data() + (size_t)r * m.t.row_bytes;
    if (f.quant.none()) km::quantize_row(f.type, src.data() + (size_t)r * cols, row, cols);
    else km::quant::quantize_run_row(f.quant, src.data() + (size_t)r * cols, cols, row, km::quant::ScaleRule::Absmax);
  }
  m.t.data = m.bytes.data();
  m.w.resize((size_t)rows * cols);
  for (int r = 0; r < rows; r++) km::quant::tensor_row(m.t, r, m.w.data() + (size_t)r * cols);
  return m;
}

// K-quants have no quantizer here: random bytes with finite block scales are
// valid super-blocks (cpu_test_models.h), decoded by the reference decoder.
Matrix random_kquant(const Format& f, int rows, int cols, std::mt19937& rng) {
  Matrix m;
  m.t.type = f.type;
  m.t.rows = rows;
  m.t.cols = cols;
  m.t.row_bytes = km::ggml_row_bytes(f.type, cols);
  m.bytes.resize(m.t.row_bytes * rows);
  kt::fill_random(f.type, m.bytes.data(), m.bytes.size(), (uint32_t)rng(), 0.05f);
  m.t.data = m.bytes.data();
  m.w.resize((size_t)rows * cols);
  for (int r = 0; r < rows; r++) km::quant::tensor_row(m.t, r, m.w.data() + (size_t)r * cols);
  return m;
}

Matrix make_matrix(const Format& f, int rows, int cols, std::mt19937& rng) {
  if (is_kquant(f)) return random_kquant(f, rows, cols, rng);
  return matrix_from(f, random_values(rng, (size_t)rows * cols, 0.05f), rows, cols);
}

// An integer format's activations as the CPU quantizes them (cpu/act_quant.h):
// W8A8 per token (Q8Row), Q8_0 and Q4_0 per 32 columns (block_q8a). Each row
// is its int8 quants and one scale per `block` columns (cols for W8A8).
struct IntActivations {
  int block = 0;
  std::vector<int8_t> q;   // [n][cols]
  std::vector<float> d;    // [n][cols / block]
  std::vector<float> x;    // d * q, what the format multiplies instead of x
};

IntActivations int_activations(const Format& f, const std::vector<float>& x, int n, int cols) {
  IntActivations a;
  a.block = is_w8a8(f) ? cols : km::cpu::QA;
  const int nb = cols / a.block;
  a.q.resize((size_t)n * cols);
  a.d.resize((size_t)n * nb);
  a.x.resize((size_t)n * cols);
  std::vector<uint8_t> row(km::cpu::kQ8RowHeader + cols);
  std::vector<km::cpu::block_q8a> blocks(cols / km::cpu::QA);
  for (int t = 0; t < n; t++) {
    const float* xt = x.data() + (size_t)t * cols;
    int8_t* q = a.q.data() + (size_t)t * cols;
    if (is_w8a8(f)) {
      km::cpu::quantize_q8row_scalar(xt, row.data(), cols);
      std::memcpy(&a.d[t], row.data(), 4);
      std::memcpy(q, row.data() + km::cpu::kQ8RowHeader, cols);
    } else {
      km::cpu::quantize_q8a_scalar(xt, blocks.data(), cols);
      for (int b = 0; b < nb; b++) {
        a.d[(size_t)t * nb + b] = blocks[b].d;
        std::memcpy(q + b * km::cpu::QA, blocks[b].qs, km::cpu::QA);
      }
    }
    for (int k = 0; k < cols; k++) a.x[(size_t)t * cols + k] = a.d[(size_t)t * nb + k / a.block] * (float)q[k];
  }
  return a;
}

// What the CPU twin multiplies a format's weights with (cpu/act_quant.h), as
// floats: the integer formats' quantized activations, x rounded to fp16 for
// F16 weights and to bf16 for BF16 weights, x itself for the rest. The GPU
// takes the same form, so the products are compared like for like.
std::vector<float> cpu_activations(const Format& f, const std::vector<float>& x, int n, int cols) {
  if (is_integer(f)) return int_activations(f, x, n, cols).x;
  std::vector<float> out = x;
  if (f.quant.none() && f.type == GgmlType::F16) km::cpu::round_f16_scalar(x.data(), out.data(), (int64_t)x.size());
  if (f.quant.none() && f.type == GgmlType::BF16) km::cpu::round_bf16_scalar(x.data(), out.data(), (int64_t)x.size());
  return out;
}

struct Dot {
  double v = 0, abs = 0;  // sum w*x, sum |w*x|
};

Dot dot(const float* w, const float* x, int cols) {
  Dot d;
  for (int k = 0; k < cols; k++) {
    const double p = (double)w[k] * (double)x[k];
    d.v += p;
    d.abs += std::fabs(p);
  }
  return d;
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }
// GELU's tanh form with ggml's ends, in double (the CPU's geglu, cpu/kernels.h).
double gelu(double g) {
  if (g <= -10) return 0;
  if (g >= 10) return g;
  return 0.5 * g * (1.0 + std::tanh(0.7978845608028654 * (g + 0.044715 * g * g * g)));
}

const char* epilogue_name(Epilogue e) {
  return e == Epilogue::Store      ? "store"
         : e == Epilogue::Residual ? "residual"
         : e == Epilogue::SiluMul  ? "silu_mul"
                                   : "gelu_mul";
}

// The matmul of `m` as the backend would fill it in (the harness supplies x, y, scratch).
km::cuda::MatmulArgs args_for(const Format& f, const Matrix& m, Epilogue e, bool last_only) {
  km::cuda::MatmulArgs a{};
  a.w = m.bytes.data();
  a.row_bytes = m.t.row_bytes;
  a.rows = (int32_t)m.t.rows;
  a.cols = (int32_t)m.t.cols;
  a.type = f.type;
  a.quant = f.quant;
  a.epilogue = e;
  a.last_only = last_only;
  return a;
}

// Runs one case and compares; returns the largest error in units of the tolerance.
double check_case(const Format& f, const Matrix& m, int n, Epilogue e, bool last_only, std::mt19937& rng) {
  const int rows = (int)m.t.rows, cols = (int)m.t.cols;
  const km::cuda::MatmulArgs a = args_for(f, m, e, last_only);
  km::cuda::MatmulHarness h(a);
  const int out = h.out_rows(), yrows = h.y_rows(n);

  std::vector<float> x = random_values(rng, (size_t)n * cols, 1.0f);
  std::vector<float> y0((size_t)yrows * out);
  if (e == Epilogue::Residual) {
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    for (float& v : y0) v = u(rng);
  } else {
    std::fill(y0.begin(), y0.end(), std::nanf(""));  // an output never written stays NaN
  }
  std::vector<float> y1 = y0, y2 = y0, y3 = y0;
  h.run(x.data(), n, y1.data());
  h.run(x.data(), n, y2.data());
  h.run(x.data(), n, y3.data(), 3);  // tiles in a loop on 3 blocks
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0);
  CHECK(std::memcmp(y1.data(), y3.data(), y1.size() * 4) == 0);

  const bool gemm = h.uses_gemm(n);
  const double tol = !gemm || is_integer(f)                   ? kTolGemvF32
                     : f.quant.none() && f.type == GgmlType::F16 ? kTolGemmF16Weights
                                                                 : kTolGemmF16Operands;
  const std::vector<float> xa = cpu_activations(f, x, n, cols);
  double worst = 0;
  int reported = 0;
  for (int t = 0; t < yrows; t++) {
    const float* xt = xa.data() + (size_t)(last_only ? n - 1 : t) * cols;
    for (int o = 0; o < out; o++) {
      const Dot g = dot(m.w.data() + (size_t)o * cols, xt, cols);
      double ref, bound;
      if (km::cuda::gated(e)) {
        const Dot u = dot(m.w.data() + (size_t)(out + o) * cols, xt, cols);
        const double act = e == Epilogue::SiluMul ? silu(g.v) : gelu(g.v);
        ref = act * u.v;
        // d(act(g) u) = act'(g) u dg + act(g) du, |silu'| < 1.1, |gelu'| < 1.13
        bound = tol * (1.13 * std::fabs(u.v) * g.abs + std::fabs(act) * u.abs);
      } else {
        ref = g.v + (e == Epilogue::Residual ? y0[(size_t)t * out + o] : 0.0);
        bound = tol * g.abs;
      }
      bound += 1e-6 * std::fabs(ref) + 1e-30;
      const double got = y1[(size_t)t * out + o];
      const double err = std::fabs(got - ref);
      const double units = std::isfinite(got) ? err / bound : 1e30;
      worst = std::max(worst, units);
      if (!(units <= 1.0) && reported++ < 3)
        kt::report_failure(__FILE__, __LINE__,
                           std::string(f.name) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                               " n=" + std::to_string(n) + " " + epilogue_name(e) +
                               (last_only ? " last_only" : "") + ": y[" + std::to_string(t) + "][" +
                               std::to_string(o) + "] = " + std::to_string(got) + ", want " +
                               std::to_string(ref) + " (tol " + std::to_string(bound) + ")");
    }
  }
  return worst;
}

struct Shape {
  int rows, cols;
};

// Rows 1..4096 and columns 32..11008; 96, 480, 2752 are not multiples of 256,
// 4096 x 512 has more tiles than a launch has blocks per SM, 64 x 11008 is
// the down projection's long rows.
const Shape kShapes[] = {{1, 32}, {2, 64}, {13, 96}, {64, 256}, {130, 480}, {256, 4096},
                         {4096, 512}, {64, 11008}, {300, 2752}, {4096, 4096}};
const int kTokens[] = {1, 2, 7, 64, 200};
// K-quant rows hold whole super-blocks of 256 columns: 1 (Q6_K rows of 210
// bytes, so every other row is only 2-byte aligned), 3, 16 and 43 of them.
const Shape kKShapes[] = {{1, 256}, {13, 256}, {130, 768}, {256, 4096}, {4096, 512}, {64, 11008}, {4096, 4096}};

// The float64 reference costs rows * cols * n per case: the largest shapes
// run at decode sizes only, so the sweep stays a few seconds per format.
constexpr double kMaxRefMacs = 6e8;

// On the SIMT harness (the kernels on the CPU, a thread per fiber) a MAC costs
// about a thousand times what it costs on a GPU: the sweep keeps every shape at
// decode size, and every token count from 1 to 70 that changes a tile or the
// GEMV/GEMM choice where the case stays under kHarnessMaxMacs.
constexpr bool kOnHarness = std::string_view(KEYMATE_TEST_CUDA_ARCHS) == "simt";
const int kHarnessTokens[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 70};
constexpr double kHarnessMaxMacs = 4e6;

void sweep(const Format& f) {
  require_gpu();
  std::mt19937 rng(1234);
  const std::vector<int> tokens = kOnHarness ? std::vector<int>(std::begin(kHarnessTokens), std::end(kHarnessTokens))
                                             : std::vector<int>(std::begin(kTokens), std::end(kTokens));
  const double max_macs = kOnHarness ? kHarnessMaxMacs : kMaxRefMacs;
  const std::vector<Shape> shapes = is_kquant(f) ? std::vector<Shape>(std::begin(kKShapes), std::end(kKShapes))
                                                 : std::vector<Shape>(std::begin(kShapes), std::end(kShapes));
  for (const Shape& s : shapes) {
    const Matrix m = make_matrix(f, s.rows, s.cols, rng);
    for (int n : tokens) {
      if ((double)s.rows * s.cols * n > max_macs && n > 1) continue;
      for (Epilogue e : {Epilogue::Store, Epilogue::Residual, Epilogue::SiluMul, Epilogue::GeluMul}) {
        if (km::cuda::gated(e) && s.rows % 2) continue;
        if (e == Epilogue::GeluMul && n % 8 != 1) continue;  // the GEMV and both GEMM sizes; SiluMul covers the rest
        check_case(f, m, n, e, false, rng);
      }
      if (n > 1) check_case(f, m, n, Epilogue::Store, true, rng);  // logits of the last token
    }
  }
}

TEST(gpu_matmul, f32) { sweep(kFormats[0]); }
TEST(gpu_matmul, f16) { sweep(kFormats[1]); }
TEST(gpu_matmul, bf16) { sweep(kFormats[2]); }
TEST(gpu_matmul, q8_0) { sweep(kFormats[3]); }
TEST(gpu_matmul, q4_0) { sweep(kFormats[4]); }
TEST(gpu_matmul, fp8_per_row) { sweep(kFormats[5]); }
TEST(gpu_matmul, fp8_g128) { sweep(kFormats[6]); }
TEST(gpu_matmul, int8_g32) { sweep(kFormats[7]); }
TEST(gpu_matmul, int8_g128) { sweep(kFormats[8]); }
TEST(gpu_matmul, int4_g32) { sweep(kFormats[9]); }
TEST(gpu_matmul, int4_g128) { sweep(kFormats[10]); }
TEST(gpu_matmul, nf4_g64) { sweep(kFormats[11]); }
TEST(gpu_matmul, w8a8) { sweep(kFormats[12]); }
TEST(gpu_matmul, q4_K) { sweep(kFormats[13]); }
TEST(gpu_matmul, q5_K) { sweep(kFormats[14]); }
TEST(gpu_matmul, q6_K) { sweep(kFormats[15]); }

// A product into a wider y (MatmulArgs::ldy), as the parts of a q|k|v matrix
// whose formats differ write one buffer: the same values as into a y of its
// own, on the GEMV and the GEMM, and the columns beyond it untouched.
TEST(gpu_matmul, writes_rows_of_a_wider_y) {
  require_gpu();
  std::mt19937 rng(7);
  const Format& f = kFormats[13];
  const Matrix m = make_matrix(f, 40, 512, rng);
  for (int n : {1, 3, 9}) {
    km::cuda::MatmulArgs a = args_for(f, m, Epilogue::Store, false);
    km::cuda::MatmulHarness own(a);
    a.ldy = 40 + 24;
    km::cuda::MatmulHarness wide(a);
    const std::vector<float> x = random_values(rng, (size_t)n * 512, 1.0f);
    std::vector<float> y0((size_t)n * 40), y1((size_t)n * 64, std::nanf(""));
    own.run(x.data(), n, y0.data());
    wide.run(x.data(), n, y1.data());
    for (int t = 0; t < n; t++) {
      CHECK(std::memcmp(&y1[(size_t)t * 64], &y0[(size_t)t * 40], 40 * 4) == 0);
      for (int o = 40; o < 64; o++) CHECK(std::isnan(y1[(size_t)t * 64 + o]));
    }
  }
}

// The integer formats are the CPU's arithmetic exactly, on both paths where
// the order of sums is the CPU's: the same quantized activations
// (QuantizeAct), exact int32 sums, then for W8A8 isum * (d_w * d_a) (GEMV and
// GEMM), for Q8_0 and Q4_0 s += isum_b * (d_w * d_a) block after block (the
// GEMM; the GEMV sums its lanes' blocks in another order, held to the
// sweep's bound). The weights and activations share their signs, so W8A8's
// sums pass 2^24, where a float accumulator of the integer products (the f16
// tensor-core path) stops being exact.
int8_t weight_q(const Format& f, const uint8_t* row, int k) {
  if (is_w8a8(f)) return (int8_t)row[k];
  if (f.type == GgmlType::Q8_0) return reinterpret_cast<const km::block_q8_0*>(row)[k / 32].qs[k % 32];
  const km::block_q4_0& b = reinterpret_cast<const km::block_q4_0*>(row)[k / 32];
  const int j = k % 32;
  return (int8_t)((j < 16 ? b.qs[j] & 0xF : b.qs[j - 16] >> 4) - 8);
}

float weight_d(const Format& f, const uint8_t* row, int cols, int k) {
  if (is_w8a8(f)) return km::run_scale(f.quant, row, cols, 0);
  const uint16_t d = f.type == GgmlType::Q8_0 ? reinterpret_cast<const km::block_q8_0*>(row)[k / 32].d
                                              : reinterpret_cast<const km::block_q4_0*>(row)[k / 32].d;
  return km::fp16_to_fp32(d);
}

TEST(gpu_matmul, integer_formats_are_the_cpus_arithmetic) {
  require_gpu();
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> mag(0.9f, 1.0f);
  const int rows = 40, cols = 1536;
  std::vector<float> sign(cols);
  for (float& v : sign) v = (rng() & 1) ? 1.0f : -1.0f;
  for (const Format& f : kFormats) {
    if (!is_integer(f)) continue;
    // Rows 0..rows/2 agree with the activations' signs, the rest oppose them.
    std::vector<float> src((size_t)rows * cols);
    for (int r = 0; r < rows; r++)
      for (int k = 0; k < cols; k++) src[(size_t)r * cols + k] = (r < rows / 2 ? 0.05f : -0.05f) * sign[k] * mag(rng);
    const Matrix m = matrix_from(f, src, rows, cols);
    bool failed = false;  // one report per format
    for (int n : {1, 2, 4, 7, 65}) {
      if (failed) break;
      km::cuda::MatmulHarness h(args_for(f, m, Epilogue::Store, false));
      if (!is_w8a8(f) && !h.uses_gemm(n)) continue;
      std::vector<float> x((size_t)n * cols);
      for (int t = 0; t < n; t++)
        for (int k = 0; k < cols; k++) x[(size_t)t * cols + k] = sign[k] * mag(rng);
      std::vector<float> y((size_t)n * rows, 0.0f);
      h.run(x.data(), n, y.data());
      const IntActivations act = int_activations(f, x, n, cols);
      const int nb = cols / act.block;
      int64_t largest = 0;
      for (int t = 0; t < n && !failed; t++)
        for (int r = 0; r < rows && !failed; r++) {
          const uint8_t* row = m.bytes.data() + (size_t)r * m.t.row_bytes;
          const int8_t* qa = act.q.data() + (size_t)t * cols;
          float want = 0.0f;
          for (int b = 0; b < nb; b++) {
            int64_t isum = 0;
            for (int k = b * act.block; k < (b + 1) * act.block; k++) isum += weight_q(f, row, k) * qa[k];
            largest = std::max(largest, isum < 0 ? -isum : isum);
            want += (float)isum * (weight_d(f, row, cols, b * act.block) * act.d[(size_t)t * nb + b]);
          }
          if (y[(size_t)t * rows + r] != want) {
            CHECK_EQ(y[(size_t)t * rows + r], want);
            kt::report_failure(__FILE__, __LINE__, std::string(f.name) + " n=" + std::to_string(n) + " y[" +
                                                       std::to_string(t) + "][" + std::to_string(r) + "]");
            failed = true;
          }
        }
      if (is_w8a8(f)) CHECK(largest > (int64_t(1) << 24));  // the case this test exists for
    }
  }
}

// The host checks catch what the kernels assume instead of corrupting memory.
TEST(gpu_matmul, rejects_bad_shapes) {
  require_gpu();
  std::vector<uint8_t> w(4096, 0);
  km::cuda::MatmulArgs a{};
  a.w = w.data();
  a.rows = 2;
  a.cols = 48;  // not a multiple of 32
  a.type = GgmlType::F16;
  a.row_bytes = km::ggml_row_bytes(GgmlType::F16, 48);
  CHECK_THROWS_WITH(km::cuda::MatmulHarness(a), "multiple of 32");
  a.cols = 64;
  a.row_bytes = 100;  // not the format's row size
  CHECK_THROWS_WITH(km::cuda::MatmulHarness(a), "bytes");
  a.type = GgmlType::Q4_K;  // super-blocks of 256 columns
  a.row_bytes = km::ggml_row_bytes(GgmlType::Q4_K, 64);
  CHECK_THROWS_WITH(km::cuda::MatmulHarness(a), "super-blocks");
  a.type = GgmlType::Q3_K;  // not run by the GPU kernels: converted at load
  a.cols = 256;
  a.row_bytes = km::ggml_row_bytes(GgmlType::Q3_K, 256);
  CHECK_THROWS_WITH(km::cuda::MatmulHarness(a), "convert them at load");
  a.type = GgmlType::F16;
  a.row_bytes = km::ggml_row_bytes(GgmlType::F16, 256);
  a.ldy = 1;  // narrower than the outputs
  CHECK_THROWS_WITH(km::cuda::MatmulHarness(a), "cannot hold");
}

#endif

}  // namespace
