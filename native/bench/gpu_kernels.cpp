// GPU kernel benchmark; see gpu_kernels.h. What it measures, and how:
//   copy   cudaMemcpy device-to-device of 1 GiB, bytes read + written over the
//          median time: the bandwidth the GEMV is held to
//   gemv   each weight format on the 7B shapes (qkv 12288x4096, wo 4096x4096,
//          gate|up 22016x4096 with SiLU*up, down 4096x11008) and the Llama 3.2
//          1B ones, one token: time per call (median of --iters, device
//          events), weight bytes read per second, and that as % of copy
//   gemm   the same formats at 128 tokens (the tensor-core path): TFLOP/s
// Weights are valid encodings of random values (a block of quantized rows
// repeated down the matrix), and enough copies of them rotate that none is
// still in the L2 cache when read again: DRAM is what is timed.
#include "gpu_kernels.h"
#include "split.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "keymate/error.h"
#include "quant/quantize_gguf.h"
#include "quant/quantize_run.h"
#include "quant/weight_formats.h"

#ifdef KEYMATE_HAVE_CUDA
#include "keymate/cuda.h"
#include "keymate/engine.h"
#include "matmul/matmul_harness.h"
#endif

namespace km::bench {

#ifndef KEYMATE_HAVE_CUDA
int gpu_kernel_bench(int, char**) {
  std::fprintf(stderr, "keymate_bench: gpu-kernels: this build has no CUDA backend (KEYMATE_CUDA=off or no nvcc)\n");
  return 1;
}
#else

namespace {

struct Format {
  std::string name;  // as --weights names it, or a GGUF type name
  GgmlType type = GgmlType::F32;
  RunQuant quant;
};

struct Shape {
  const char* model;
  const char* name;
  int rows, cols;
  cuda::Epilogue epilogue;
};

const Shape kShapes[] = {
    {"7b", "qkv", 12288, 4096, cuda::Epilogue::Store},
    {"7b", "wo", 4096, 4096, cuda::Epilogue::Residual},
    {"7b", "gate_up", 22016, 4096, cuda::Epilogue::SiluMul},
    {"7b", "down", 4096, 11008, cuda::Epilogue::Residual},
    {"1b", "qkv", 3072, 2048, cuda::Epilogue::Store},
    {"1b", "wo", 2048, 2048, cuda::Epilogue::Residual},
    {"1b", "gate_up", 16384, 2048, cuda::Epilogue::SiluMul},
    {"1b", "down", 2048, 8192, cuda::Epilogue::Residual},
};

const char* kDefaultFormats = "f16,q8_0,q4_0,fp8,fp8-g128,int8-g32,int8-g128,int4-g32,int4-g128,nf4-g64,w8a8";

Format parse_format(const std::string& n) {
  Format f;
  f.name = n;
  if (n == "f16") f.type = GgmlType::F16;
  else if (n == "bf16") f.type = GgmlType::BF16;
  else if (n == "f32") f.type = GgmlType::F32;
  else if (n == "q8_0") f.type = GgmlType::Q8_0;
  else if (n == "q4_0") f.type = GgmlType::Q4_0;
  else {
    const quant::WeightFormat& w = quant::weight_format(n);  // throws, listing the names
    if (w.kind != quant::WeightKind::Run) fail("gpu-kernels: --formats: '%s' is not a weight format the GPU runs", n.c_str());
    f.quant = w.quant;
  }
  return f;
}

// rows x cols weights of format f: kBlockRows quantized random rows, repeated.
std::vector<uint8_t> make_weights(const Format& f, int rows, int cols, uint64_t row_bytes) {
  constexpr int kBlockRows = 64;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> src(cols);
  std::vector<uint8_t> w((size_t)rows * row_bytes);
  for (int r = 0; r < rows; r++) {
    uint8_t* row = w.data() + (size_t)r * row_bytes;
    if (r >= kBlockRows) {
      std::memcpy(row, w.data() + (size_t)(r % kBlockRows) * row_bytes, row_bytes);
      continue;
    }
    for (float& v : src) v = nd(rng);
    if (f.quant.none()) quantize_row(f.type, src.data(), row, cols);
    else quant::quantize_run_row(f.quant, src.data(), cols, row, quant::ScaleRule::Absmax);
  }
  return w;
}

struct Result {
  std::string format, model, shape, epilogue;
  int rows = 0, cols = 0, n = 0;
  double ms = 0, gbs = 0, pct = 0, tflops = 0;
};

const char* epilogue_name(cuda::Epilogue e) {
  return e == cuda::Epilogue::Store ? "store" : e == cuda::Epilogue::Residual ? "residual" : "silu_mul";
}

void json_string(std::string& o, const std::string& s) {
  o += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  o += '"';
}

std::string num(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

int gpu_kernel_bench(int argc, char** argv) {
  bool json = false;
  int iters = 100;
  std::string formats = kDefaultFormats, models = "7b,1b";
  for (int i = 0; i < argc; i++) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") json = true;
    else if (a == "--iters" && has_value) iters = std::atoi(argv[++i]);
    else if (a == "--formats" && has_value) formats = argv[++i];
    else if (a == "--shapes" && has_value) models = argv[++i];
    else {
      std::fprintf(stderr, "keymate_bench: gpu-kernels: unknown or incomplete option '%s'\n"
                           "usage: keymate_bench gpu-kernels [--json] [--iters 100] [--formats %s] [--shapes 7b,1b]\n",
                   a.c_str(), kDefaultFormats);
      return 2;
    }
  }
  if (iters < 1) {
    std::fprintf(stderr, "keymate_bench: gpu-kernels: --iters must be >= 1\n");
    return 2;
  }
  try {
    const CudaProbe p = cuda_probe();
    if (!p.available) fail("gpu-kernels: no usable GPU: %s", p.reason.c_str());
    std::vector<Format> fmts;
    for (const std::string& n : split_commas(formats)) fmts.push_back(parse_format(n));
    const std::vector<std::string> want = split_commas(models);
    const cuda::DeviceInfo dev = cuda::current_device();
    const double copy = cuda::d2d_copy_gbps(1ull << 30, 20);
    std::fprintf(stderr, "%s (sm_%d, %d SMs, L2 %.0f MB, driver %s): D2D copy %.1f GB/s\n", dev.name.c_str(), dev.cc,
                 dev.sms, dev.l2_bytes / 1048576.0, dev.driver.c_str(), copy);

    std::vector<Result> gemv, gemm;
    for (const Shape& s : kShapes) {
      bool on = false;
      for (const std::string& m : want) on = on || m == s.model;
      if (!on) continue;
      for (const Format& f : fmts) {
        cuda::MatmulArgs a{};
        a.rows = s.rows;
        a.cols = s.cols;
        a.type = f.type;
        a.quant = f.quant;
        a.row_bytes = f.quant.none() ? ggml_row_bytes(f.type, s.cols) : run_row_bytes(f.quant, s.cols);
        a.epilogue = s.epilogue;
        const std::vector<uint8_t> w = make_weights(f, s.rows, s.cols, a.row_bytes);
        a.w = w.data();
        const uint64_t bytes = (uint64_t)s.rows * a.row_bytes;
        const int copies = (int)std::max<uint64_t>(2, (3 * dev.l2_bytes + bytes - 1) / bytes);
        cuda::MatmulHarness h(a, copies);
        Result r;
        r.format = f.name;
        r.model = s.model;
        r.shape = s.name;
        r.epilogue = epilogue_name(s.epilogue);
        r.rows = s.rows;
        r.cols = s.cols;
        r.n = 1;
        r.ms = h.time_ms(1, iters);
        r.gbs = (double)bytes / (r.ms * 1e-3) / 1e9;
        r.pct = 100.0 * r.gbs / copy;
        std::fprintf(stderr, "gemv %-10s %s %-8s %5dx%-5d  %8.4f ms  %7.1f GB/s  %5.1f%% of copy\n", r.format.c_str(),
                     r.model.c_str(), r.shape.c_str(), r.rows, r.cols, r.ms, r.gbs, r.pct);
        gemv.push_back(r);
        if (std::string(s.model) == "7b") {
          Result g = r;
          g.n = 128;
          g.ms = h.time_ms(128, std::max(10, iters / 4));
          g.tflops = 2.0 * s.rows * s.cols * 128 / (g.ms * 1e-3) / 1e12;
          g.gbs = g.pct = 0;
          std::fprintf(stderr, "gemm %-10s %s %-8s %5dx%-5d  n=128  %8.4f ms  %6.1f TFLOP/s\n", g.format.c_str(),
                       g.model.c_str(), g.shape.c_str(), g.rows, g.cols, g.ms, g.tflops);
          gemm.push_back(g);
        }
      }
    }

    if (json) {
      std::string o = "{\"device\":{\"name\":";
      json_string(o, dev.name);
      o += ",\"cc\":" + std::to_string(dev.cc) + ",\"sms\":" + std::to_string(dev.sms) +
           ",\"l2_mb\":" + num(dev.l2_bytes / 1048576.0, 1) + ",\"driver\":";
      json_string(o, dev.driver);
      o += "},\"d2d_copy_gbps\":" + num(copy, 1) + ",\"iters\":" + std::to_string(iters) + ",\"gemv\":[";
      for (size_t i = 0; i < gemv.size(); i++) {
        const Result& r = gemv[i];
        o += i ? "," : "";
        o += "{\"format\":";
        json_string(o, r.format);
        o += ",\"model\":\"" + r.model + "\",\"shape\":\"" + r.shape + "\",\"epilogue\":\"" + r.epilogue +
             "\",\"rows\":" + std::to_string(r.rows) + ",\"cols\":" + std::to_string(r.cols) +
             ",\"n\":1,\"ms\":" + num(r.ms, 5) + ",\"weight_gbps\":" + num(r.gbs, 1) +
             ",\"pct_of_copy\":" + num(r.pct, 1) + "}";
      }
      o += "],\"gemm\":[";
      for (size_t i = 0; i < gemm.size(); i++) {
        const Result& r = gemm[i];
        o += i ? "," : "";
        o += "{\"format\":";
        json_string(o, r.format);
        o += ",\"model\":\"" + r.model + "\",\"shape\":\"" + r.shape + "\",\"epilogue\":\"" + r.epilogue +
             "\",\"rows\":" + std::to_string(r.rows) + ",\"cols\":" + std::to_string(r.cols) +
             ",\"n\":128,\"ms\":" + num(r.ms, 5) + ",\"tflops\":" + num(r.tflops, 2) + "}";
      }
      o += "]}";
      std::printf("%s\n", o.c_str());
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "keymate_bench: %s\n", e.what());
    return 1;
  }
}

#endif

}  // namespace km::bench
