// Run-format rows: group by group through the scale search, then the quants
// and scales laid out as formats_run.h says.
#include "quant/quantize_run.h"

#include <cstring>
#include <vector>

#include "keymate/error.h"
#include "keymate/ggml_types.h"

namespace km::quant {

LevelSet run_levels(RunType t) {
  switch (t) {
    case RunType::Int4: return int4_levels();
    case RunType::Nf4: return nf4_levels();
    default: return int8_levels();
  }
}

void put_group(RunQuant q, uint8_t* row, int64_t cols, int64_t g, float d, const uint8_t* codes, int64_t n) {
  uint8_t* s = row + run_quant_bytes(q.type, cols);
  if (q.group == 0) {
    std::memcpy(s, &d, 4);
  } else {
    const uint16_t h = fp32_to_fp16(d);
    std::memcpy(s + 2 * g, &h, 2);
  }
  const int64_t k0 = g * (q.group ? q.group : cols);
  if (run_is_4bit(q.type)) {
    // the index is the nibble: INT4 stores q + 8, NF4 the table position
    for (int64_t i = 0; i < n; i++) {
      const int64_t k = k0 + i, j = k % 32;
      uint8_t& b = row[k / 32 * 16 + j % 16];
      b |= (uint8_t)(j < 16 ? codes[i] : codes[i] << 4);
    }
  } else if (q.type == RunType::Fp8) {
    std::memcpy(row + k0, codes, (size_t)n);
  } else {
    const LevelSet set = run_levels(q.type);
    for (int64_t i = 0; i < n; i++) row[k0 + i] = (uint8_t)(int8_t)set.level(codes[i]);
  }
}

void quantize_run_row(RunQuant q, const float* x, int64_t cols, uint8_t* row, ScaleRule rule, const float* w) {
  if (q.none()) fail("quantize: no run format given");
  if (cols <= 0 || cols % kRunColAlign) fail("quantize: a row of %lld columns is not a multiple of %d",
                                             (long long)cols, kRunColAlign);
  if (q.group % kRunColAlign) fail("quantize: group %d is not a multiple of %d", q.group, kRunColAlign);
  std::memset(row, 0, run_row_bytes(q, cols));
  const int64_t groups = run_groups(q, cols), gsize = q.group ? q.group : cols;
  const bool fp16 = q.group != 0;
  const LevelSet set = run_levels(q.type);
  thread_local std::vector<uint8_t> idx;
  idx.resize((size_t)gsize);
  for (int64_t g = 0; g < groups; g++) {
    const int64_t k0 = g * gsize, n = cols - k0 < gsize ? cols - k0 : gsize;
    uint8_t* codes = idx.data();
    float d;
    const float* wg = w ? w + k0 : nullptr;
    if (q.type == RunType::Fp8) d = choose_fp8(x + k0, n, rule, fp16, codes, wg);
    else d = choose_levels(x + k0, n, set, rule, fp16, codes, wg);
    put_group(q, row, cols, g, d, codes, n);
  }
}

void dequantize_run_row(RunQuant q, const uint8_t* row, int64_t cols, float* y) {
  for (int64_t k = 0; k < cols; k++) y[k] = run_element(q, row, cols, k);
}

void tensor_row(const Tensor& t, int64_t r, float* y) {
  const uint8_t* row = static_cast<const uint8_t*>(t.data) + (uint64_t)r * t.row_bytes;
  if (t.quant.none()) dequantize_row(t.type, row, y, t.cols);
  else dequantize_run_row(t.quant, row, t.cols, y);
}

}  // namespace km::quant
