// Building CpuMatrix: binding file rows in place, or repacking Q8_0/Q4_0 into
// 8-row interleaved groups (see matrix.h for the layout and why).
#include "cpu/matrix.h"

#include <cstdlib>
#include <cstring>

#include "keymate/error.h"
#include "keymate/formats.h"

namespace km::cpu {

void AlignedFree::operator()(uint8_t* p) const { std::free(p); }

AlignedBuffer aligned_buffer(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) fail("cpu backend: out of memory allocating %zu bytes", bytes);
  std::memset(p, 0, rounded);
  return AlignedBuffer(static_cast<uint8_t*>(p));
}

uint64_t packed_block_bytes(Layout l) {
  switch (l) {
    case Layout::Q8Packed:
    case Layout::Q8PackedU: return 2 * kPackRows + kPackRows * QK8_0;
    case Layout::Q4Packed: return 2 * kPackRows + kPackRows * QK4_0 / 2;
    case Layout::Rows: break;
  }
  return 0;
}

Layout layout_for(GgmlType t, Simd simd) {
  if (simd == Simd::Scalar) return Layout::Rows;
  if (t == GgmlType::Q8_0) return simd == Simd::Avx512Vnni ? Layout::Q8PackedU : Layout::Q8Packed;
  if (t == GgmlType::Q4_0) return Layout::Q4Packed;
  return Layout::Rows;
}

namespace {

// Repacks rows of Q8_0 or Q4_0 blocks into 8-row groups; rows past the end of
// the tensor are zero (scale 0), so a group never reads outside the buffer.
void pack(const Tensor& t, Layout layout, uint8_t* out) {
  const int64_t nb = t.cols / 32;
  const uint64_t bb = packed_block_bytes(layout);
  const int64_t groups = (t.rows + kPackRows - 1) / kPackRows;
  const bool q8 = layout != Layout::Q4Packed;
  const size_t src_block = q8 ? sizeof(block_q8_0) : sizeof(block_q4_0);
  const int kgroups = q8 ? 8 : 4;  // 4-byte column groups per block
  const uint8_t offset = layout == Layout::Q8PackedU ? 0x80 : 0;
  for (int64_t g = 0; g < groups; g++) {
    for (int64_t b = 0; b < nb; b++) {
      uint8_t* dst = out + (g * nb + b) * bb;
      for (int r = 0; r < kPackRows; r++) {
        const int64_t row = g * kPackRows + r;
        const uint8_t* blk = row < t.rows ? static_cast<const uint8_t*>(t.data) + row * t.row_bytes + b * src_block
                                          : nullptr;
        if (blk) std::memcpy(dst + 2 * r, blk, 2);  // fp16 scale
        for (int k = 0; k < kgroups; k++) {
          uint8_t* q = dst + 2 * kPackRows + k * 4 * kPackRows + 4 * r;
          for (int i = 0; i < 4; i++) q[i] = (blk ? blk[2 + 4 * k + i] : 0) ^ offset;
        }
      }
    }
  }
}

}  // namespace

bool CpuMatrix::fusable(const std::vector<const Tensor*>& ts) {
  if (ts.empty()) return false;
  for (const Tensor* t : ts) {
    if (t->cols != ts[0]->cols || !cpu_runnable(t->type) || !cpu_runnable(ts[0]->type) ||
        act_format_for(t->type) != act_format_for(ts[0]->type))
      return false;
  }
  return true;
}

CpuMatrix CpuMatrix::build(const std::vector<const Tensor*>& ts, Simd simd) {
  if (!fusable(ts)) fail("cpu backend: cannot fuse %s with the weights after it", ts.empty() ? "?" : ts[0]->name.c_str());
  CpuMatrix m;
  m.cols_ = ts[0]->cols;
  m.act_ = act_format_for(ts[0]->type);
  for (const Tensor* t : ts) {
    const GgmlTypeInfo info = ggml_type_info(t->type);
    if (t->cols % info.block_elems) fail("%s: %lld columns is not a multiple of the %s block (%u)", t->name.c_str(),
                                         (long long)t->cols, info.name, info.block_elems);
    MatPart p;
    p.type = t->type;
    p.layout = layout_for(t->type, simd);
    p.rows = t->rows;
    p.cols = t->cols;
    p.out_offset = m.rows_;
    p.name = t->name;
    if (p.layout == Layout::Rows) {
      p.data = static_cast<const uint8_t*>(t->data);
      p.stride = t->row_bytes;
    } else {
      const int64_t groups = (t->rows + kPackRows - 1) / kPackRows;
      p.stride = (uint64_t)(t->cols / 32) * packed_block_bytes(p.layout);
      AlignedBuffer buf = aligned_buffer(groups * p.stride);
      pack(*t, p.layout, buf.get());
      p.data = buf.get();
      m.owned_bytes_ += groups * p.stride;
      m.owned_.push_back(std::move(buf));
    }
    m.rows_ += t->rows;
    m.parts_.push_back(std::move(p));
  }
  return m;
}

}  // namespace km::cpu
