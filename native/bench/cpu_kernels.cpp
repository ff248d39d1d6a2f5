// CPU kernel micro-benchmark; see cpu_kernels.h. On one thread it is timed by
// the thread's CPU clock (so a busy machine skews it less than wall time),
// best of several rounds; with --threads N by the wall clock, each thread
// taking a contiguous share of the rows as the engine does (how many bytes a
// second the kernel pulls from memory when the threads compete for it). Weights are random bytes of each type (valid
// encodings), activations converted once outside the timed loop: this times
// the matrix kernel alone. Reports GMAC/s and the weight bytes streamed per
// second (which bounds decode, a memory-bound one-token product).
#include "cpu_kernels.h"
#include "split.h"
#include "thread_clock.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/matrix.h"
#include "cpu/thread_pool.h"
#include "timer.h"
#include "keymate/error.h"
#include "keymate/half.h"
#include "quant/quantize_run.h"
#include "quant/weight_formats.h"

namespace km::bench {
namespace {

// A run format by its --weights name (int8-g32, fp8, ...), or none.
const quant::WeightFormat* run_format(const std::string& n) {
  for (const quant::WeightFormat& f : quant::weight_format_table())
    if (n == f.name && f.kind == quant::WeightKind::Run) return &quant::weight_format(n);
  return nullptr;
}

// Rows of N(0, 0.02) weights encoded in a run format.
std::vector<uint8_t> run_weights(RunQuant q, int64_t rows, int64_t cols) {
  const uint64_t rb = run_row_bytes(q, cols);
  std::vector<uint8_t> w(rb * (uint64_t)rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0.f, 0.02f);
  std::vector<float> x((size_t)cols);
  for (int64_t r = 0; r < rows; r++) {
    for (float& v : x) v = g(rng);
    quant::quantize_run_row(q, x.data(), cols, w.data() + rb * r, quant::ScaleRule::Absmax);
  }
  return w;
}

GgmlType parse_type(const std::string& n) {
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K,
                     GgmlType::Q6_K})
    if (n == ggml_type_info(t).name) return t;
  fail("cpu-kernels: unknown type '%s' (f32, f16, bf16, q8_0, q4_0, q4_K, q6_K, or a run format: int8-g32, fp8, ...)",
       n.c_str());
}

// Random bytes with finite block scales: any bit pattern is a valid quant.
std::vector<uint8_t> random_weights(GgmlType t, int64_t rows, int64_t cols) {
  const uint64_t row_bytes = ggml_row_bytes(t, (uint64_t)cols);
  std::vector<uint8_t> w(row_bytes * (uint64_t)rows);
  std::mt19937 rng(1);
  for (auto& b : w) b = (uint8_t)rng();
  const uint16_t scale = fp32_to_fp16(0.01f);
  const GgmlTypeInfo info = ggml_type_info(t);
  auto set_scales = [&](size_t at) {  // offsets of the fp16 scales inside a block
    for (uint64_t off = 0; off + info.block_bytes <= w.size(); off += info.block_bytes)
      std::memcpy(w.data() + off + at, &scale, 2);
  };
  switch (t) {
    case GgmlType::F32:
      for (uint64_t i = 0; i < w.size() / 4; i++) {
        const float v = (float)(rng() % 2001) / 1000.0f - 1.0f;
        std::memcpy(w.data() + 4 * i, &v, 4);
      }
      break;
    case GgmlType::F16: case GgmlType::BF16:
      for (uint64_t i = 0; i < w.size() / 2; i++) {
        const float v = (float)(rng() % 2001) / 1000.0f - 1.0f;
        const uint16_t h = t == GgmlType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
        std::memcpy(w.data() + 2 * i, &h, 2);
      }
      break;
    case GgmlType::Q8_0: case GgmlType::Q4_0: set_scales(0); break;
    case GgmlType::Q4_K: set_scales(0), set_scales(2); break;
    case GgmlType::Q6_K: set_scales(info.block_bytes - 2); break;
    default: break;
  }
  return w;
}

}  // namespace

int cpu_kernel_bench(int argc, char** argv) {
  int64_t rows = 2048, cols = 768;
  int threads = 1;
  double budget_ms = 300;
  std::vector<std::string> types = {"q8_0", "q4_0", "q4_K", "q6_K", "f16", "f32"}, tokens = {"1", "128"};
  for (int i = 0; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--rows") rows = std::atoll(v.c_str());
    else if (k == "--cols") cols = std::atoll(v.c_str());
    else if (k == "--tokens") tokens = split_commas(v);
    else if (k == "--types") types = split_commas(v);
    else if (k == "--ms") budget_ms = std::atof(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else fail("cpu-kernels: unknown option %s", k.c_str());
  }
  if (rows <= 0 || cols <= 0 || cols % 256) fail("cpu-kernels: --cols must be a positive multiple of 256");
  if (threads < 1) fail("cpu-kernels: --threads must be at least 1");
  cpu::ThreadPool pool(threads);
  // The seconds one call takes: the thread's CPU time on one thread, wall time on several.
  auto clock = [&]() { return threads == 1 ? thread_seconds() : now_ms() * 1e-3; };
  for (const std::string& tn : types) {
    const quant::WeightFormat* rf = run_format(tn);
    const GgmlType type = rf ? GgmlType::F32 : parse_type(tn);
    std::vector<uint8_t> bytes = rf ? run_weights(rf->quant, rows, cols) : random_weights(type, rows, cols);
    Tensor t;
    t.type = type;
    if (rf) t.quant = rf->quant;
    t.rows = rows;
    t.cols = cols;
    t.row_bytes = rf ? run_row_bytes(rf->quant, cols) : ggml_row_bytes(type, (uint64_t)cols);
    t.data = bytes.data();
    t.name = tn;
    for (cpu::Simd s : {cpu::Simd::Scalar, cpu::Simd::Avx2, cpu::Simd::Avx512Vnni}) {
      if (s > cpu::detect_simd()) continue;
      const cpu::Kernels& k = cpu::kernels_for(s);
      const cpu::CpuMatrix m = cpu::CpuMatrix::build({&t}, s);
      const cpu::MatPart& p = m.parts()[0];
      for (const std::string& ns : tokens) {
        const int n = std::atoi(ns.c_str());
        if (n <= 0) fail("cpu-kernels: --tokens wants positive counts");
        std::vector<float> x((size_t)n * cols);
        std::mt19937 rng(2);
        for (float& v : x) v = (float)(rng() % 2001) / 1000.0f - 1.0f;
        const cpu::ActFormat f = m.act();
        const uint64_t rb = cpu::act_row_bytes(f, cols);
        std::vector<uint8_t> act(rb * (uint64_t)n);
        for (int i = 0; i < n; i++) {
          const float* src = x.data() + (size_t)i * cols;
          uint8_t* dst = act.data() + rb * i;
          switch (f) {
            case cpu::ActFormat::Q8: k.quantize_q8a(src, reinterpret_cast<cpu::block_q8a*>(dst), cols); break;
            case cpu::ActFormat::Q8K: k.quantize_q8k(src, reinterpret_cast<cpu::block_q8k*>(dst), cols); break;
            case cpu::ActFormat::F16: k.round_f16(src, reinterpret_cast<float*>(dst), cols); break;
            case cpu::ActFormat::BF16: k.round_bf16(src, reinterpret_cast<float*>(dst), cols); break;
            case cpu::ActFormat::F32: std::memcpy(dst, src, rb); break;
            case cpu::ActFormat::Q8Row: k.quantize_q8row(src, dst, cols); break;
          }
        }
        const cpu::ActView av{f, act.data(), rb};
        std::vector<float> y((size_t)n * rows);
        const cpu::MatKernel kern = k.mat(p);
        auto call = [&]() {
          if (threads == 1) return kern(p, 0, rows, av, n, y.data(), rows, false);
          pool.run([&](int ith, int nth) {
            const int64_t groups = (rows + cpu::kPackRows - 1) / cpu::kPackRows;
            const int64_t r0 = groups * ith / nth * cpu::kPackRows, r1 = std::min(rows, groups * (ith + 1) / nth * cpu::kPackRows);
            if (r0 < r1) kern(p, r0, r1, av, n, y.data(), rows, false);
          });
        };
        // one call to size the rounds, then the best of 5 rounds of ~budget/5
        double t0 = clock();
        call();
        const double once = std::max(clock() - t0, 1e-7);
        const int reps = std::max(1, (int)(budget_ms / 5e3 / once));
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
          t0 = clock();
          for (int r = 0; r < reps; r++) call();
          best = std::min(best, (clock() - t0) / reps);
        }
        const double macs = (double)rows * (double)cols * n;
        std::printf("{\"type\": \"%s\", \"simd\": \"%s\", \"threads\": %d, \"rows\": %lld, \"cols\": %lld, "
                    "\"tokens\": %d, \"ms\": %.4f, \"gmac_s\": %.2f, \"weight_gb_s\": %.2f}\n",
                    tn.c_str(), cpu::simd_name(s), threads, (long long)rows, (long long)cols, n, best * 1e3,
                    macs / best * 1e-9, (double)bytes.size() / best * 1e-9);
      }
    }
  }
  return 0;
}

}  // namespace km::bench
