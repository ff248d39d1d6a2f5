// The backend interface: chosen once when a model is loaded, then every token
// goes through it. The CPU backend always exists and is the oracle the CUDA
// backend is tested against.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "keymate/model.h"

namespace km {

// Per-stage wall time of the forward passes since the last reset_stats(), in ms.
struct StageTimes {
  double embed = 0, qkv = 0, attention = 0, ffn = 0, logits = 0, other = 0;
};

// How the CUDA backend runs a step (launch, graph, zero-launch); the CPU backend ignores it.
//   Launch      a kernel per op
//   Graph       the step's kernels captured once into a CUDA graph, replayed
//   ZeroLaunch  a persistent kernel armed at load waits on a doorbell
enum class ExecPath { Launch, Graph, ZeroLaunch };

// The paths by the names the command lines, the addon and bench results give them: the one
// place a name becomes an ExecPath and back.
struct ExecPathName {
  ExecPath path;
  const char* name;
};
inline constexpr ExecPathName kExecPathNames[] = {
    {ExecPath::Launch, "launch"}, {ExecPath::Graph, "graph"}, {ExecPath::ZeroLaunch, "zero-launch"}};
// "launch, graph, zero-launch": for messages that list the choices.
inline std::string exec_path_choices() {
  std::string list;
  for (const ExecPathName& e : kExecPathNames) list += (list.empty() ? "" : ", ") + std::string(e.name);
  return list;
}

inline const char* exec_path_name(ExecPath p) {
  for (const ExecPathName& e : kExecPathNames)
    if (e.path == p) return e.name;
  return "launch";
}

// False (and `out` untouched) when `name` names no path.
inline bool exec_path_named(const std::string& name, ExecPath& out) {
  for (const ExecPathName& e : kExecPathNames) {
    if (name == e.name) {
      out = e.path;
      return true;
    }
  }
  return false;
}

// The input rows of each matrix multiply of the forward pass, as the matrix
// sees them (after the RMSNorm or the gated activation fused into it): what
// importance-aware quantization measures (native/src/quant/calibrate.h).
// Which weights read each input:
enum class MatSite {
  AttnIn,     // wq, wk, wv: the normed residual [dim]
  AttnOut,    // wo: the attention output [n_heads * head_dim]
  FfnIn,      // w_gate, w_up: the normed residual [dim]
  FfnDownIn,  // w_down: act(gate) * up [ffn_dim]
  Output,     // output: the final norm [dim]
};
class MatInputObserver {
 public:
  virtual ~MatInputObserver() = default;
  // n rows of `cols` floats, `ld` apart; layer is -1 for Output. Called from
  // one thread at a time, inside the forward pass.
  virtual void rows(int layer, MatSite site, const float* x, int n, int64_t cols, int64_t ld) = 0;
};

struct BackendOptions {
  int threads = 0;     // CPU worker threads; 0 = physical cores
  int context = 0;     // KV cache length in tokens; 0 = min(model context, 4096)
  bool profile = false;  // collect StageTimes (adds a barrier per stage)
  KvType kv = KvType::F16;  // KV cache format (keymate/formats_run.h)
  ExecPath path = ExecPath::Launch;
  // CPU backend only: shown every matmul input of every forward pass
  // (make_backend refuses it for another backend). Null but while calibrating.
  MatInputObserver* observer = nullptr;
};

// Sampling the last token on the device (the CUDA backend): the host
// sampler's settings (native/src/sampler.h) and the uniform number its draw
// would take, so both pick the same token.
struct DeviceSample {
  float temperature = 0.f;  // <= 0: greedy
  int top_k = 0;
  float top_p = 1.f;
  float min_p = 0.f;
  double uniform = 0;       // in [0, 1)
};

// The KV state of positions [0, n): one layout for every backend, so a state
// read from one backend writes into another that runs the same KV format (the
// payload of a .kmkv file, native/src/kv_state.h). For each layer in order,
// arrays back to back with no padding, elements as the KV format stores them
// (keymate/formats_run.h):
//   K quants  [n_kv_heads][n][head_dim]   kv_elem_bytes(kv) each
//   K scales  [n_kv_heads][n]             fp16; INT8 only, absent otherwise
//   V quants  [n_kv_heads][n][head_dim]
//   V scales  [n_kv_heads][n]             INT8 only
// Head-major as the CPU cache is, cut at n: the CPU copies one run per head,
// the CUDA backend regathers its pages on the host.
struct KvStateLayout {
  int n_layers = 0;
  uint64_t quants = 0;  // one layer's K (or V) quants
  uint64_t scales = 0;  // one layer's K (or V) scales; 0 when the format has none
  uint64_t layer() const { return 2 * (quants + scales); }
  uint64_t total() const { return layer() * static_cast<uint64_t>(n_layers); }
  // Offsets of layer l's arrays from the start of the state.
  uint64_t k_quants(int l) const { return layer() * static_cast<uint64_t>(l); }
  uint64_t k_scales(int l) const { return k_quants(l) + quants; }
  uint64_t v_quants(int l) const { return k_scales(l) + scales; }
  uint64_t v_scales(int l) const { return v_quants(l) + quants; }
};

inline KvStateLayout kv_state_layout(const Config& c, KvType kv, int n) {
  KvStateLayout s;
  s.n_layers = c.n_layers;
  const uint64_t vectors = static_cast<uint64_t>(c.n_kv_heads) * static_cast<uint64_t>(n);
  s.quants = vectors * static_cast<uint64_t>(c.head_dim) * kv_elem_bytes(kv);
  s.scales = kv_has_scales(kv) ? vectors * sizeof(uint16_t) : 0;
  return s;
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;    // "cpu", "cuda"
  virtual std::string device() const = 0; // "AMD EPYC ... (2 threads, avx2)", "NVIDIA H100"
  virtual int context() const = 0;         // KV cache capacity in tokens

  // Runs tokens[0..n) at positions pos..pos+n-1, appending their K/V to the
  // cache (entries at >= pos are overwritten). Writes logits [vocab] of the
  // last token to `logits`, or [n, vocab] when all_logits. Throws km::Error if
  // pos + n exceeds the context.
  virtual void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) = 0;

  // forward() of the last token's logits, then the next token picked on the
  // device with `s`. Returns -1, having run nothing, when this backend cannot
  // sample these settings on the device (the caller then runs forward() and
  // samples on the host). `logits` [vocab] may be null.
  virtual int32_t forward_sample(const int32_t* /*tokens*/, int /*n*/, int /*pos*/, const DeviceSample& /*s*/,
                                 float* /*logits*/) {
    return -1;
  }

  // The K/V of positions [0, n) in the KvStateLayout above (0 <= n <=
  // context(), else km::Error): its size, a copy out of the cache, and a copy
  // into it. After write_kv, positions >= n hold nothing a caller may use.
  virtual uint64_t kv_bytes(int n) const = 0;
  virtual void read_kv(int n, uint8_t* out) const = 0;
  virtual void write_kv(int n, const uint8_t* in) = 0;

  virtual StageTimes stats() const = 0;
  virtual void reset_stats() = 0;
};

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model, const BackendOptions& opts);

}  // namespace km
