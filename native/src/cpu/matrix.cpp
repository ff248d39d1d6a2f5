// Building CpuMatrix: binding file rows in place, or repacking Q8_0/Q4_0
// (and the INT8 / INT4 / NF4 run formats) and Q4_K into 8-row interleaved
// groups (see matrix.h for the layouts and why).
#include "cpu/matrix.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "cpu/kquant.h"
#include "keymate/error.h"
#include "keymate/formats.h"

namespace km::cpu {

void AlignedFree::operator()(uint8_t* p) const { std::free(p); }

AlignedBuffer aligned_buffer(size_t bytes, bool zeroed) {
  // Weights (megabytes) start on a 2 MB boundary and ask for huge pages, which
  // a system whose transparent huge pages are "madvise" (Debian's and Ubuntu's
  // default) gives only when asked: decode streams every weight for every
  // token, and 4 KB pages cost it a TLB miss per page.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = bytes >= 2 * kHuge ? kHuge : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded ? rounded : align);
  if (!p) fail("cpu backend: out of memory allocating %zu bytes", bytes);
#if defined(__linux__)
  if (align == kHuge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a refusal changes nothing
#endif
  if (zeroed) std::memset(p, 0, rounded);
  return AlignedBuffer(static_cast<uint8_t*>(p));
}

uint64_t packed_block_bytes(Layout l) {
  switch (l) {
    case Layout::Q8Packed:
    case Layout::Q8PackedU: return 2 * kPackRows + kPackRows * QK8_0;
    case Layout::Q4Packed:
    case Layout::Nf4Packed: return 2 * kPackRows + kPackRows * QK4_0 / 2;
    case Layout::Q4KPacked: return kQ4KPackedBlock / (QK_K / 32);
    case Layout::Q6KPacked: return kQ6KPackedBlock / (QK_K / 32);
    case Layout::Rows: break;
  }
  return 0;
}

Layout layout_for(const Tensor& t, Simd simd) {
  if (t.quant.none()) return layout_for(t.type, simd);
  if (simd == Simd::Scalar) return Layout::Rows;
  // INT8 and INT4 rows are Q8_0 and Q4_0 blocks with their scales elsewhere:
  // the packed kernels run them (a wider group repeats its scale per block).
  // NF4 has Q4_0's nibble order and its own packed kernel.
  if (t.quant.type == RunType::Int8) return simd == Simd::Avx512Vnni ? Layout::Q8PackedU : Layout::Q8Packed;
  if (t.quant.type == RunType::Int4) return Layout::Q4Packed;
  if (t.quant.type == RunType::Nf4) return Layout::Nf4Packed;
  return Layout::Rows;
}

Layout layout_for(GgmlType t, Simd simd) {
  if (simd == Simd::Scalar) return Layout::Rows;
  if (t == GgmlType::Q8_0) return simd == Simd::Avx512Vnni ? Layout::Q8PackedU : Layout::Q8Packed;
  if (t == GgmlType::Q4_0) return Layout::Q4Packed;
  // Only VNNI multiplies unsigned nibbles by signed bytes in one instruction;
  // with AVX2 alone the row kernel is as quick.
  if (t == GgmlType::Q4_K && simd == Simd::Avx512Vnni) return Layout::Q4KPacked;
  if (t == GgmlType::Q6_K && simd == Simd::Avx512Vnni) return Layout::Q6KPacked;
  return Layout::Rows;
}

namespace {

// Where block b of row r comes from: its fp16 scale bits and its quants (32
// int8, or 16 bytes of Q4_0-ordered nibbles).
struct BlockSource {
  const Tensor& t;
  bool run;  // a run format (formats_run.h) rather than Q8_0 / Q4_0 blocks
  uint16_t scale(int64_t r, int64_t b) const {
    const uint8_t* row = static_cast<const uint8_t*>(t.data) + r * t.row_bytes;
    uint16_t h;
    if (!run) {
      std::memcpy(&h, row + b * block_bytes(), 2);
    } else {
      // a group of 64 or 128 lends its scale to each of its 32-blocks: same values
      const int64_t g = t.quant.group ? b * 32 / t.quant.group : 0;
      std::memcpy(&h, row + run_quant_bytes(t.quant.type, t.cols) + 2 * g, 2);
    }
    return h;
  }
  const uint8_t* quants(int64_t r, int64_t b) const {
    const uint8_t* row = static_cast<const uint8_t*>(t.data) + r * t.row_bytes;
    if (!run) return row + b * block_bytes() + 2;
    return row + b * (run_is_4bit(t.quant.type) ? 16 : 32);
  }
  size_t block_bytes() const { return t.type == GgmlType::Q8_0 ? sizeof(block_q8_0) : sizeof(block_q4_0); }
};

// Repacks rows of Q8_0 or Q4_0 blocks (or of INT8 / INT4 / NF4 run rows, whose
// 32-blocks are those formats' but for where the scales live) into 8-row
// groups; rows past the end of the tensor are zero (scale 0), so a group
// never reads outside the buffer.
void pack(const BlockSource& src, Layout layout, uint8_t* out) {
  const Tensor& t = src.t;
  const int64_t nb = t.cols / 32;
  const uint64_t bb = packed_block_bytes(layout);
  const int64_t groups = (t.rows + kPackRows - 1) / kPackRows;
  const bool q8 = layout == Layout::Q8Packed || layout == Layout::Q8PackedU;
  const int kgroups = q8 ? 8 : 4;  // 4-byte column groups per block
  const uint8_t offset = layout == Layout::Q8PackedU ? 0x80 : 0;
  for (int64_t g = 0; g < groups; g++) {
    for (int64_t b = 0; b < nb; b++) {
      uint8_t* dst = out + (g * nb + b) * bb;
      for (int r = 0; r < kPackRows; r++) {
        const int64_t row = g * kPackRows + r;
        const bool real = row < t.rows;
        const uint8_t* qs = real ? src.quants(row, b) : nullptr;
        if (real) {
          const uint16_t h = src.scale(row, b);
          std::memcpy(dst + 2 * r, &h, 2);
        }
        for (int k = 0; k < kgroups; k++) {
          uint8_t* q = dst + 2 * kPackRows + k * 4 * kPackRows + 4 * r;
          for (int i = 0; i < 4; i++) q[i] = (qs ? qs[4 * k + i] : 0) ^ offset;
        }
      }
    }
  }
}

// Calls f(dst, r, block) for every real row r (0..7) of every 8-row group and
// super-block of a K-quant tensor, dst the group's packed block of `bytes`;
// rows past the end are left as the zeroed buffer has them (d 0: they add nothing).
template <typename Block, typename F>
void each_packed_block(const Tensor& t, uint64_t bytes, uint8_t* out, F&& f) {
  const int64_t nb = t.cols / QK_K;
  const int64_t groups = (t.rows + kPackRows - 1) / kPackRows;
  for (int64_t g = 0; g < groups; g++)
    for (int64_t b = 0; b < nb; b++)
      for (int r = 0; r < kPackRows && g * kPackRows + r < t.rows; r++) {
        const uint8_t* row = static_cast<const uint8_t*>(t.data) + (g * kPackRows + r) * t.row_bytes;
        f(out + (g * nb + b) * bytes, r, reinterpret_cast<const Block*>(row)[b]);
      }
}

// Q4_K rows into Q4KPacked groups (matrix.h).
void pack_q4k(const Tensor& t, uint8_t* out) {
  each_packed_block<block_q4_K>(t, kQ4KPackedBlock, out, [](uint8_t* dst, int r, const block_q4_K& w) {
    std::memcpy(dst + 2 * r, &w.d, 2);
    std::memcpy(dst + 16 + 2 * r, &w.dmin, 2);
    for (int j = 0; j < 8; j++) {
      int sc, m;
      q4k_scale_min(w.scales, j, &sc, &m);
      dst[32 + 8 * j + r] = (uint8_t)sc;
      dst[96 + 8 * j + r] = (uint8_t)m;
    }
    for (int p = 0; p < 4; p++)
      for (int k = 0; k < 8; k++) std::memcpy(dst + 160 + (8 * p + k) * 32 + 4 * r, w.qs + 32 * p + 4 * k, 4);
  });
}

// Q6_K rows into Q6KPacked groups (matrix.h).
void pack_q6k(const Tensor& t, uint8_t* out) {
  each_packed_block<block_q6_K>(t, kQ6KPackedBlock, out, [](uint8_t* dst, int r, const block_q6_K& w) {
    std::memcpy(dst + 2 * r, &w.d, 2);
    for (int j = 0; j < 16; j++) dst[16 + 8 * j + r] = (uint8_t)w.scales[j];
    uint8_t q[QK_K];
    q6k_unpack(w, q);
    for (int h = 0; h < 2; h++)
      for (int c = 0; c < 8; c++) {
        uint8_t* v = dst + 144 + (h * 8 + c) * 3 * 32 + 4 * r;
        for (int e = 0; e < 4; e++) {
          const uint8_t* col = q + 128 * h + 4 * c + e;  // quarter i's quant is col[32 i]
          for (int i = 0; i < 3; i++) v[32 * i + e] = (uint8_t)(col[32 * i] | ((col[96] >> (2 * i)) & 3) << 6);
        }
      }
  });
}

bool runnable(const Tensor& t) { return !t.quant.none() || ggml_type_runs_as_stored(t.type); }

}  // namespace

bool CpuMatrix::fusable(const std::vector<const Tensor*>& ts) {
  if (ts.empty()) return false;
  for (const Tensor* t : ts) {
    if (t->cols != ts[0]->cols || !runnable(*t) || !runnable(*ts[0]) ||
        act_format_for(t->type, t->quant) != act_format_for(ts[0]->type, ts[0]->quant))
      return false;
  }
  return true;
}

CpuMatrix CpuMatrix::build(const std::vector<const Tensor*>& ts, Simd simd) {
  if (!fusable(ts)) fail("cpu backend: cannot fuse %s with the weights after it", ts.empty() ? "?" : ts[0]->name.c_str());
  CpuMatrix m;
  m.cols_ = ts[0]->cols;
  m.act_ = act_format_for(ts[0]->type, ts[0]->quant);
  for (const Tensor* t : ts) {
    if (t->quant.none()) {
      const GgmlTypeInfo info = ggml_type_info(t->type);
      if (t->cols % info.block_elems) fail("%s: %lld columns is not a multiple of the %s block (%u)", t->name.c_str(),
                                           (long long)t->cols, info.name, info.block_elems);
    } else if (t->cols % kRunColAlign || t->row_bytes != run_row_bytes(t->quant, t->cols)) {
      fail("%s: %lld columns in rows of %llu bytes do not make a converted matrix", t->name.c_str(),
           (long long)t->cols, (unsigned long long)t->row_bytes);
    }
    MatPart p;
    p.type = t->type;
    p.quant = t->quant;
    p.layout = layout_for(*t, simd);
    p.rows = t->rows;
    p.cols = t->cols;
    p.out_offset = m.rows_;
    p.name = t->name;
    if (p.layout == Layout::Rows && (t->type == GgmlType::Q4_K || t->type == GgmlType::Q5_K || t->type == GgmlType::Q6_K) &&
        t->quant.none()) {
      const uint64_t bytes = (uint64_t)t->rows * t->row_bytes;
      AlignedBuffer buf = aligned_buffer(bytes, false);  // the copy writes every byte the kernels read
      std::memcpy(buf.get(), t->data, bytes);
      p.data = buf.get();
      p.stride = t->row_bytes;
      m.owned_bytes_ += bytes;
      m.owned_.push_back(std::move(buf));
    } else if (p.layout == Layout::Rows) {
      p.data = static_cast<const uint8_t*>(t->data);
      p.stride = t->row_bytes;
    } else {
      const int64_t groups = (t->rows + kPackRows - 1) / kPackRows;
      p.stride = (uint64_t)(t->cols / 32) * packed_block_bytes(p.layout);
      AlignedBuffer buf = aligned_buffer(groups * p.stride);
      if (p.layout == Layout::Q4KPacked) pack_q4k(*t, buf.get());
      else if (p.layout == Layout::Q6KPacked) pack_q6k(*t, buf.get());
      else pack(BlockSource{*t, !t->quant.none()}, p.layout, buf.get());
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
