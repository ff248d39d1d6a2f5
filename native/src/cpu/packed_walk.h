// The walk over a packed matrix's 8-row groups (matrix.h) that every SIMD
// level's packed tiles share. One decode token runs DecodeG groups per tile,
// then two, then one: independent accumulator chains hide the latency of the
// level's multiply-add. Prefill runs PrefillG groups x up to four tokens per
// tile, the tile's weights staying in L1 across the token tiles. Tile<G, T>::run
// is the level's own: this header is included inside each kernel file's
// target region (kernels_avx2.cpp, kernels_vnni.cpp, and kernels_run_avx2.cpp
// for NF4), so the walk compiles with the tiles' instructions and inlines them.
#pragma once

#include <cstdint>

#include "cpu/kernels.h"
#include "cpu/matrix.h"

namespace km::cpu {

// G groups from g across every token: tiles of four, then the rest in one.
template <template <int, int> class Tile, int G>
void run_token_tiles(const MatPart& w, int64_t g, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  int t = 0;
  for (; t + 4 <= n; t += 4) Tile<G, 4>::run(w, g, a, t, y, ldy, acc);
  switch (n - t) {
    case 3: Tile<G, 3>::run(w, g, a, t, y, ldy, acc); break;
    case 2: Tile<G, 2>::run(w, g, a, t, y, ldy, acc); break;
    case 1: Tile<G, 1>::run(w, g, a, t, y, ldy, acc); break;
    default: break;
  }
}

template <template <int, int> class Tile, int DecodeG, int PrefillG>
void walk_packed(const MatPart& w, int64_t r0, int64_t r1, const ActView& a, int n, float* y, int64_t ldy, bool acc) {
  static_assert(DecodeG == 1 || DecodeG == 2 || DecodeG == 4, "a decode tile holds 1, 2 or 4 groups");
  static_assert(PrefillG >= 1, "a prefill tile holds at least one group");
  const int64_t g_begin = r0 / kPackRows, g_end = (r1 + kPackRows - 1) / kPackRows;
  if (n == 1) {
    int64_t g = g_begin;
    if constexpr (DecodeG >= 4) {
      for (; g + 4 <= g_end; g += 4) Tile<4, 1>::run(w, g, a, 0, y, ldy, acc);
    }
    if constexpr (DecodeG >= 2) {
      for (; g + 2 <= g_end; g += 2) Tile<2, 1>::run(w, g, a, 0, y, ldy, acc);
    }
    for (; g < g_end; g++) Tile<1, 1>::run(w, g, a, 0, y, ldy, acc);  // at most one left unless DecodeG == 1
    return;
  }
  for (int64_t g = g_begin; g < g_end; g += PrefillG) {
    if (g + PrefillG <= g_end) {
      run_token_tiles<Tile, PrefillG>(w, g, a, n, y, ldy, acc);
    } else {
      for (int64_t h = g; h < g_end; h++) run_token_tiles<Tile, 1>(w, h, a, n, y, ldy, acc);
    }
  }
}

}  // namespace km::cpu
