// Tiled attention with an online softmax; see attention.h.
#include "cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace km::cpu {

int64_t attention_scratch_floats(int n_heads, int n_kv_heads, int head_dim) {
  const int64_t group = n_heads / n_kv_heads;
  const int64_t queries = group * kQueryTile;
  // K and V tiles, one score tile, outputs, running max and sum; each rounded
  // up to 16 floats so every buffer starts on a cache line.
  auto r = [](int64_t x) { return (x + 15) / 16 * 16; };
  return 2 * r((int64_t)kKeyTile * head_dim) + r((int64_t)kQueryTile * kKeyTile) + r(queries * head_dim) +
         2 * r(queries);
}

void attention_phase(int ith, int nth, const Kernels& k, const AttentionArgs& a, WorkSlot* share) {
  const int hd = a.head_dim;
  const int group = a.n_heads / a.n_kv_heads;
  const int tiles = (a.n + kQueryTile - 1) / kQueryTile;
  const int64_t items = (int64_t)a.n_kv_heads * tiles;
  auto r = [](int64_t x) { return (x + 15) / 16 * 16; };
  float* kbuf = a.scratch + ith * attention_scratch_floats(a.n_heads, a.n_kv_heads, hd);
  float* vbuf = kbuf + r((int64_t)kKeyTile * hd);
  float* sbuf = vbuf + r((int64_t)kKeyTile * hd);
  float* obuf = sbuf + r((int64_t)kQueryTile * kKeyTile);
  float* mbuf = obuf + r((int64_t)group * kQueryTile * hd);
  float* lbuf = mbuf + r((int64_t)group * kQueryTile);

  for (int64_t it; (it = claim(share, ith, nth, items)) >= 0;) {
    const int kvh = (int)(it / tiles);
    const int t0 = (int)(it % tiles) * kQueryTile, nt = std::min(kQueryTile, a.n - t0);
    const int nq = group * nt;  // query (g, i) at index g * nt + i
    std::fill(obuf, obuf + (int64_t)nq * hd, 0.0f);
    std::fill(mbuf, mbuf + nq, -INFINITY);
    std::fill(lbuf, lbuf + nq, 0.0f);
    const uint64_t eb = kv_elem_bytes(a.kv);
    const uint8_t* kc = static_cast<const uint8_t*>(a.k) + (uint64_t)kvh * a.context * hd * eb;
    const uint8_t* vc = static_cast<const uint8_t*>(a.v) + (uint64_t)kvh * a.context * hd * eb;
    const uint16_t* ks = a.k_scale ? a.k_scale + (int64_t)kvh * a.context : nullptr;
    const uint16_t* vs = a.v_scale ? a.v_scale + (int64_t)kvh * a.context : nullptr;
    const int n_keys = a.pos + t0 + nt;  // the last token of the tile sees them all
    // The first key any query of the tile sees: tiles wholly before it are skipped.
    const int first_key = a.window > 0 ? std::max(0, a.pos + t0 - a.window + 1) : 0;
    for (int j0 = first_key / kKeyTile * kKeyTile; j0 < n_keys; j0 += kKeyTile) {
      const int nk = std::min(kKeyTile, n_keys - j0);
      kv_load(k, a.kv, kc + (uint64_t)j0 * hd * eb, ks ? ks + j0 : nullptr, nk, hd, kbuf);
      kv_load(k, a.kv, vc + (uint64_t)j0 * hd * eb, vs ? vs + j0 : nullptr, nk, hd, vbuf);
      for (int g = 0; g < group; g++) {
        const int h = kvh * group + g;
        k.attn_scores(a.q + (int64_t)t0 * a.ldq + (int64_t)h * hd, a.ldq, nt, kbuf, nk, hd, a.scale, sbuf, kKeyTile);
        for (int i = 0; i < nt; i++) {
          float* s = sbuf + (int64_t)i * kKeyTile;
          const int qi = g * nt + i;
          // Keys [lo, hi) of the tile: causal (up to the token's own
          // position) and inside its window.
          const int p = a.pos + t0 + i;
          const int hi = std::min(nk, p + 1 - j0);
          const int lo = a.window > 0 ? std::max(0, p - a.window + 1 - j0) : 0;
          if (hi <= lo) {
            std::fill(s, s + nk, 0.0f);
            continue;
          }
          float mx = s[lo];
          for (int j = lo + 1; j < hi; j++) mx = std::max(mx, s[j]);
          if (mx > mbuf[qi]) {
            if (mbuf[qi] != -INFINITY) {
              const float ms = std::exp(mbuf[qi] - mx);
              float* o = obuf + (int64_t)qi * hd;
              for (int c = 0; c < hd; c++) o[c] *= ms;
              lbuf[qi] *= ms;
            }
            mbuf[qi] = mx;
          }
          lbuf[qi] += k.exp_sum(s + lo, hi - lo, mbuf[qi]);
          std::fill(s, s + lo, 0.0f);
          std::fill(s + hi, s + nk, 0.0f);
        }
        k.attn_values(sbuf, kKeyTile, nt, vbuf, nk, hd, obuf + (int64_t)g * nt * hd, hd);
      }
    }
    for (int g = 0; g < group; g++)
      for (int i = 0; i < nt; i++) {
        const int qi = g * nt + i;
        const float inv = lbuf[qi] == 0.0f ? 0.0f : 1.0f / lbuf[qi];
        const float* o = obuf + (int64_t)qi * hd;
        float* dst = a.out + (int64_t)(t0 + i) * a.ldo + (int64_t)(kvh * group + g) * hd;
        for (int c = 0; c < hd; c++) dst[c] = o[c] * inv;
      }
  }
}

}  // namespace km::cpu
