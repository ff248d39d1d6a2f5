// The matmul phase; see matmul.h.
#include "cpu/matmul.h"

#include <algorithm>

#include "keymate/error.h"

namespace km::cpu {

// Output rows per work chunk. One token: small chunks so threads stay
// balanced while streaming weights; several: two 8-row groups, whose weights
// stay in L1 across the batch.
constexpr int64_t kDecodeChunkMin = 16, kDecodeChunkMax = 64, kChunksPerThread = 4;
constexpr int64_t kPrefillChunk = 16;

MatGroup MatGroup::build(const std::vector<const Tensor*>& ts, Simd simd) {
  MatGroup g;
  g.cols = ts.at(0)->cols;
  size_t i = 0;
  while (i < ts.size()) {
    std::vector<const Tensor*> run{ts[i]};
    size_t j = i + 1;
    while (j < ts.size()) {
      std::vector<const Tensor*> more = run;
      more.push_back(ts[j]);
      if (!CpuMatrix::fusable(more)) break;
      run = std::move(more);
      j++;
    }
    g.offsets.push_back(g.rows);
    g.mats.push_back(CpuMatrix::build(run, simd));
    g.rows += g.mats.back().rows();
    i = j;
  }
  return g;
}

void MatScratch::reserve(int max_tokens, int64_t cols, uint64_t act_bytes) {
  max_cols = cols;
  act_row = (act_bytes + 63) / 64 * 64;
  rows = aligned_buffer((size_t)max_tokens * (size_t)cols * sizeof(float));
  act = aligned_buffer((size_t)max_tokens * act_row);
}

namespace {

// Converts float row `src` into the matrix's activation form at `dst`.
void convert_row(const Kernels& k, ActFormat f, const float* src, uint8_t* dst, int64_t cols) {
  switch (f) {
    case ActFormat::F32: std::copy(src, src + cols, reinterpret_cast<float*>(dst)); break;
    case ActFormat::F16: k.round_f16(src, reinterpret_cast<float*>(dst), cols); break;
    case ActFormat::BF16: k.round_bf16(src, reinterpret_cast<float*>(dst), cols); break;
    case ActFormat::Q8: k.quantize_q8a(src, reinterpret_cast<block_q8a*>(dst), cols); break;
    case ActFormat::Q8K: k.quantize_q8k(src, reinterpret_cast<block_q8k*>(dst), cols); break;
    case ActFormat::Q8Row: k.quantize_q8row(src, dst, cols); break;
  }
}

}  // namespace

void matmul_phase(int ith, int nth, ThreadPool& pool, const Kernels& k, const MatGroup& g, const MatInput& in,
                  int n, float* y, int64_t ldy, bool accumulate, MatScratch& s, WorkSlot* const* shares) {
  const int64_t cols = g.cols;
  for (size_t mi = 0; mi < g.mats.size(); mi++) {
    const CpuMatrix& m = g.mats[mi];
    // (1) input rows
    ActView av;
    av.format = m.act();
    const bool direct = in.kind == MatInput::Plain && m.act() == ActFormat::F32;
    if (direct) {
      av.data = reinterpret_cast<const uint8_t*>(in.x);
      av.stride = (uint64_t)in.ldx * sizeof(float);
    } else {
      float* rows = reinterpret_cast<float*>(s.rows.get());
      const bool f32 = m.act() == ActFormat::F32;
      av.data = f32 ? s.rows.get() : s.act.get();
      av.stride = f32 ? (uint64_t)cols * sizeof(float) : s.act_row;
      const Range tr = split_range(n, ith, nth);
      for (int64_t t = tr.begin; t < tr.end; t++) {
        float* row = rows + t * cols;
        const float* src = in.x + t * in.ldx;
        if (in.kind == MatInput::RmsNorm) {
          k.rms_norm(src, in.norm, in.eps, cols, row);
          src = row;
        } else if (in.kind == MatInput::SwiGlu || in.kind == MatInput::GeGlu) {
          (in.kind == MatInput::SwiGlu ? k.swiglu : k.geglu)(src, in.u + t * in.ldx, row, (int)cols);
          src = row;
        }
        if (!f32) convert_row(k, m.act(), src, s.act.get() + t * s.act_row, cols);
        else if (src != row) std::copy(src, src + cols, row);
      }
      pool.barrier();
    }
    // (2) output chunks
    int64_t chunk;
    if (n == 1) {
      const int64_t target = m.rows() / (nth * kChunksPerThread);
      chunk = std::clamp<int64_t>(target / kPackRows * kPackRows, kDecodeChunkMin, kDecodeChunkMax);
    } else {
      chunk = kPrefillChunk;
    }
    int64_t total = 0;
    for (const MatPart& p : m.parts()) total += (p.rows + chunk - 1) / chunk;
    float* ym = y + g.offsets[mi];
    for (int64_t c; (c = claim(shares[mi], ith, nth, total)) >= 0;) {
      // find the part holding chunk c
      int64_t base = 0;
      for (const MatPart& p : m.parts()) {
        const int64_t pc = (p.rows + chunk - 1) / chunk;
        if (c < base + pc) {
          const int64_t r0 = (c - base) * chunk, r1 = std::min(p.rows, r0 + chunk);
          k.mat(p)(p, r0, r1, av, n, ym + p.out_offset, ldy, accumulate);
          break;
        }
        base += pc;
      }
    }
    if (mi + 1 < g.mats.size()) pool.barrier();  // the next matrix reuses the scratch
  }
}

}  // namespace km::cpu
