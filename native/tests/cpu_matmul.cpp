// Matrix multiplies for every weight type and layout, through the same
// matmul phase the forward pass runs: each SIMD level and the scalar kernels
// against a float64 reference computed from the dequantized weights and the
// activation as its form represents it (so activation quantization is not
// counted as kernel error), and SIMD against scalar directly. Shapes leave
// partial 8-row groups, odd token counts for every tile remainder, columns
// that are not a multiple of 8, fused parts of different types, and the
// accumulate (residual) epilogue. Results must not depend on the thread count.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/simd.h"
#include "cpu/thread_pool.h"
#include "cpu_test_matmul.h"
#include "cpu_test_models.h"
#include "keymate/error.h"
#include "keymate/ggml_types.h"
#include "keymate/half.h"
#include "test.h"

using namespace km::cpu;
using kt::run_group;
using km::GgmlType;

namespace {

// Error bounds relative to sum_k |w_k * a_k| of each output: f32 accumulation
// over a few hundred terms; the K-quants form d * isum - dmin * msum, whose
// two terms may each exceed that sum.
constexpr double kFloatTol = 2e-6;
constexpr double kQuantTol = 2e-6;
constexpr double kKQuantTol = 2e-5;

struct Weight {
  std::vector<uint8_t> bytes;
  km::Tensor t;
};

Weight make_weight(GgmlType type, int64_t rows, int64_t cols, uint32_t seed, const char* name) {
  Weight w;
  const uint64_t row_bytes = km::ggml_row_bytes(type, (uint64_t)cols);
  w.bytes.resize(row_bytes * rows);
  kt::fill_random(type, w.bytes.data(), w.bytes.size(), seed, 1.0f);
  w.t.type = type;
  w.t.rows = rows;
  w.t.cols = cols;
  w.t.row_bytes = row_bytes;
  w.t.data = w.bytes.data();
  w.t.name = name;
  return w;
}

std::vector<float> randv(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// The activation row as its form represents it, in float.
std::vector<float> effective(ActFormat f, const float* x, int64_t cols) {
  std::vector<float> out(x, x + cols);
  switch (f) {
    case ActFormat::F32: break;
    case ActFormat::F16: round_f16_scalar(x, out.data(), cols); break;
    case ActFormat::BF16: round_bf16_scalar(x, out.data(), cols); break;
    case ActFormat::Q8: {
      std::vector<block_q8a> b(cols / QA);
      quantize_q8a_scalar(x, b.data(), cols);
      for (int64_t i = 0; i < cols; i++) out[i] = b[i / QA].d * b[i / QA].qs[i % QA];
      break;
    }
    case ActFormat::Q8Row: {  // run format W8A8 (tested in quant_matmul.cpp)
      std::vector<uint8_t> row(act_row_bytes(f, cols));
      quantize_q8row_scalar(x, row.data(), cols);
      float d;
      std::memcpy(&d, row.data(), 4);
      for (int64_t i = 0; i < cols; i++) out[i] = d * (int8_t)row[kQ8RowHeader + i];
      break;
    }
    case ActFormat::Q8K: {
      std::vector<block_q8k> b(cols / QKA);
      quantize_q8k_scalar(x, b.data(), cols);
      for (int64_t i = 0; i < cols; i++) out[i] = b[i / QKA].d * b[i / QKA].qs[i % QKA];
      break;
    }
  }
  return out;
}

// Checks a group's output against float64 with the group's own activation forms.
void check_against_reference(const std::vector<const km::Tensor*>& ts, const std::vector<float>& x, int n,
                             bool accumulate, const std::vector<float>& y0, const std::vector<float>& y,
                             const char* what) {
  int64_t rows = 0;
  for (const km::Tensor* t : ts) rows += t->rows;
  const int64_t cols = ts[0]->cols;
  int64_t off = 0;
  int failures = 0;
  for (const km::Tensor* t : ts) {
    const ActFormat f = act_format_for(t->type);
    const double tol = t->type == GgmlType::Q4_K || t->type == GgmlType::Q5_K || t->type == GgmlType::Q6_K
                           ? kKQuantTol
                       : (f == ActFormat::Q8)                                 ? kQuantTol
                                                                              : kFloatTol;
    std::vector<float> w(cols);
    for (int tok = 0; tok < n; tok++) {
      const std::vector<float> a = effective(f, x.data() + (size_t)tok * cols, cols);
      for (int64_t r = 0; r < t->rows; r++) {
        km::dequantize_row(t->type, static_cast<const uint8_t*>(t->data) + r * t->row_bytes, w.data(), cols);
        double ref = accumulate ? y0[(size_t)tok * rows + off + r] : 0.0, mag = 0;
        for (int64_t k = 0; k < cols; k++) {
          ref += (double)w[k] * a[k];
          mag += std::fabs((double)w[k] * a[k]);
        }
        const double got = y[(size_t)tok * rows + off + r];
        if (!(std::fabs(got - ref) <= tol * mag + 1e-30) && failures++ < 3)
          kt::report_failure(__FILE__, __LINE__,
                             km::format("%s: %s row %lld token %d: %.9g vs %.9g (tol %.3g)", what, t->name.c_str(),
                                        (long long)r, tok, got, ref, tol * mag));
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

const char* type_name(GgmlType t) { return km::ggml_type_info(t).name; }

}  // namespace

TEST(cpu_matmul, every_type_every_level_matches_float64) {
  struct Case { GgmlType type; int64_t cols; };
  const Case cases[] = {{GgmlType::F32, 172}, {GgmlType::F16, 100}, {GgmlType::BF16, 64}, {GgmlType::Q8_0, 96},
                        {GgmlType::Q4_0, 160}, {GgmlType::Q4_K, 512}, {GgmlType::Q5_K, 768},
                        {GgmlType::Q6_K, 256}};
  for (const Case& c : cases)
    for (int64_t rows : {8, 37, 56}) {  // 56: 7 groups of 8, the decode tiles of 4, 2 and 1 groups
      Weight w = make_weight(c.type, rows, c.cols, (uint32_t)(rows * 31 + c.cols), "w");
      for (int n : {1, 2, 3, 4, 5, 9}) {
        const std::vector<float> x = randv((size_t)n * c.cols, (uint32_t)(n + 7 * rows));
        const std::vector<float> y0 = randv((size_t)n * rows, 99);
        for (bool acc : {false, true}) {
          std::vector<float> scalar_y;
          for (Simd s : levels()) {
            const std::vector<float> y = run_group(s, {&w.t}, x, n, 1, acc, y0);
            const std::string what = km::format("%s %s rows %lld n %d acc %d", simd_name(s), type_name(c.type),
                                                (long long)rows, n, (int)acc);
            check_against_reference({&w.t}, x, n, acc, y0, y, what.c_str());
            if (s == Simd::Scalar) scalar_y = y;
            else
              for (size_t i = 0; i < y.size(); i++)
                CHECK_NEAR(y[i], scalar_y[i], 1e-4 * (std::fabs(scalar_y[i]) + 1));
          }
        }
      }
    }
}

TEST(cpu_matmul, fused_parts_write_their_own_columns) {
  // q|k|v as one Q8-activation matrix of mixed Q8_0/Q4_0 parts with a partial
  // group in the middle; then gate|up where F16 and Q8_0 cannot fuse.
  Weight q = make_weight(GgmlType::Q8_0, 20, 64, 1, "q");
  Weight k = make_weight(GgmlType::Q4_0, 13, 64, 2, "k");
  Weight v = make_weight(GgmlType::Q8_0, 16, 64, 3, "v");
  Weight g = make_weight(GgmlType::F16, 24, 64, 4, "gate");
  Weight u = make_weight(GgmlType::Q8_0, 24, 64, 5, "up");
  for (Simd s : levels()) {
    const MatGroup qkv = MatGroup::build({&q.t, &k.t, &v.t}, s);
    CHECK_EQ(qkv.mats.size(), (size_t)1);
    CHECK_EQ(qkv.rows, (int64_t)49);
    const MatGroup gu = MatGroup::build({&g.t, &u.t}, s);
    CHECK_EQ(gu.mats.size(), (size_t)2);
    CHECK_EQ(gu.offsets[1], (int64_t)24);
    for (int n : {1, 6}) {
      const std::vector<float> x = randv((size_t)n * 64, 40 + n);
      const std::vector<float> y0((size_t)n * 49, 0.0f), z0((size_t)n * 48, 0.0f);
      check_against_reference({&q.t, &k.t, &v.t}, x, n, false, y0, run_group(s, {&q.t, &k.t, &v.t}, x, n, 2, false, y0),
                              simd_name(s));
      check_against_reference({&g.t, &u.t}, x, n, false, z0, run_group(s, {&g.t, &u.t}, x, n, 2, false, z0),
                              simd_name(s));
    }
  }
}

TEST(cpu_matmul, results_do_not_depend_on_thread_count) {
  Weight w = make_weight(GgmlType::Q8_0, 200, 128, 9, "w");
  Weight f = make_weight(GgmlType::F32, 50, 72, 10, "f");
  for (Simd s : levels())
    for (int n : {1, 7}) {
      const std::vector<float> x = randv((size_t)n * 128, 3), xf = randv((size_t)n * 72, 4);
      const std::vector<float> y0((size_t)n * 200, 0.0f), z0((size_t)n * 50, 0.0f);
      const std::vector<float> one = run_group(s, {&w.t}, x, n, 1, false, y0);
      const std::vector<float> onef = run_group(s, {&f.t}, xf, n, 1, false, z0);
      for (int threads : {2, 3, 5}) {
        CHECK(run_group(s, {&w.t}, x, n, threads, false, y0) == one);
        CHECK(run_group(s, {&f.t}, xf, n, threads, false, z0) == onef);
      }
    }
}

TEST(cpu_matmul, k_quant_rows_are_copied_out_of_the_file_mapping) {
  // Same rows, same bytes, in memory of the backend's own (huge pages), not the file's.
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    Weight w = make_weight(type, 9, 512, 11, "w");
    const CpuMatrix m = CpuMatrix::build({&w.t}, Simd::Avx2);
    const MatPart& p = m.parts()[0];
    CHECK(p.layout == Layout::Rows);
    CHECK_EQ(m.owned_bytes(), (uint64_t)w.bytes.size());
    CHECK(p.data != w.bytes.data());
    CHECK_EQ(p.stride, w.t.row_bytes);
    CHECK(std::memcmp(p.data, w.bytes.data(), w.bytes.size()) == 0);
  }
}

TEST(cpu_matmul, packed_layouts_follow_the_level) {
  CHECK(layout_for(GgmlType::Q8_0, Simd::Scalar) == Layout::Rows);
  CHECK(layout_for(GgmlType::Q8_0, Simd::Avx2) == Layout::Q8Packed);
  CHECK(layout_for(GgmlType::Q8_0, Simd::Avx512Vnni) == Layout::Q8PackedU);
  CHECK(layout_for(GgmlType::Q4_0, Simd::Avx2) == Layout::Q4Packed);
  CHECK(layout_for(GgmlType::Q4_K, Simd::Avx2) == Layout::Rows);
  CHECK(layout_for(GgmlType::Q4_K, Simd::Avx512Vnni) == Layout::Q4KPacked);
  CHECK(layout_for(GgmlType::Q6_K, Simd::Avx2) == Layout::Rows);
  CHECK(layout_for(GgmlType::Q6_K, Simd::Avx512Vnni) == Layout::Q6KPacked);
  // a packed matrix holds the same bytes as the file, regrouped
  Weight w = make_weight(GgmlType::Q8_0, 16, 64, 5, "w");
  const CpuMatrix m = CpuMatrix::build({&w.t}, Simd::Avx2);
  CHECK_EQ(m.owned_bytes(), (uint64_t)(16 * 2 * 34));
  const uint8_t* p = m.parts()[0].data;
  // group 0, block 0: the scales of rows 0..7, then row r's quants 0..3 at 16 + 4r
  for (int r = 0; r < 8; r++) {
    CHECK(std::memcmp(p + 2 * r, w.bytes.data() + r * 68, 2) == 0);
    CHECK(std::memcmp(p + 16 + 4 * r, w.bytes.data() + r * 68 + 2, 4) == 0);
  }
}
