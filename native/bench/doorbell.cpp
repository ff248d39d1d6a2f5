// keymate_bench doorbell (doorbell.h): parses the options, runs the
// micro-benchmark on the GPU and prints its report. Builds without CUDA too,
// where it says that this build has no CUDA backend.
#include "doorbell.h"

#include <cstdio>
#include <cstdlib>
#include <string>


#include "keymate/error.h"

#ifdef KEYMATE_HAVE_CUDA
#include "exec/doorbell_bench.h"
#include "keymate/engine.h"  // CudaDevice, before keymate/cuda.h
#include "keymate/cuda.h"
#endif

namespace km::bench {

namespace {

#ifdef KEYMATE_HAVE_CUDA
std::string pct(const km::cuda::Percentiles& p) {
  char b[192];
  std::snprintf(b, sizeof b, "{\"min\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}", p.min,
                p.p50, p.p90, p.p99, p.max);
  return b;
}

std::string series(const km::cuda::DoorbellSeries& s) {
  return "{\"blocks\": " + std::to_string(s.blocks) + ", \"round_trip_us\": " + pct(s.round_trip_us) +
         ", \"host_to_seen_us\": " + pct(s.host_to_seen_us) + ", \"host_to_start_us\": " + pct(s.host_to_start_us) +
         ", \"seen_to_start_us\": " + pct(s.seen_to_start_us) + "}";
}

void table(const km::cuda::DoorbellReport& r) {
  auto row = [](const char* what, const km::cuda::Percentiles& p) {
    std::printf("  %-44s p50 %8.2f  p90 %8.2f  p99 %8.2f us\n", what, p.p50, p.p90, p.p99);
  };
  std::printf("doorbell on %s (%d SMs), %d rings; %%globaltimer step %.0f ns; one-way numbers +- %.2f us\n",
              r.device.c_str(), r.sms, r.rings, r.timer_step_ns, r.calibration_uncertainty_us);
  row("1 block: host ring -> GPU sees it", r.one_block.host_to_seen_us);
  row("1 block: round trip", r.one_block.round_trip_us);
  const std::string grid = std::to_string(r.full_grid.blocks) + " blocks";
  row((grid + ": host ring -> every block starts").c_str(), r.full_grid.host_to_start_us);
  row((grid + ": GPU sees -> every block starts").c_str(), r.full_grid.seen_to_start_us);
  row((grid + ": round trip").c_str(), r.full_grid.round_trip_us);
  row("empty kernel launch + sync", r.kernel_launch_sync_us);
  row("empty graph launch + sync", r.graph_launch_sync_us);
}
#endif

// A count >= lo, or -1 (said on stderr) when `v` is not one.
int to_count(const std::string& k, const std::string& v, int lo) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > 10000000) {
    std::fprintf(stderr, "keymate_bench: doorbell: --%s needs an integer >= %d, not '%s'\n", k.c_str(), lo, v.c_str());
    return -1;
  }
  return static_cast<int>(n);
}

}  // namespace

int doorbell_bench(int argc, char** argv) {
  int rings = 10000, warmup = 200;
  bool json = false;
  for (int i = 0; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--json") {
      json = true;
      continue;
    }
    if ((a == "--rings" || a == "--warmup") && i + 1 < argc) {
      int& v = a == "--rings" ? rings : warmup;
      v = to_count(a.substr(2), argv[++i], a == "--rings" ? 1 : 0);
      if (v < 0) return 2;
      continue;
    }
    std::fprintf(stderr, "keymate_bench: doorbell: unknown or incomplete option '%s'\n"
                         "usage: keymate_bench doorbell [--rings 10000] [--warmup 200] [--json]\n", a.c_str());
    return 2;
  }
#ifdef KEYMATE_HAVE_CUDA
  if (const km::CudaProbe p = km::cuda_probe(); !p.available) fail("doorbell: no usable GPU: %s", p.reason.c_str());
  km::cuda::DoorbellOptions o;
  o.rings = rings;
  o.warmup = warmup;
  const km::cuda::DoorbellReport r = km::cuda::doorbell_bench(o);
  if (!json) {
    table(r);
    return 0;
  }
  std::printf(
      "{\"device\": \"%s\", \"sms\": %d, \"rings\": %d, \"timer_step_ns\": %.0f, \"calibration_uncertainty_us\": %.3f, "
      "\"one_block\": %s, \"full_grid\": %s, \"kernel_launch_sync_us\": %s, \"graph_launch_sync_us\": %s}\n",
      r.device.c_str(), r.sms, r.rings, r.timer_step_ns, r.calibration_uncertainty_us, series(r.one_block).c_str(),
      series(r.full_grid).c_str(), pct(r.kernel_launch_sync_us).c_str(), pct(r.graph_launch_sync_us).c_str());
  return 0;
#else
  (void)json;
  fail("doorbell: this build has no CUDA backend (%s)", "built without nvcc or with KEYMATE_CUDA=off");
#endif
}

}  // namespace km::bench
