// keymate_bench energy (energy.h). Each reply is the product's work for one
// request, run on the engine's backend as Engine::bench runs it: a fixed
// random prompt of --prompt-tokens prefilled from position 0 (so no reply
// reuses the last one's cache), then --gen-tokens greedy tokens, no EOS stop,
// so every reply does the same work. One warm-up reply goes first, unmeasured.
//
// NVML is read in two ways at once, because neither is right everywhere:
//  - the driver's energy counter (mJ since it loaded), read at each reply's
//    two edges: exact where present, but it updates only every few tens of ms;
//  - the power reading, sampled at 10 Hz by a thread and at the two edges,
//    integrated over the reply (trapezoids, the edge values held where an
//    edge reading dropped out): always there where power is, but on GPUs that
//    offer only nvmlDeviceGetPowerUsage it is a ~1 s average that lags.
// The counter is the reply's energy when it is present; the integral is
// printed beside it so the two can be compared. km::Nvml is not thread-safe:
// one mutex covers every NVML call and the list of readings.
// Never calls an NVML setter: this measures, it changes nothing on the card.
#include "energy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "keymate/backend.h"
#include "keymate/error.h"
#include "keymate/nvml.h"
#include "rng.h"
#include "timer.h"

namespace km::bench {

namespace {

constexpr double kSampleMs = 100;                      // 10 Hz during generation: fine enough for a reply's joules
constexpr uint64_t kPromptSeed = 0x656e65726779ull;    // fixed: runs are comparable
const char* kEnergyUsage =
    "usage: keymate_bench energy (--model FILE | --synthetic SHAPE [--type f16] [--seed 0]) [--backend auto|cpu|cuda]\n"
    "                            [--weights W] [--kv K] [--threads N] [--context N] [--prompt-tokens 128]\n"
    "                            [--gen-tokens 128] [--replies 10] [--gpu 0] [--json]\n";

using Opt = std::optional<double>;

// One NVML reading, stamped with the steady clock (km::now_ms).
struct Point {
  double t_ms = 0;
  Opt power_w, energy_mj, temp_c, sm_clock_mhz, util_gpu_pct;
  std::vector<std::string> throttle;
};

Point point_of(const GpuSample& s, double t_ms) {
  return {t_ms, s.power_w, s.energy_mj, s.temp_c, s.sm_clock_mhz, s.util_gpu_pct, s.throttle};
}

// The 10 Hz sampler and the reply edges' readings; does nothing without NVML.
class Recorder {
 public:
  Recorder(Nvml* nvml, int gpu) : nvml_(nvml), gpu_(gpu) {}
  ~Recorder() { stop(); }

  void start() {
    if (nvml_) thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // A reading at a reply's edge, stamped at the edge itself: after the read
  // for a start, before it for an end, so the read never counts as the reply's.
  std::optional<Point> edge(bool start) {
    if (!nvml_) return std::nullopt;
    std::lock_guard<std::mutex> lk(m_);
    const double before = now_ms();
    const GpuSample s = nvml_->sample(gpu_);
    Point p = point_of(s, start ? now_ms() : before);
    points_.push_back(p);
    return p;
  }
  // The readings stamped within [t0, t1], in time order.
  std::vector<Point> between(double t0, double t1) {
    std::lock_guard<std::mutex> lk(m_);
    std::vector<Point> out;
    for (const Point& p : points_)
      if (p.t_ms >= t0 && p.t_ms <= t1) out.push_back(p);
    std::stable_sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.t_ms < b.t_ms; });
    return out;
  }
  std::string error() {
    std::lock_guard<std::mutex> lk(m_);
    return error_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      try {
        const double t0 = now_ms();
        const GpuSample s = nvml_->sample(gpu_);
        points_.push_back(point_of(s, (t0 + now_ms()) / 2));  // stamped mid-read
      } catch (const std::exception& e) {
        error_ = std::string("the sampler stopped: ") + e.what();
        return;
      }
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double, std::milli>(kSampleMs));
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;  // a slow read is not made up by a burst of readings
      cv_.wait_until(lk, next, [this] { return stop_; });
    }
  }

  Nvml* nvml_;
  int gpu_;
  std::mutex m_;  // every NVML call, points_ and error_
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<Point> points_;
  std::string error_;
  std::thread thread_;
};

struct Reply {
  double ms = 0, prefill_ms = 0, decode_ms = 0;
  int tokens = 0;
  int samples = 0;  // NVML readings within the reply, its edges included
  Opt counter_j, integrated_j, energy_j, j_per_token, mean_power_w, peak_power_w, peak_temp_c;
  Opt sm_clock_min_mhz, sm_clock_max_mhz, util_mean_pct;
  std::string method;  // "counter" | "integrated-power" | "" (none)
  std::string reason;  // why energy_j is empty
  std::vector<std::string> throttle;  // every reason seen during the reply
};

// Trapezoids over the power readings in [t0, t1]; the first and last values
// are held out to the edges where an edge reading had no power.
Opt integrate_j(const std::vector<Point>& pts, double t0, double t1) {
  std::vector<std::pair<double, double>> p;  // (ms, W)
  for (const Point& x : pts)
    if (x.power_w) p.emplace_back(x.t_ms, *x.power_w);
  if (p.empty() || !(t1 > t0)) return std::nullopt;
  double mj = p.front().second * (p.front().first - t0) + p.back().second * (t1 - p.back().first);
  for (size_t i = 1; i < p.size(); i++) mj += 0.5 * (p[i - 1].second + p[i].second) * (p[i].first - p[i - 1].first);
  return mj / 1000.0;  // W x ms = mJ
}

void measure(Reply* r, const std::optional<Point>& a, const std::optional<Point>& b, const std::vector<Point>& pts) {
  if (!a || !b) {
    r->reason = "no NVML";
    return;
  }
  r->samples = static_cast<int>(pts.size());
  if (a->energy_mj && b->energy_mj && *b->energy_mj >= *a->energy_mj)
    r->counter_j = (*b->energy_mj - *a->energy_mj) / 1000.0;
  r->integrated_j = integrate_j(pts, a->t_ms, b->t_ms);
  double util_sum = 0;
  int util_n = 0;
  auto max_of = [](Opt& m, const Opt& v) { if (v && (!m || *v > *m)) m = v; };
  for (const Point& p : pts) {
    max_of(r->peak_power_w, p.power_w);
    max_of(r->peak_temp_c, p.temp_c);
    max_of(r->sm_clock_max_mhz, p.sm_clock_mhz);
    if (p.sm_clock_mhz && (!r->sm_clock_min_mhz || *p.sm_clock_mhz < *r->sm_clock_min_mhz))
      r->sm_clock_min_mhz = p.sm_clock_mhz;
    if (p.util_gpu_pct) {
      util_sum += *p.util_gpu_pct;
      util_n++;
    }
    for (const std::string& t : p.throttle)
      if (std::find(r->throttle.begin(), r->throttle.end(), t) == r->throttle.end()) r->throttle.push_back(t);
  }
  if (util_n) r->util_mean_pct = util_sum / util_n;
  if (r->integrated_j && r->ms > 0) r->mean_power_w = *r->integrated_j / (r->ms / 1000.0);
  if (r->counter_j) {
    r->energy_j = r->counter_j;
    r->method = "counter";
  } else if (r->integrated_j) {
    r->energy_j = r->integrated_j;
    r->method = "integrated-power";
  } else {
    r->reason = a->energy_mj || a->power_w ? "the energy counter went back and no power reading came during the reply"
                                           : "this GPU reports neither an energy counter nor power";
  }
  if (r->energy_j && r->tokens > 0) r->j_per_token = *r->energy_j / r->tokens;
}

Opt median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Opt median_of(const std::vector<Reply>& rs, Opt Reply::*f) {
  std::vector<double> v;
  for (const Reply& r : rs)
    if (r.*f) v.push_back(*(r.*f));
  return median(v);
}

std::string jnum(const Opt& v, const char* fmt = "%.6g") {
  if (!v || !std::isfinite(*v)) return "null";
  char b[48];
  std::snprintf(b, sizeof b, fmt, *v);
  return b;
}

std::string jlist(const std::vector<std::string>& v, const Cli& cli) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + cli.quote(s);
  return "[" + out + "]";
}

std::string sample_json(const std::optional<GpuSample>& s, const Cli& cli) {
  if (!s) return "null";
  std::string fans;
  for (double f : s->fans_pct) fans += (fans.empty() ? "" : ", ") + jnum(f);
  auto b = [](bool v) { return v ? "true" : "false"; };
  return "{\"index\": " + std::to_string(s->index) + ", \"name\": " + cli.quote(s->name) +
         ", \"uuid\": " + cli.quote(s->uuid) + ", \"power_w\": " + jnum(s->power_w) +
         ", \"power_avg_w\": " + jnum(s->power_avg_w) + ", \"energy_mj\": " + jnum(s->energy_mj, "%.0f") +
         ", \"power_limit_w\": " + jnum(s->power_limit_w) +
         ", \"power_limit_default_w\": " + jnum(s->power_limit_default_w) +
         ", \"power_limit_min_w\": " + jnum(s->power_limit_min_w) +
         ", \"power_limit_max_w\": " + jnum(s->power_limit_max_w) +
         ", \"power_limit_enforced_w\": " + jnum(s->power_limit_enforced_w) + ", \"temp_c\": " + jnum(s->temp_c) +
         ", \"temp_slowdown_c\": " + jnum(s->temp_slowdown_c) + ", \"temp_shutdown_c\": " + jnum(s->temp_shutdown_c) +
         ", \"temp_max_gpu_c\": " + jnum(s->temp_max_gpu_c) + ", \"fans_pct\": [" + fans +
         "], \"sm_clock_mhz\": " + jnum(s->sm_clock_mhz) + ", \"mem_clock_mhz\": " + jnum(s->mem_clock_mhz) +
         ", \"mem_used_mb\": " + jnum(s->mem_used_mb) + ", \"mem_total_mb\": " + jnum(s->mem_total_mb) +
         ", \"util_gpu_pct\": " + jnum(s->util_gpu_pct) + ", \"util_mem_pct\": " + jnum(s->util_mem_pct) +
         ", \"throttle\": " + jlist(s->throttle, cli) + ", \"processes\": " + std::to_string(s->processes.size()) +
         ", \"caps\": {\"read_power\": " + b(s->caps.read_power) +
         ", \"set_power_limit\": " + b(s->caps.set_power_limit) + ", \"set_fans\": " + b(s->caps.set_fans) + "}}";
}

std::string reply_json(const Reply& r, const Cli& cli) {
  return "{\"ms\": " + jnum(r.ms) + ", \"prefill_ms\": " + jnum(r.prefill_ms) + ", \"decode_ms\": " +
         jnum(r.decode_ms) + ", \"tokens\": " + std::to_string(r.tokens) + ", \"samples\": " +
         std::to_string(r.samples) + ", \"energy_j\": " + jnum(r.energy_j) + ", \"method\": " +
         (r.method.empty() ? "null" : cli.quote(r.method)) + ", \"counter_j\": " + jnum(r.counter_j) +
         ", \"integrated_j\": " + jnum(r.integrated_j) + ", \"j_per_token\": " + jnum(r.j_per_token) +
         ", \"mean_power_w\": " + jnum(r.mean_power_w) + ", \"peak_power_w\": " + jnum(r.peak_power_w) +
         ", \"peak_temp_c\": " + jnum(r.peak_temp_c) + ", \"sm_clock_min_mhz\": " + jnum(r.sm_clock_min_mhz) +
         ", \"sm_clock_max_mhz\": " + jnum(r.sm_clock_max_mhz) + ", \"util_mean_pct\": " + jnum(r.util_mean_pct) +
         ", \"throttle\": " + jlist(r.throttle, cli) +
         (r.reason.empty() ? std::string() : ", \"reason\": " + cli.quote(r.reason)) + "}";
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

int usage(const std::string& what) {
  std::fprintf(stderr, "keymate_bench: energy: %s\n%s", what.c_str(), kEnergyUsage);
  return 2;
}

}  // namespace

int energy_bench(int argc, char** argv, const Cli& cli) {
  // --json is the one flag without a value: main's parser takes only pairs.
  bool json = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; i++) {
    if (std::string(argv[i]) == "--json") json = true;
    else args.push_back(argv[i]);
  }
  const Options o = cli.parse_options(static_cast<int>(args.size()), args.data(), 0,
                                      {"model", "synthetic", "type", "seed", "backend", "weights", "kv", "threads",
                                       "context", "prompt-tokens", "gen-tokens", "replies", "gpu"});
  const bool has_model = o.count("model"), has_synth = o.count("synthetic");
  if (has_model == has_synth) return usage("give exactly one of --model FILE and --synthetic SHAPE");
  const long long prompt_tokens = cli.to_int(o, "prompt-tokens", 128);
  const long long gen_tokens = cli.to_int(o, "gen-tokens", 128);
  const long long replies = cli.to_int(o, "replies", 10);
  const long long gpu = cli.to_int(o, "gpu", 0);
  if (prompt_tokens < 1 || prompt_tokens > 1000000) return usage("--prompt-tokens must be 1 to 1000000");
  if (gen_tokens < 1 || gen_tokens > 1000000) return usage("--gen-tokens must be 1 to 1000000");
  if (replies < 1 || replies > 100000) return usage("--replies must be 1 to 100000");
  if (gpu < 0 || gpu > 63) return usage("--gpu must be an NVML index, 0 to 63");
  km::LoadOptions lo = cli.load_options(o);
  if (lo.context == 0) lo.context = static_cast<int>(prompt_tokens + gen_tokens);  // no cache larger than needed

  // NVML first: its reason is reported even when the model then fails to load.
  NvmlOpenResult opened;
  std::unique_ptr<Nvml> nvml = Nvml::open("", &opened);
  std::string nvml_reason = opened.reason;
  if (nvml && gpu >= nvml->gpus()) {
    nvml_reason = "NVML sees " + std::to_string(nvml->gpus()) + " GPU(s); --gpu " + std::to_string(gpu) + " is none";
    nvml.reset();
  }

  const double t_load = now_ms();
  std::unique_ptr<Engine> e =
      has_model ? Engine::load(o.at("model"), lo)
                : Engine::synthetic(o.at("synthetic"), cli.get(o, "type", "f16"),
                                    static_cast<uint64_t>(cli.to_int(o, "seed", 0)), lo);
  const double load_ms = now_ms() - t_load;
  Backend& b = e->backend();
  const ModelInfo info = e->info();
  const int n = static_cast<int>(prompt_tokens), gen = static_cast<int>(gen_tokens);
  if (n + gen - 1 > b.context())
    fail("energy: %d prompt + %d generated tokens do not fit the context of %d (give --context)", n, gen,
         b.context());

  std::vector<int32_t> prompt(static_cast<size_t>(n));
  Rng rng(kPromptSeed);
  for (auto& t : prompt) t = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(info.vocab));
  std::vector<float> logits(static_cast<size_t>(info.vocab));
  // One reply: prefill from position 0, then the greedy tokens; `gen` tokens
  // are picked, the last one without a forward pass nobody would read.
  auto reply = [&](Reply* r) {
    const double t0 = now_ms();
    b.forward(prompt.data(), n, 0, logits.data(), false);
    int32_t tok = argmax(logits);
    const double t1 = now_ms();
    for (int i = 1; i < gen; i++) {
      b.forward(&tok, 1, n + i - 1, logits.data(), false);
      tok = argmax(logits);
    }
    r->prefill_ms = t1 - t0;
    r->decode_ms = now_ms() - t1;
    r->tokens = gen;
  };

  Recorder rec(nvml.get(), static_cast<int>(gpu));
  std::optional<GpuSample> before, after;
  if (nvml) before = nvml->sample(static_cast<int>(gpu));  // the loaded model, idle; no thread runs yet
  Reply warm;
  reply(&warm);  // pages the weights in, spins threads up, fills the GPU's caches
  rec.start();
  std::vector<Reply> rs(static_cast<size_t>(replies));
  for (Reply& r : rs) {
    const std::optional<Point> a = rec.edge(true);
    const double t0 = now_ms();
    reply(&r);
    r.ms = now_ms() - t0;
    const std::optional<Point> z = rec.edge(false);
    measure(&r, a, z, a && z ? rec.between(a->t_ms, z->t_ms) : std::vector<Point>{});
    if (!nvml) r.reason = "NVML not available: " + nvml_reason;
  }
  rec.stop();
  if (nvml) after = nvml->sample(static_cast<int>(gpu));

  // The method of the whole run: one name when every reply used it.
  std::string method = rs[0].method, reason;
  for (const Reply& r : rs) {
    if (r.method != method) method = "mixed";
    if (reason.empty()) reason = r.reason;  // the first reply without energy says why
  }
  if (!rec.error().empty()) reason += (reason.empty() ? "" : "; ") + rec.error();
  std::vector<double> tok_s;
  for (const Reply& r : rs)
    if (r.decode_ms > 0 && gen > 1) tok_s.push_back((gen - 1) / (r.decode_ms / 1000.0));
  std::vector<double> durations;
  for (const Reply& r : rs) durations.push_back(r.ms);

  if (json) {
    std::string rows;
    for (const Reply& r : rs) rows += (rows.empty() ? "" : ", ") + reply_json(r, cli);
    std::printf(
        "{\"backend\": %s, \"device\": %s, \"model\": {\"path\": %s, \"name\": %s, \"parameters\": %llu, "
        "\"weights\": %s, \"kv\": %s}, \"prompt_tokens\": %d, \"gen_tokens\": %d, \"replies\": %d, "
        "\"warmup_replies\": 1, \"load_ms\": %s, \"sample_interval_ms\": %s, "
        "\"nvml\": {\"available\": %s, \"reason\": %s, \"library\": %s, \"driver\": %s, \"gpus\": %d, \"gpu\": %lld, "
        "\"missing\": %s}, \"energy_method\": %s, \"energy_reason\": %s, "
        "\"median\": {\"ms\": %s, \"decode_tok_s\": %s, \"energy_j\": %s, \"counter_j\": %s, \"integrated_j\": %s, "
        "\"j_per_token\": %s, \"mean_power_w\": %s, \"peak_power_w\": %s, \"peak_temp_c\": %s}, "
        "\"before\": %s, \"after\": %s, \"per_reply\": [%s]}\n",
        cli.quote(b.name()).c_str(), cli.quote(b.device()).c_str(), cli.quote(info.path).c_str(),
        cli.quote(info.name).c_str(), static_cast<unsigned long long>(info.parameters),
        cli.quote(info.weights).c_str(), cli.quote(info.kv).c_str(), n, gen, static_cast<int>(replies),
        jnum(load_ms).c_str(), jnum(kSampleMs).c_str(), nvml ? "true" : "false", cli.quote(nvml_reason).c_str(),
        cli.quote(opened.library).c_str(), cli.quote(opened.driver).c_str(), opened.gpus, gpu,
        jlist(opened.missing, cli).c_str(), method.empty() ? "null" : cli.quote(method).c_str(),
        reason.empty() ? "null" : cli.quote(reason).c_str(), jnum(median(durations)).c_str(),
        jnum(median(tok_s)).c_str(), jnum(median_of(rs, &Reply::energy_j)).c_str(),
        jnum(median_of(rs, &Reply::counter_j)).c_str(), jnum(median_of(rs, &Reply::integrated_j)).c_str(),
        jnum(median_of(rs, &Reply::j_per_token)).c_str(), jnum(median_of(rs, &Reply::mean_power_w)).c_str(),
        jnum(median_of(rs, &Reply::peak_power_w)).c_str(), jnum(median_of(rs, &Reply::peak_temp_c)).c_str(),
        sample_json(before, cli).c_str(), sample_json(after, cli).c_str(), rows.c_str());
    return 0;
  }

  auto t = [](const Opt& v, const char* fmt = "%.2f") {
    if (!v) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, *v);
    return std::string(buf);
  };
  std::printf("energy: %d replies of %d prompt + %d generated tokens on %s (%s)\n", static_cast<int>(replies), n, gen,
              b.name().c_str(), b.device().c_str());
  if (!nvml) {
    std::printf("NVML not available: %s; energy is not measured\n", nvml_reason.c_str());
  } else {
    for (const auto* s : {&before, &after}) {
      if (!*s) continue;
      const GpuSample& g = **s;
      std::printf("%s: %s, power %s W (avg %s W), limit %s W (default %s, range %s-%s, enforced %s), "
                  "%s C (slowdown %s, shutdown %s), SM %s MHz\n",
                  s == &before ? "before" : "after ", g.name.c_str(), t(g.power_w).c_str(),
                  t(g.power_avg_w).c_str(), t(g.power_limit_w, "%.0f").c_str(),
                  t(g.power_limit_default_w, "%.0f").c_str(), t(g.power_limit_min_w, "%.0f").c_str(),
                  t(g.power_limit_max_w, "%.0f").c_str(), t(g.power_limit_enforced_w, "%.0f").c_str(),
                  t(g.temp_c, "%.0f").c_str(), t(g.temp_slowdown_c, "%.0f").c_str(),
                  t(g.temp_shutdown_c, "%.0f").c_str(), t(g.sm_clock_mhz, "%.0f").c_str());
    }
  }
  std::printf("%5s %9s %7s %10s %10s %9s %8s %8s %7s\n", "reply", "ms", "samples", "counter J", "power J",
              "J/token", "mean W", "peak W", "peak C");
  for (size_t i = 0; i < rs.size(); i++) {
    const Reply& r = rs[i];
    std::printf("%5zu %9.1f %7d %10s %10s %9s %8s %8s %7s\n", i + 1, r.ms, r.samples, t(r.counter_j, "%.3f").c_str(),
                t(r.integrated_j, "%.3f").c_str(), t(r.j_per_token, "%.4f").c_str(), t(r.mean_power_w).c_str(),
                t(r.peak_power_w).c_str(), t(r.peak_temp_c, "%.0f").c_str());
  }
  std::printf("%5s %9s %7s %10s %10s %9s %8s %8s %7s\n", "med", t(median(durations), "%.1f").c_str(), "",
              t(median_of(rs, &Reply::counter_j), "%.3f").c_str(),
              t(median_of(rs, &Reply::integrated_j), "%.3f").c_str(),
              t(median_of(rs, &Reply::j_per_token), "%.4f").c_str(), t(median_of(rs, &Reply::mean_power_w)).c_str(),
              t(median_of(rs, &Reply::peak_power_w)).c_str(), t(median_of(rs, &Reply::peak_temp_c), "%.0f").c_str());
  std::printf("energy from: %s%s%s\n", method.empty() ? "nothing" : method.c_str(), reason.empty() ? "" : " - ",
              reason.c_str());
  return 0;
}

}  // namespace km::bench
