// The engine's public API: the one surface the N-API addon, the tests and the
// benchmark executable use. Plain C++ types only; JSON belongs to callers.
// Every call may throw km::Error with a message a user can act on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keymate/backend.h"

namespace km {

class Tokenizer;
class Sampler;
class Error;
struct KvStateHeader;

struct LoadOptions {
  std::string backend = "auto";  // auto | cpu | cuda
  int threads = 0;               // 0 = physical cores
  int context = 0;               // 0 = min(model context, 4096)
  // Formats the weights are converted to at load and the KV cache is held in:
  // a name from weight_formats() / kv_formats() (aliases allowed: int4 ->
  // int4-g32). "native" runs the types stored in the file.
  std::string weights = "native";
  std::string kv = "f16";
  bool profile = false;
  // Importance-aware scale search (native/src/quant/calibrate.h): "auto"
  // (the 4-bit formats measure it on the built-in calibration text, once per
  // model), "off", or the path of an imatrix GGUF (llama-imatrix's format).
  std::string imatrix = "auto";
  std::string imatrix_cache;     // auto: the folder results are kept in ("" = measure at every load)
  std::string calibration_text;  // auto: the text to measure on instead of the built-in one
};

struct SamplingParams {
  float temperature = 0.8f;  // 0 = greedy
  int top_k = 40;            // 0 = off
  float top_p = 0.95f;       // 1 = off
  float min_p = 0.05f;       // 0 = off
  float repeat_penalty = 1.0f;  // 1 = off
  int repeat_last_n = 64;
  uint64_t seed = 0;
};

struct GenerateRequest {
  std::string prompt;
  int max_tokens = 128;
  SamplingParams sampling;
  bool add_bos = true;       // as the model's metadata says; false to continue raw text
  bool parse_special = true;
  const std::atomic<bool>* cancel = nullptr;  // set to stop between tokens
};

struct TokenEvent {
  int32_t token;
  std::string text;  // complete UTF-8 only: partial characters wait for the next token
  int index;         // 0-based among generated tokens
  double t_ms;       // since the request started
};

struct GenerateResult {
  std::string completion;  // generated text only
  std::vector<int32_t> tokens;  // generated token ids
  int prompt_tokens = 0;
  int cached_tokens = 0;    // leading prompt tokens whose K/V were reused from the last request
  double ttft_ms = 0;       // request start -> first token sampled
  double prefill_ms = 0;    // request start -> prompt run and first token picked (one program when sampled on the device)
  double decode_tok_s = 0;  // tokens after the first / their time
  std::string stop;         // "eos" | "length" | "cancelled" | "context"
  // Non-empty when the CUDA backend failed during this request and the engine
  // finished it on the CPU (re-prefilling the cache): why, in words.
  std::string fallback;
  // Per decoded token, measured by the backend: only when the engine was loaded
  // with profile on (it adds a barrier per stage) and at least one token was decoded.
  bool profiled = false;
  StageTimes stages_ms;
};

struct ModelInfo {
  std::string path;
  std::string architecture;
  std::string name;
  uint64_t parameters = 0;
  uint64_t weight_bytes = 0;
  std::map<std::string, int> tensor_types;  // "q8_0" -> number of tensors
  int context_length = 0;
  int vocab = 0;
  int dim = 0, layers = 0, heads = 0, kv_heads = 0, ffn = 0;
  std::string tokenizer;  // "llama" | "gpt2"
  std::string chat_template;  // tokenizer.chat_template (Jinja), "" when the file has none
  std::string bos_token, eos_token;  // their texts, which chat templates refer to; "" if none
  std::string weights;    // the weight format as loaded (canonical name, e.g. "int4-g32")
  std::string kv;         // the KV cache format (canonical name)
  std::string importance; // where the scale search's importance came from, in words ("none ..." when unweighted)
  std::string backend;    // the backend running the model now: "cpu" | "cuda"
  // Non-empty when CUDA was chosen but the engine runs on the CPU: why (a
  // failure at load, or during a forward pass), in words.
  std::string backend_fallback;
};

// One row of the format table (--weights / --kv names), in the engine's order.
struct FormatInfo {
  std::string name;     // "int4-g32"
  std::string same_as;  // for an alias ("int4"), the name it stands for; else ""
  double bits = 0;      // bits per weight (per cached element for KV), group scales included; 0 for native
  std::string about;    // one line for people
};
std::vector<FormatInfo> weight_formats();
std::vector<FormatInfo> kv_formats();

// What a model takes in memory in given formats, and whether it fits a GPU
// (see src/memory_plan.h for what each term counts).
struct MemoryPlan {
  std::string weights, kv;           // canonical format names
  int context = 0;                   // tokens the KV cache is planned for
  uint64_t weights_bytes = 0;        // every weight as the format holds it
  uint64_t kv_bytes_per_token = 0;   // K and V of all layers, scales included
  uint64_t kv_bytes = 0;             // kv_bytes_per_token * context
  uint64_t activation_bytes = 0;     // forward-pass buffers for one prefill batch
  uint64_t reserve_bytes = 0;        // the runtime's own (CUDA context, workspaces)
  uint64_t total_bytes = 0;          // the four above
  uint64_t vram_bytes = 0;           // the memory planned against; 0 = none given
  bool fits = false;                 // total_bytes <= vram_bytes
  int max_context = 0;               // longest context (<= the model's) that fits vram_bytes; 0 = none
};

// The plan for a GGUF file that is not loaded: only its header is read, no
// weight is converted. weights/kv: format names; context 0 = the model's.
MemoryPlan plan_memory(const std::string& path, const std::string& weights, const std::string& kv, int context,
                       uint64_t vram_bytes);

// A llama-family model known only by its shape (one not downloaded yet, in
// the recommended list): its matrices stored as `file_type` in the file,
// norms f32. Planned exactly as plan_memory plans a file of these tensors.
struct ModelShape {
  int layers = 0, dim = 0, heads = 0, kv_heads = 0, ffn = 0, vocab = 0;
  int head_dim = 0;  // attention head size; 0: dim / heads (Qwen3 and Gemma 3 differ)
  int context = 0;            // the trained context
  bool tied_output = false;   // no output.weight: the embedding doubles as it
  std::string file_type = "f16";  // a ggml type name: "f16", "q8_0", "q4_K", ...
};
MemoryPlan plan_shape(const ModelShape& shape, const std::string& weights, const std::string& kv, int context,
                      uint64_t vram_bytes);

// keymate eval: the llama.cpp perplexity protocol (chunks of ctx tokens, each
// starting with BOS when the model adds one, the second half of each chunk
// scored) run on this engine and on the unquantized reference (the file's own
// weights, f16 KV), compared token by token.
struct EvalRequest {
  std::string text;
  int ctx = 128;        // tokens per chunk
  int max_chunks = 0;   // 0 = every whole chunk of the text
  // The reference model: "" = this engine's own file with its stored weights;
  // or another GGUF of the same vocabulary (e.g. the F32 original of a
  // quantized file), run with its stored weights and an f16 cache.
  std::string reference;
  const std::atomic<bool>* cancel = nullptr;           // checked between chunks
  std::function<void(int done, int total)> on_chunk;   // progress, on the calling thread
};

struct EvalResult {
  double kld_mean = 0;        // mean KL(reference || this), nats per scored token
  double kld_p99 = 0;         // 99th percentile (llama.cpp's interpolation)
  double kld_median = 0;
  double kld_max = 0;
  double top1_agreement = 0;  // fraction of scored tokens whose argmax is the reference's
  double ppl = 0;             // perplexity of this engine on the scored tokens
  double ppl_ref = 0;         // the reference's
  int tokens = 0;             // scored tokens
  int chunks = 0;
  int ctx = 0;
  int text_tokens = 0;        // tokens of the whole text (BOS included)
  std::string weights, kv;    // canonical format names
  bool cancelled = false;     // stopped early by cancel: the numbers cover the chunks done
  double ms = 0;
};

struct BenchRequest {
  int prompt_tokens = 128;
  int gen_tokens = 32;
  int repeat = 5;
  ExecPath path = ExecPath::Launch;  // the GPU path to time (backend.h)
};

struct Stat { double min = 0, median = 0, p90 = 0; };

struct BenchResult {
  std::string backend, device;
  ExecPath path = ExecPath::Launch;
  int prompt_tokens = 0, gen_tokens = 0, repeat = 0, threads = 0;
  Stat ttft_ms;
  double prefill_tok_s = 0;
  double decode_tok_s = 0;
  double decode_ms_per_token = 0;
  StageTimes stages_ms;  // per decoded token, measured with profile on
  double bound_ms = 0;   // bytes read per decoded token / measured memory bandwidth
  double bandwidth_gb_s = 0;
};

// What Engine::save_state wrote or load_state read.
struct StateInfo {
  int tokens = 0;      // positions whose K/V the file holds (the prefix cache's tokens)
  uint64_t bytes = 0;  // the file's size
};

struct CudaDevice {
  std::string name;
  int cc = 0;
  uint64_t memory_mb = 0;
  std::string driver;
  bool display_watchdog = false;  // drives a display: the driver ends long kernels (no zero-launch path)
};

struct BackendReport {
  struct { bool available = true; std::string simd; int threads = 0; } cpu;
  struct {
    bool compiled = false;
    std::vector<int> archs;
    bool available = false;
    std::string reason;
    std::vector<CudaDevice> devices;
  } cuda;
};

// What this build and machine can run (keymate info).
BackendReport probe_backends();

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::string& path, const LoadOptions& opts);
  // A seeded random model of a named shape (see synth.h), built in memory.
  static std::unique_ptr<Engine> synthetic(const std::string& shape, const std::string& type,
                                           uint64_t seed, const LoadOptions& opts);
  ~Engine();

  ModelInfo info() const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  Backend& backend() { return *backend_; }
  const Model& model() const { return *model_; }

  // Tokenizes, prefills and samples until EOS, max_tokens, the context end or
  // cancel. on_token runs on the calling thread after each token. The KV cache
  // is kept between requests: a prompt sharing a prefix with the previous
  // request's tokens prefills only the rest (max_tokens 0 just warms the cache).
  GenerateResult generate(const GenerateRequest& req,
                          const std::function<void(const TokenEvent&)>& on_token);

  // Logits [vocab] after running `tokens` from position 0 (tests, eval).
  std::vector<float> logits(const std::vector<int32_t>& tokens, bool all_positions = false);

  BenchResult bench(const BenchRequest& req);

  // The prefix cache to a file and back (the format: src/kv_state.h), so a
  // conversation left for another one, or for a restart, continues without
  // re-reading it. save_state writes the tokens the cache holds and their K/V
  // atomically (a temporary file beside `path`, then a rename). load_state
  // checks the whole file first (format, checksum, the model and formats it
  // was written with, that it fits the context) and on any mismatch throws one
  // line naming it, the cache as it was; once loaded, a generate() whose
  // prompt starts with the file's tokens prefills only the rest. A file
  // loads into either backend, whichever wrote it, in the same KV format.
  StateInfo save_state(const std::string& path);
  StateInfo load_state(const std::string& path);

  // The memory plan of this engine's model in its formats, weights as held.
  // context 0 = the engine's context.
  MemoryPlan plan(int context, uint64_t vram_bytes) const;

  // KLD, top-1 agreement and perplexity against the unquantized model (see
  // EvalRequest). Throws km::Error when the text is shorter than two chunks.
  EvalResult eval(const EvalRequest& req);

  // Pacing, the thermal policy's brake where the driver cannot be told to cap
  // power: generate() waits so that each decoded token takes at least `ms`
  // (0 = off, at most kMaxPacingMs). Any thread may call it while generate()
  // runs; the next token obeys it. bench() ignores it: it measures hardware.
  static constexpr double kMaxPacingMs = 60000;
  void set_pacing(double ms);
  double pacing() const { return pacing_ms_.load(std::memory_order_relaxed); }

 private:
  Engine();
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Backend> backend_;
  LoadOptions opts_;
  std::vector<int32_t> kv_tokens_;  // tokens whose K/V sit in the cache at positions 0..n-1
  std::string importance_;  // ModelInfo::importance
  std::string fallback_;  // why the engine left the CUDA backend for the CPU; "" if it did not
  uint64_t model_hash_ = 0;  // kv_state_model_hash, computed at the first save or load; 0 = not yet
  // This engine's model and formats, as a state file's header names them.
  KvStateHeader state_identity();
  // backend_->forward(), falling back to the CPU when the CUDA backend fails:
  // history[0..pos) are the tokens whose K/V the cache holds, re-prefilled on
  // the CPU. Returns the failure's message on a fallback, else "".
  std::string forward(const int32_t* history, const int32_t* tokens, int n, int pos, float* logits, bool all);
  // forward() of tokens, then the token after them: picked on the device
  // where the backend can (4 bytes cross to the host instead of the logits,
  // and no host sort), else by `sampler` from `logits` [vocab]. The same draw
  // either way. `fell` as forward()'s return.
  int32_t step(const int32_t* history, const int32_t* tokens, int n, int pos, Sampler& sampler, float* logits,
               std::string& fell);
  // The CUDA backend threw `e`: switch to the CPU, whose cache is rebuilt
  // from history[0..pos).
  void recover(const Error& e, const int32_t* history, int pos);
  void fall_back_to_cpu(const std::string& why);
  bool host_sampling_ = false;  // KEYMATE_HOST_SAMPLING=1: never sample on the device (tests compare the two)
  std::atomic<double> pacing_ms_{0};  // see set_pacing
};

}  // namespace km
