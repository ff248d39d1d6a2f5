// keymate_bench: the engine's benchmark without Node, for bare GPU machines
// and for comparisons with llama-bench. One JSON object on stdout; errors are
// one line on stderr ("keymate_bench: <what>: <what is wrong>", exit 1), bad
// usage exits 2.
//
//   keymate_bench (--model F | --synthetic SHAPE [--type T] [--seed S]) [--prompt-tokens 128]
//                 [--gen-tokens 32] [--repeat 5] [--threads N] [--context N] [--backend auto|cpu|cuda]
//                 [--weights W] [--kv K] [--path launch|graph|zero-launch]
//   keymate_bench synth --shape SHAPE --out FILE.gguf [--type f16] [--seed 0] [--vocab PATH]
//   keymate_bench generate --model F --prompt TEXT [--max-tokens 64] [--temperature 0] [--seed 0]
//   keymate_bench info
//   keymate_bench eval --model F --text FILE [--weights W] [--kv K] [--ctx 128] [--chunks N] [--threads N]
//                      [--reference F32.gguf] [--imatrix auto|off|FILE] [--imatrix-cache DIR] [--calibration TEXT]
//   keymate_bench imatrix (--model F | --synthetic SHAPE [--type T]) [--calibration TEXT] [--tokens N]
//                         [--threads N] [--covariance on|off] [--out FILE.gguf]
//   keymate_bench plan --model F [--weights W] [--kv K] [--context N] [--vram-mb M]
//   keymate_bench formats
//   keymate_bench doorbell [--rings 10000] [--warmup 200] [--json]
//   keymate_bench gpu-kernels [--json] [--iters 100] [--formats fp8,...] [--shapes 7b,1b]
//   keymate_bench sampling [--vocab 32000,128256] [--ms 300]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "cpu_kernels.h"
#include "gpu_kernels.h"
#include "doorbell.h"
#include "energy.h"
#include "sampling.h"
#include "keymate/engine.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/model.h"
#include "keymate/tokenizer.h"
#include "quant/calibrate.h"
#include "synth.h"
#include "timer.h"

namespace {

struct Usage {
  std::string what;
};

const char* kUsage =
    "usage: keymate_bench (--model FILE | --synthetic SHAPE [--type f16] [--seed 0]) [--prompt-tokens 128]\n"
    "                     [--gen-tokens 32] [--repeat 5] [--threads N] [--context N] [--backend auto|cpu|cuda]\n"
    "                     [--weights W] [--kv K] [--path launch|graph|zero-launch]\n"
    "       keymate_bench synth --shape SHAPE --out FILE.gguf [--type f16] [--seed 0] [--vocab PATH]\n"
    "       keymate_bench generate --model FILE --prompt TEXT [--max-tokens 64] [--temperature 0] [--seed 0]\n"
    "       keymate_bench info\n"
    "       keymate_bench eval --model FILE --text FILE [--weights W] [--kv K] [--ctx 128] [--chunks N] [--threads N]\n"
    "                          [--reference FILE] [--imatrix auto|off|FILE] [--imatrix-cache DIR] [--calibration TEXT]\n"
    "       keymate_bench imatrix (--model FILE | --synthetic SHAPE [--type f16]) [--calibration TEXT] [--tokens N]\n"
    "                             [--threads N] [--covariance on|off] [--out FILE.gguf]\n"
    "       keymate_bench plan --model FILE [--weights W] [--kv K] [--context N] [--vram-mb M]\n"
    "       keymate_bench formats\n"
    "       keymate_bench cpu-kernels [--rows 2048] [--cols 768] [--tokens 1,128] [--types q8_0,...] [--ms 300]\n"
    "                            [--threads 1]\n"
    "       keymate_bench gpu-kernels [--json] [--iters 100] [--formats fp8,int8-g32,...] [--shapes 7b,1b]\n"
    "       keymate_bench doorbell [--rings 10000] [--warmup 200] [--json]\n"
    "       keymate_bench sampling [--vocab 32000,128256] [--ms 300]\n"
    "       keymate_bench energy (--model FILE | --synthetic SHAPE) [--backend B] [--prompt-tokens 128] [--gen-tokens 128]\n"
    "                            [--replies 10] [--gpu 0] [--json]\n";

// --key value pairs; every option takes a value.
std::map<std::string, std::string> parse_options(int argc, char** argv, int first,
                                                 const std::vector<std::string>& known) {
  std::map<std::string, std::string> o;
  for (int i = first; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw Usage{"unexpected argument '" + a + "'"};
    a = a.substr(2);
    bool ok = false;
    for (const auto& k : known) ok = ok || k == a;
    if (!ok) throw Usage{"unknown option --" + a};
    if (i + 1 >= argc) throw Usage{"--" + a + " needs a value"};
    o[a] = argv[++i];
  }
  return o;
}

long long to_int(const std::map<std::string, std::string>& o, const std::string& k, long long fallback) {
  auto it = o.find(k);
  if (it == o.end()) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end) throw Usage{"--" + k + " needs an integer, not '" + it->second + "'"};
  return v;
}

double to_float(const std::map<std::string, std::string>& o, const std::string& k, double fallback) {
  auto it = o.find(k);
  if (it == o.end()) return fallback;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end) throw Usage{"--" + k + " needs a number, not '" + it->second + "'"};
  return v;
}

std::string get(const std::map<std::string, std::string>& o, const std::string& k, const std::string& fallback) {
  auto it = o.find(k);
  return it == o.end() ? fallback : it->second;
}

// ---- a minimal JSON writer ---------------------------------------------------
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string model_json(const km::ModelInfo& m) {
  std::string types;
  for (const auto& [k, v] : m.tensor_types) types += (types.empty() ? "" : ", ") + quote(k) + ": " + std::to_string(v);
  return "{\"path\": " + quote(m.path) + ", \"name\": " + quote(m.name) + ", \"architecture\": " +
         quote(m.architecture) + ", \"parameters\": " + std::to_string(m.parameters) +
         ", \"weight_bytes\": " + std::to_string(m.weight_bytes) + ", \"tensor_types\": {" + types +
         "}, \"dim\": " + std::to_string(m.dim) + ", \"layers\": " + std::to_string(m.layers) +
         ", \"heads\": " + std::to_string(m.heads) + ", \"kv_heads\": " + std::to_string(m.kv_heads) +
         ", \"ffn\": " + std::to_string(m.ffn) + ", \"vocab\": " + std::to_string(m.vocab) +
         ", \"weights\": " + quote(m.weights) + ", \"kv\": " + quote(m.kv) + "}";
}

km::LoadOptions load_options(const std::map<std::string, std::string>& o) {
  km::LoadOptions lo;
  lo.backend = get(o, "backend", lo.backend);
  lo.threads = static_cast<int>(to_int(o, "threads", 0));
  lo.context = static_cast<int>(to_int(o, "context", 0));
  lo.weights = get(o, "weights", lo.weights);
  lo.kv = get(o, "kv", lo.kv);
  return lo;
}

int cmd_bench(int argc, char** argv) {
  const auto o = parse_options(argc, argv, 1,
                               {"model", "synthetic", "type", "seed", "prompt-tokens", "gen-tokens", "repeat",
                                "threads", "context", "backend", "weights", "kv", "path"});
  const bool has_model = o.count("model"), has_synth = o.count("synthetic");
  if (has_model == has_synth) throw Usage{"give exactly one of --model FILE and --synthetic SHAPE"};
  km::LoadOptions lo = load_options(o);
  km::BenchRequest req;
  req.prompt_tokens = static_cast<int>(to_int(o, "prompt-tokens", req.prompt_tokens));
  req.gen_tokens = static_cast<int>(to_int(o, "gen-tokens", req.gen_tokens));
  req.repeat = static_cast<int>(to_int(o, "repeat", req.repeat));
  const std::string path = get(o, "path", km::exec_path_name(req.path));
  if (!km::exec_path_named(path, req.path))
    throw Usage{"--path must be one of " + km::exec_path_choices() + ", not '" + path + "'"};
  if (req.path != km::ExecPath::Launch && lo.backend == "cpu")
    throw Usage{"--path " + path + " needs the CUDA backend (--backend cuda or auto)"};
  if (lo.context == 0) lo.context = req.prompt_tokens + req.gen_tokens;  // no KV cache larger than needed

  const double t0 = km::now_ms();
  std::unique_ptr<km::Engine> e =
      has_model ? km::Engine::load(o.at("model"), lo)
                : km::Engine::synthetic(o.at("synthetic"), get(o, "type", "f16"),
                                        static_cast<uint64_t>(to_int(o, "seed", 0)), lo);
  const double load_ms = km::now_ms() - t0;
  const km::BenchResult r = e->bench(req);
  const km::StageTimes& s = r.stages_ms;
  std::printf(
      "{\"backend\": %s, \"device\": %s, \"path\": %s, \"prompt_tokens\": %d, \"gen_tokens\": %d, "
      "\"repeat\": %d, \"threads\": %d, \"ttft_ms\": {\"min\": %s, \"median\": %s, \"p90\": %s}, "
      "\"prefill_tok_s\": %s, \"decode_tok_s\": %s, \"decode_ms_per_token\": %s, "
      "\"stages_ms\": {\"embed\": %s, \"qkv\": %s, \"attention\": %s, \"ffn\": %s, \"logits\": %s, \"other\": %s}, "
      "\"bound_ms\": %s, \"bandwidth_gb_s\": %s, \"load_ms\": %s, \"model\": %s}\n",
      quote(r.backend).c_str(), quote(r.device).c_str(), quote(km::exec_path_name(r.path)).c_str(), r.prompt_tokens, r.gen_tokens,
      r.repeat, r.threads, num(r.ttft_ms.min).c_str(), num(r.ttft_ms.median).c_str(), num(r.ttft_ms.p90).c_str(),
      num(r.prefill_tok_s).c_str(), num(r.decode_tok_s).c_str(), num(r.decode_ms_per_token).c_str(),
      num(s.embed).c_str(), num(s.qkv).c_str(), num(s.attention).c_str(), num(s.ffn).c_str(), num(s.logits).c_str(),
      num(s.other).c_str(), num(r.bound_ms).c_str(), num(r.bandwidth_gb_s).c_str(), num(load_ms).c_str(),
      model_json(e->info()).c_str());
  return 0;
}

int cmd_synth(int argc, char** argv) {
  const auto o = parse_options(argc, argv, 2, {"shape", "out", "type", "seed", "vocab", "threads"});
  if (!o.count("shape") || !o.count("out")) throw Usage{"synth needs --shape SHAPE and --out FILE.gguf"};
  km::SynthOptions so;
  so.shape = o.at("shape");
  so.type = get(o, "type", so.type);
  so.seed = static_cast<uint64_t>(to_int(o, "seed", 0));
  so.vocab = get(o, "vocab", "");
  so.threads = static_cast<int>(to_int(o, "threads", 0));
  const double t0 = km::now_ms();
  const uint64_t bytes = km::write_synthetic_gguf(so, o.at("out"));
  std::printf("{\"shape\": %s, \"type\": %s, \"seed\": %llu, \"out\": %s, \"bytes\": %llu, \"ms\": %s}\n",
              quote(so.shape).c_str(), quote(so.type).c_str(), static_cast<unsigned long long>(so.seed),
              quote(o.at("out")).c_str(), static_cast<unsigned long long>(bytes), num(km::now_ms() - t0).c_str());
  return 0;
}

int cmd_generate(int argc, char** argv) {
  const auto o = parse_options(argc, argv, 2,
                               {"model", "prompt", "max-tokens", "temperature", "seed", "top-k", "top-p", "min-p",
                                "repeat-penalty", "threads", "context", "backend", "weights", "kv"});
  if (!o.count("model") || !o.count("prompt")) throw Usage{"generate needs --model FILE and --prompt TEXT"};
  auto e = km::Engine::load(o.at("model"), load_options(o));
  km::GenerateRequest req;
  req.prompt = o.at("prompt");
  req.max_tokens = static_cast<int>(to_int(o, "max-tokens", 64));
  req.sampling.temperature = static_cast<float>(to_float(o, "temperature", 0));
  req.sampling.seed = static_cast<uint64_t>(to_int(o, "seed", 0));
  req.sampling.top_k = static_cast<int>(to_int(o, "top-k", req.sampling.top_k));
  req.sampling.top_p = static_cast<float>(to_float(o, "top-p", req.sampling.top_p));
  req.sampling.min_p = static_cast<float>(to_float(o, "min-p", req.sampling.min_p));
  req.sampling.repeat_penalty = static_cast<float>(to_float(o, "repeat-penalty", req.sampling.repeat_penalty));
  const km::GenerateResult r = e->generate(req, [](const km::TokenEvent& ev) {
    std::fputs(ev.text.c_str(), stderr);  // the stream, for people watching
  });
  std::fputc('\n', stderr);
  std::string ids;
  for (int32_t t : r.tokens) ids += (ids.empty() ? "" : ", ") + std::to_string(t);
  std::printf(
      "{\"prompt\": %s, \"completion\": %s, \"tokens\": %zu, \"token_ids\": [%s], \"prompt_tokens\": %d, "
      "\"ttft_ms\": %s, \"decode_tok_s\": %s, \"stop\": %s, \"backend\": %s}\n",
      quote(req.prompt).c_str(), quote(r.completion).c_str(), r.tokens.size(), ids.c_str(), r.prompt_tokens,
      num(r.ttft_ms).c_str(), num(r.decode_tok_s).c_str(), quote(r.stop).c_str(), quote(e->backend().name()).c_str());
  return 0;
}

int cmd_info() {
  const km::BackendReport b = km::probe_backends();
  std::string archs, devices;
  for (int a : b.cuda.archs) archs += (archs.empty() ? "" : ", ") + std::to_string(a);
  for (const auto& d : b.cuda.devices)
    devices += std::string(devices.empty() ? "" : ", ") + "{\"name\": " + quote(d.name) +
               ", \"cc\": " + std::to_string(d.cc) + ", \"memory_mb\": " + std::to_string(d.memory_mb) +
               ", \"driver\": " + quote(d.driver) + "}";
  std::string shapes;
  for (const auto& s : km::synth_shapes()) shapes += (shapes.empty() ? "" : ", ") + quote(s.name);
  std::printf(
      "{\"backends\": {\"cpu\": {\"available\": %s, \"simd\": %s, \"threads\": %d}, \"cuda\": {\"compiled\": %s, "
      "\"archs\": [%s], \"available\": %s, \"reason\": %s, \"devices\": [%s]}}, \"synthetic_shapes\": [%s]}\n",
      b.cpu.available ? "true" : "false", quote(b.cpu.simd).c_str(), b.cpu.threads,
      b.cuda.compiled ? "true" : "false", archs.c_str(), b.cuda.available ? "true" : "false",
      quote(b.cuda.reason).c_str(), devices.c_str(), shapes.c_str());
  return 0;
}

std::string read_text(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) km::fail("%s: cannot open the text file", path.c_str());
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) km::fail("%s: cannot read the text file", path.c_str());
  return text;
}

int cmd_eval(int argc, char** argv) {
  const auto o = parse_options(argc, argv, 2,
                               {"model", "text", "weights", "kv", "ctx", "chunks", "threads", "backend", "reference",
                                "imatrix", "imatrix-cache", "calibration"});
  if (!o.count("model") || !o.count("text")) throw Usage{"eval needs --model FILE and --text FILE"};
  km::LoadOptions lo = load_options(o);
  km::EvalRequest req;
  req.text = read_text(o.at("text"));
  req.ctx = static_cast<int>(to_int(o, "ctx", 128));
  req.max_chunks = static_cast<int>(to_int(o, "chunks", 0));
  req.reference = get(o, "reference", "");
  lo.context = req.ctx;
  lo.imatrix = get(o, "imatrix", lo.imatrix);
  lo.imatrix_cache = get(o, "imatrix-cache", "");
  if (o.count("calibration")) lo.calibration_text = read_text(o.at("calibration"));
  const double t0 = km::now_ms();
  auto e = km::Engine::load(o.at("model"), lo);
  const double load_ms = km::now_ms() - t0;
  const km::EvalResult r = e->eval(req);
  std::printf(
      "{\"kld_mean\": %.8g, \"kld_p99\": %.8g, \"top1_agreement\": %.8g, \"ppl\": %.8g, \"ppl_ref\": %.8g, "
      "\"tokens\": %d, \"kld_median\": %.8g, \"kld_max\": %.8g, \"chunks\": %d, \"ctx\": %d, "
      "\"text_tokens\": %d, \"weights\": %s, \"kv\": %s, \"weights_bytes\": %llu, \"ms\": %s, \"load_ms\": %s, "
      "\"importance\": %s}\n",
      r.kld_mean, r.kld_p99, r.top1_agreement, r.ppl, r.ppl_ref, r.tokens, r.kld_median, r.kld_max, r.chunks, r.ctx,
      r.text_tokens, quote(r.weights).c_str(), quote(r.kv).c_str(),
      static_cast<unsigned long long>(e->info().weight_bytes), num(r.ms).c_str(), num(load_ms).c_str(),
      quote(e->info().importance).c_str());
  return 0;
}

// The importance the 4-bit formats' scale search uses, measured on the
// calibration text and written as an imatrix GGUF (for llama-quantize
// --imatrix too); its time is what the first 4-bit load of a model costs.
int cmd_imatrix(int argc, char** argv) {
  const auto o =
      parse_options(argc, argv, 2, {"model", "synthetic", "type", "calibration", "tokens", "threads", "out", "covariance"});
  const bool has_model = o.count("model"), has_synth = o.count("synthetic");
  if (has_model == has_synth) throw Usage{"give exactly one of --model FILE and --synthetic SHAPE"};
  std::shared_ptr<const km::GgufFile> file;
  if (has_model) {
    file = km::GgufFile::open(o.at("model"));
  } else {
    km::SynthOptions so;
    so.shape = o.at("synthetic");
    so.type = get(o, "type", "f16");
    file = km::build_synthetic_gguf(so);
  }
  auto m = std::make_shared<km::Model>(km::load_model(file));
  const auto tok = km::Tokenizer::from_gguf(*file);
  const std::string text = o.count("calibration") ? read_text(o.at("calibration")) : std::string(km::quant::builtin_calibration_text());
  km::quant::CalibrateOptions co;
  co.threads = static_cast<int>(to_int(o, "threads", 0));
  co.max_tokens = to_int(o, "tokens", co.max_tokens);
  const std::string cov = get(o, "covariance", "on");
  if (cov != "on" && cov != "off") throw Usage{"--covariance is on or off"};
  co.covariance = cov == "on";
  const double t0 = km::now_ms();
  const km::quant::Importance imp =
      km::quant::collect_importance(m, *tok, text, o.count("calibration") ? o.at("calibration") : "keymate calibration text", co);
  const double ms = km::now_ms() - t0;
  if (o.count("out")) km::quant::write_imatrix(o.at("out"), imp);
  std::printf("{\"chunks\": %d, \"chunk_size\": %d, \"tensors\": %zu, \"tokens\": %lld, \"ms\": %s, \"out\": %s}\n",
              imp.chunks, imp.chunk_size, imp.tensors.size(),
              imp.tensors.empty() ? 0LL : static_cast<long long>(imp.tensors.begin()->second.count), num(ms).c_str(),
              quote(get(o, "out", "")).c_str());
  return 0;
}

int cmd_plan(int argc, char** argv) {
  const auto o = parse_options(argc, argv, 2, {"model", "weights", "kv", "context", "vram-mb"});
  if (!o.count("model")) throw Usage{"plan needs --model FILE"};
  const long long vram_mb = to_int(o, "vram-mb", 0);
  if (vram_mb < 0) throw Usage{"--vram-mb must be >= 0"};
  const km::MemoryPlan p =
      km::plan_memory(o.at("model"), get(o, "weights", "native"), get(o, "kv", "f16"),
                      static_cast<int>(to_int(o, "context", 0)), static_cast<uint64_t>(vram_mb) * 1024 * 1024);
  auto u = [](uint64_t v) { return std::to_string(v); };
  std::printf(
      "{\"weights\": %s, \"kv\": %s, \"context\": %d, \"weights_bytes\": %s, \"kv_bytes_per_token\": %s, "
      "\"kv_bytes\": %s, \"activation_bytes\": %s, \"reserve_bytes\": %s, \"total_bytes\": %s, "
      "\"vram_bytes\": %s, \"fits\": %s, \"max_context\": %d}\n",
      quote(p.weights).c_str(), quote(p.kv).c_str(), p.context, u(p.weights_bytes).c_str(),
      u(p.kv_bytes_per_token).c_str(), u(p.kv_bytes).c_str(), u(p.activation_bytes).c_str(),
      u(p.reserve_bytes).c_str(), u(p.total_bytes).c_str(), u(p.vram_bytes).c_str(), p.fits ? "true" : "false",
      p.max_context);
  return 0;
}

int cmd_formats() {
  auto list = [](const std::vector<km::FormatInfo>& fs) {
    std::string out;
    for (const auto& f : fs)
      out += std::string(out.empty() ? "" : ", ") + "{\"name\": " + quote(f.name) + ", \"same_as\": " +
             quote(f.same_as) + ", \"bits\": " + num(f.bits) + ", \"about\": " + quote(f.about) + "}";
    return out;
  };
  std::printf("{\"weights\": [%s], \"kv\": [%s]}\n", list(km::weight_formats()).c_str(),
              list(km::kv_formats()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "synth") return cmd_synth(argc, argv);
    if (cmd == "generate") return cmd_generate(argc, argv);
    if (cmd == "info") return cmd_info();
    if (cmd == "eval") return cmd_eval(argc, argv);
    if (cmd == "plan") return cmd_plan(argc, argv);
    if (cmd == "imatrix") return cmd_imatrix(argc, argv);
    if (cmd == "formats") return cmd_formats();
    if (cmd == "cpu-kernels") return km::bench::cpu_kernel_bench(argc - 2, argv + 2);
    if (cmd == "gpu-kernels") return km::bench::gpu_kernel_bench(argc - 2, argv + 2);
    if (cmd == "sampling") return km::bench::sampling_bench(argc - 2, argv + 2);
    if (cmd == "doorbell") return km::bench::doorbell_bench(argc - 2, argv + 2);
    if (cmd == "energy") return km::bench::energy_bench(argc - 2, argv + 2, {parse_options, to_int, get, load_options, quote});
    if (cmd == "--help" || cmd == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return cmd_bench(argc, argv);
  } catch (const Usage& u) {
    std::fprintf(stderr, "keymate_bench: %s\n%s", u.what.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keymate_bench: %s\n", e.what());
    return 1;
  }
}
