// A weight matrix as the CPU kernels read it. Most types are used in place,
// straight from the file mapping, one row after another (Layout::Rows).
// Q4_K and Q6_K keep their rows but are copied once into the backend's own
// memory: aligned_buffer asks for transparent huge pages where the file
// mapping has 4 KB ones, and decode, which streams every weight per token,
// spent a sixth of its time on TLB misses (Q4_K_M 1.1B on 2 cores: 34 -> 40
// tok/s, docs/BENCHMARKS.md). Q8_0
// and Q4_0 are repacked once, when the backend is made, into groups of 8 rows
// whose quants are interleaved 4 bytes at a time:
//
//   group g, block b (32 columns):  d[8] fp16 | k-group 0: row0 q0..3, row1 q0..3, ... row7 q0..3
//                                             | k-group 1: row0 q4..7, ...            (Q8_0: 8 k-groups)
//
// so one 32-byte load holds 4 columns of 8 rows, and an int8 dot product
// against a broadcast 4-byte slice of one activation row yields 8 row sums in
// the 8 lanes: the outputs of 8 rows come out side by side, with no horizontal
// reduction and one scale multiply per 8 rows. Q4_0 keeps its nibbles (the
// low nibble of a byte is column 4j+i, the high one column 16+4j+i, exactly
// as in the file). With VNNI the Q8_0 quants are stored offset by +128, as
// unsigned bytes, which is what vpdpbusd wants; the offset is taken back out
// through the activation block's integer sum.
//
// Several weights that read the same input (q/k/v, gate/up) are fused into one
// CpuMatrix of several parts, so the input is converted once and one parallel
// loop covers all their rows; each part writes at its own output offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpu/act_quant.h"
#include "cpu/simd.h"
#include "keymate/model.h"

namespace km::cpu {

enum class Layout : uint8_t {
  Rows,          // as in the file
  Q8Packed,      // Q8_0, 8-row groups, signed quants (AVX2)
  Q8PackedU,     // Q8_0, 8-row groups, quants + 128 as unsigned bytes (VNNI)
  Q4Packed,      // Q4_0, 8-row groups, nibbles
  Nf4Packed,     // NF4 run rows, laid out as Q4Packed: nibbles index the NF4 levels
  Q4KPacked,     // Q4_K, 8-row groups per super-block (AVX-512 VNNI): see below
  Q6KPacked,     // Q6_K, likewise
};

// Q4KPacked, one group of 8 rows and one super-block (256 columns), 1184 bytes:
//   d[8] fp16 | dmin[8] fp16 | scales[8 sub-blocks][8 rows] | mins[8][8] |
//   quants: pair p (sub-blocks 2p, 2p+1), column group k (4 columns): 8 rows x 4 bytes
// Each quant byte is the file's own (sub-block 2p in the low nibble, 2p+1 in
// the high one, same column), so one 32-byte load holds 4 columns of 8 rows
// of two sub-blocks, and vpdpbusd takes them as the Q4_0 packed path does;
// the 6-bit scales and mins are unpacked at load, once, instead of per token.
constexpr uint64_t kQ4KPackedBlock = 16 + 16 + 64 + 64 + 8 * 128;

// Q6KPacked, one group of 8 rows and one super-block, 1680 bytes (the file's 8 x 210):
//   d[8] fp16 | scales[16 sub-blocks][8 rows] int8 |
//   per half h and column group c (4 columns): three 32-byte vectors V0 V1 V2 of 8 rows x 4 bytes,
//   Vi's byte = quarter i's 6-bit quant (0..63) | bits 2i..2i+1 of quarter 3's quant << 6
// The 6 bits are whole in a byte, so quarters 0-2 take one mask each and
// quarter 3 is put together from the three top bit pairs. Kept in the file's
// split (4 low bits here, 2 high bits there), every quarter took two loads, a
// shift, two masks and an or.
constexpr uint64_t kQ6KPackedBlock = 16 + 128 + 2 * 8 * 3 * 32;

constexpr int kPackRows = 8;

struct MatPart {
  GgmlType type = GgmlType::F32;
  RunQuant quant;           // a run format (formats_run.h) when converted at load; then type does not apply
  Layout layout = Layout::Rows;
  int64_t rows = 0, cols = 0;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;      // Rows: bytes per row; packed: bytes per group of 8 rows
  int64_t out_offset = 0;   // where this part's outputs start in an output row
  std::string name;
};

// Bytes of one packed block (32 columns of 8 rows) for a packed layout.
uint64_t packed_block_bytes(Layout l);

// The layout the kernels of `simd` want for a weight of type t, or for a
// tensor (whose run format, if any, decides: INT8, INT4 and NF4 are packed too).
Layout layout_for(GgmlType t, Simd simd);
Layout layout_for(const Tensor& t, Simd simd);

struct AlignedFree { void operator()(uint8_t* p) const; };
using AlignedBuffer = std::unique_ptr<uint8_t[], AlignedFree>;
// 64-byte aligned (2 MB with huge pages asked for, when large); zeroed unless the caller fills it all at once.
AlignedBuffer aligned_buffer(size_t bytes, bool zeroed = true);

class CpuMatrix {
 public:
  CpuMatrix() = default;
  // Fuses the tensors (same column count and activation form) in order.
  static CpuMatrix build(const std::vector<const Tensor*>& tensors, Simd simd);
  // True when build() accepts these tensors as one matrix.
  static bool fusable(const std::vector<const Tensor*>& tensors);

  int64_t rows() const { return rows_; }  // outputs per input row, all parts together
  int64_t cols() const { return cols_; }
  ActFormat act() const { return act_; }
  const std::vector<MatPart>& parts() const { return parts_; }
  uint64_t owned_bytes() const { return owned_bytes_; }

 private:
  std::vector<MatPart> parts_;
  std::vector<AlignedBuffer> owned_;
  uint64_t owned_bytes_ = 0;
  int64_t rows_ = 0, cols_ = 0;
  ActFormat act_ = ActFormat::F32;
};

}  // namespace km::cpu
