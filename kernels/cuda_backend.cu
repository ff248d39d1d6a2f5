// The CUDA backend: km::Backend on one NVIDIA device. At load it
//   - uploads the weights: q|k|v and gate|up concatenated into one device
//     matrix each (one matmul instead of three / two); a weight type the
//     matmul cannot run is converted to F16 rows on the host first, and the
//     embedding table to F32 when the embed op cannot read its type; every
//     conversion is listed in device()
//   - allocates the paged KV cache (ops/kv_paged.cuh), the activations for a
//     step of kMaxStepTokens tokens and every op's scratch
//   - builds the step program (exec/program.cuh) once, and arms the executor
//     chosen by BackendOptions::path
// forward() then writes nothing but the StepState per step. Prompts longer
// than kMaxStepTokens run in steps of that size, as the CPU's batches.
// read_kv / write_kv move the KV state (keymate/backend.h's layout) with one
// copy per layer and array, regathered between pages and heads on the host.
// Any CUDA error is a km::Error; after one the backend refuses further work
// (the context may be lost) and the engine falls back to the CPU.
#include "cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/arch.cuh"
#include "common/buffer.cuh"
#include "common/check.cuh"
#include "exec/executor.h"
#include "exec/program.cuh"
#include "keymate/error.h"
#include "keymate/half.h"
#include "keymate/model.h"
#include "ops/kv_paged.cuh"
#include "quant/quantize_run.h"

namespace km {
namespace cuda {
namespace {

constexpr int kDefaultContext = 4096;  // as the CPU backend

// A weight matrix on the device, as the matmul reads it.
struct DevMatrix {
  DeviceBuffer buf;
  uint64_t row_bytes = 0;
  int32_t rows = 0, cols = 0;
  GgmlType type = GgmlType::F32;
  RunQuant quant;
};

bool same_layout(const Tensor& a, const Tensor& b) {
  return a.type == b.type && a.quant.type == b.quant.type && a.quant.group == b.quant.group &&
         a.row_bytes == b.row_bytes && a.cols == b.cols;
}

const char* type_name(const Tensor& t) {
  if (!t.quant.none()) return "run format";
  const char* n = ggml_type_info(t.type).name;
  return n ? n : "unknown";
}

// A stream destroyed with its owner, also when a constructor throws half-way.
struct Stream {
  cudaStream_t s = nullptr;
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~Stream() {
    if (s && !device_stuck()) cudaStreamDestroy(s);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
};

// Calls run(paged, state, bytes) for each run of one head's tokens that is
// contiguous both in a cache array, [page][n_kv_heads][kKvPageTokens] entries
// (ops/kv_paged.cuh, identity page table), and in the KV state's
// [n_kv_heads][n] (keymate/backend.h); offsets and sizes in bytes, `entry`
// bytes per (head, token).
template <typename Run>
void for_each_kv_run(int n, int n_kv_heads, uint64_t entry, Run run) {
  for (int h = 0; h < n_kv_heads; h++)
    for (int t = 0; t < n; t += kKvPageTokens) {
      const uint64_t page = (uint64_t)(t / kKvPageTokens);
      const uint64_t paged = ((page * n_kv_heads + h) * kKvPageTokens) * entry;
      const uint64_t state = ((uint64_t)h * n + t) * entry;
      run(paged, state, (uint64_t)std::min(kKvPageTokens, n - t) * entry);
    }
}

struct Layer {
  // q|k|v as one matrix, or one per part where their layouts differ
  // (upload_parts): each writes its columns of the shared qkv buffer.
  std::vector<DevMatrix> qkv;
  DevMatrix wo, gate_up, down;
  DeviceBuffer attn_norm, ffn_norm, bq, bk, bv;
  DeviceBuffer q_norm, k_norm, attn_post, ffn_post;  // qk_norm, post_norms (model.h)
  DeviceBuffer k, v, k_scale, v_scale;  // paged cache (ops/kv_paged.cuh)
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::shared_ptr<const Model> model, const BackendOptions& opts)
      : model_(std::move(model)), kv_type_(opts.kv), profile_(opts.profile), path_(opts.path) {
    const Config& c = model_->config;
    if (device_stuck())
      fail("cuda backend: the GPU is still running an armed kernel that never returned; restart Keymate to use it "
           "again");
    if (opts.context < 0) fail("cuda backend: context %d is negative", opts.context);
    ctx_ = opts.context > 0 ? opts.context : std::min(c.context, kDefaultContext);
    check_shape(c);
    // KEYMATE_CUDA_FAIL_AT: a test hook that makes this backend fail as a
    // CUDA error would, at load ("load") or at the N-th forward call ("N"),
    // so the engine's fallback to the CPU can be tested on a healthy GPU.
    if (const char* f = std::getenv("KEYMATE_CUDA_FAIL_AT")) {
      if (std::string(f) == "load") fail("cuda backend: failure injected at load by KEYMATE_CUDA_FAIL_AT");
      fail_at_ = std::atoi(f);
    }
    CUDA_CHECK(cudaSetDevice(0));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    device_name_ = prop.name;
    cc_ = prop.major * 10 + prop.minor;
    stream_holder_ = std::make_unique<Stream>();
    copy_stream_holder_ = std::make_unique<Stream>();
    stream_ = stream_holder_->s;
    copy_stream_ = copy_stream_holder_->s;
    q_dim_ = c.n_heads * c.head_dim;
    kv_dim_ = c.n_kv_heads * c.head_dim;
    ffn_pad_ = (c.ffn_dim + 31) / 32 * 32;
    upload_weights();
    allocate();
    build_programs();
    settle_uploads();  // the executors' streams do not wait for the legacy one
    arm();
  }

  // The executor of the chosen path for the one-token-of-logits program.
  void arm() {
    switch (path_) {
      case ExecPath::Launch: exec_ = make_launch_executor(prog_, st_dev_.get<StepState>(), stream_); break;
      case ExecPath::Graph: exec_ = make_graph_executor(prog_, st_dev_.get<StepState>(), stream_); break;
      case ExecPath::ZeroLaunch: exec_ = make_zero_launch_executor(prog_, stream_); break;
    }
  }

  ~CudaBackend() override {
    exec_.reset();  // a persistent kernel is told to quit before its buffers and streams go
    exec_all_.reset();
  }

  std::string name() const override { return "cuda"; }

  std::string device() const override {
    std::string d = format("%s (sm_%d, %s path)", device_name_.c_str(), cc_, exec_ ? exec_->name() : "no");
    if (!notes_.empty()) d += "; converted at upload: " + notes_;
    return d;
  }

  int context() const override { return ctx_; }

  void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) override {
    run_steps(tokens, n, pos, logits, all_logits, nullptr);
  }

  int32_t forward_sample(const int32_t* tokens, int n, int pos, const DeviceSample& s, float* logits) override {
    const Config& c = model_->config;
    if (!sample_on_device_ok(c.vocab, s.temperature, s.top_k, 1.0f)) return -1;
    return run_steps(tokens, n, pos, logits, false, &s);
  }

  uint64_t kv_bytes(int n) const override {
    check_state_tokens(n);
    return kv_state_layout(model_->config, kv_type_, n).total();
  }

  // The pages that hold positions [0, n) are the first ones of each array,
  // so an array crosses the bus in one copy (not one per head and page) and
  // is regathered on the host.
  void read_kv(int n, uint8_t* out) const override {
    check_state_tokens(n);
    refuse_if_broken();
    const KvStateLayout s = kv_state_layout(model_->config, kv_type_, n);
    const uint64_t vec = (uint64_t)model_->config.head_dim * kv_elem_bytes(kv_type_);
    std::vector<uint8_t> stage;
    guarded([&] {
      for (int l = 0; l < (int)layers_.size(); l++) {
        const Layer& L = layers_[(size_t)l];
        download_kv(L.k, n, vec, out + s.k_quants(l), stage);
        download_kv(L.v, n, vec, out + s.v_quants(l), stage);
        if (s.scales) {
          download_kv(L.k_scale, n, sizeof(uint16_t), out + s.k_scales(l), stage);
          download_kv(L.v_scale, n, sizeof(uint16_t), out + s.v_scales(l), stage);
        }
      }
    });
  }

  void write_kv(int n, const uint8_t* in) override {
    check_state_tokens(n);
    refuse_if_broken();
    const KvStateLayout s = kv_state_layout(model_->config, kv_type_, n);
    const uint64_t vec = (uint64_t)model_->config.head_dim * kv_elem_bytes(kv_type_);
    // An armed persistent kernel may hold lines of this cache in its SMs' L1
    // from earlier steps, and a copy does not reach those: it is disarmed
    // across the copies, and the kernel armed after them starts cold.
    const bool rearm = path_ == ExecPath::ZeroLaunch;
    std::vector<uint8_t> stage;
    guarded([&] {
      if (rearm) exec_.reset();
      for (int l = 0; l < (int)layers_.size(); l++) {
        Layer& L = layers_[(size_t)l];
        upload_kv(L.k, n, vec, in + s.k_quants(l), stage);
        upload_kv(L.v, n, vec, in + s.v_quants(l), stage);
        if (s.scales) {
          upload_kv(L.k_scale, n, sizeof(uint16_t), in + s.k_scales(l), stage);
          upload_kv(L.v_scale, n, sizeof(uint16_t), in + s.v_scales(l), stage);
        }
      }
      if (rearm) arm();
    });
  }

  StageTimes stats() const override { return stats_; }
  void reset_stats() override { stats_ = StageTimes{}; }

 private:
  void refuse_if_broken() const {
    if (broken_) fail("cuda backend: unusable after an earlier CUDA error (%s)", broken_why_.c_str());
  }

  // Runs f, which makes CUDA calls: after any error in it the backend refuses
  // further work, since the context may be lost.
  template <typename F>
  auto guarded(F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const Error& e) {
      broken_ = true;
      broken_why_ = e.what();
      throw;
    }
  }

  void check_state_tokens(int n) const {
    if (n < 0 || n > ctx_)
      fail("cuda backend: a KV state of %d tokens does not fit the context of %d tokens", n, ctx_);
  }

  // Bytes of the pages of one cache array that hold positions [0, n).
  uint64_t paged_bytes(int n, uint64_t entry) const {
    const uint64_t pages = (uint64_t)((n + kKvPageTokens - 1) / kKvPageTokens);
    return pages * (uint64_t)model_->config.n_kv_heads * kKvPageTokens * entry;
  }

  // One cache array's positions [0, n) into `state` ([n_kv_heads][n] entries
  // of `entry` bytes), through `stage`. The executors return only once a
  // step has finished on the device, so the copy stream may read at once.
  void download_kv(const DeviceBuffer& b, int n, uint64_t entry, uint8_t* state, std::vector<uint8_t>& stage) const {
    if (n == 0) return;
    stage.resize(paged_bytes(n, entry));
    CUDA_CHECK(cudaMemcpyAsync(stage.data(), b.get(), stage.size(), cudaMemcpyDeviceToHost, copy_stream_));
    CUDA_CHECK(cudaStreamSynchronize(copy_stream_));
    for_each_kv_run(n, model_->config.n_kv_heads, entry, [&](uint64_t paged, uint64_t st, uint64_t bytes) {
      std::memcpy(state + st, stage.data() + paged, bytes);
    });
  }

  // The reverse of download_kv. The last page's entries past n become zeros,
  // as at allocation: nothing reads them before a step writes them.
  void upload_kv(DeviceBuffer& b, int n, uint64_t entry, const uint8_t* state, std::vector<uint8_t>& stage) {
    if (n == 0) return;
    stage.assign(paged_bytes(n, entry), 0);
    for_each_kv_run(n, model_->config.n_kv_heads, entry, [&](uint64_t paged, uint64_t st, uint64_t bytes) {
      std::memcpy(stage.data() + paged, state + st, bytes);
    });
    CUDA_CHECK(cudaMemcpyAsync(b.get(), stage.data(), stage.size(), cudaMemcpyHostToDevice, copy_stream_));
    CUDA_CHECK(cudaStreamSynchronize(copy_stream_));
  }

  // What the kernels take; anything else is refused at load, with the reason,
  // so the engine runs the model on the CPU instead.
  void check_shape(const Config& c) const {
    if (c.head_dim % 2 != 0 || c.head_dim > kMaxHeadDim)
      fail("cuda backend: head size %d is not supported (even, up to %d)", c.head_dim, kMaxHeadDim);
    if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0 || c.n_heads / c.n_kv_heads > kMaxGroup)
      fail("cuda backend: %d query heads over %d KV heads is not supported (at most %d per KV head)", c.n_heads,
           c.n_kv_heads, kMaxGroup);
    if (c.dim % 32 != 0 || (c.n_heads * c.head_dim) % 32 != 0)
      fail("cuda backend: width %d and attention width %d must be multiples of 32", c.dim, c.n_heads * c.head_dim);
    if (c.rope_dims % 2 != 0 || c.rope_dims > c.head_dim)
      fail("cuda backend: %d rotated dimensions do not fit a head of %d", c.rope_dims, c.head_dim);
  }

  // ---- upload ---------------------------------------------------------------

  void note(const std::string& s) {
    if (notes_.find(s) != std::string::npos) return;
    if (!notes_.empty()) notes_ += ", ";
    notes_ += s;
  }

  // Rows of `parts` one after another in one device matrix: as stored when the
  // parts share a layout the matmul runs, else every part converted to F16.
  // The matmul takes cols in multiples of 32: a matrix with other cols (only
  // f32/f16 tensors of tiny models can have them) is padded with zero
  // columns, exactly (below). Each part's rows are padded with zero rows to
  // a multiple of `rows_to` (zero bytes are zero in every format).
  DevMatrix upload_matrix(const std::vector<const Tensor*>& parts, int rows_to = 1) {
    DevMatrix m;
    const Tensor& t0 = *parts[0];
    const int64_t cols = t0.cols, cols_pad = (cols + 31) / 32 * 32;
    bool same = true;
    for (const Tensor* p : parts) same = same && same_layout(*p, t0);
    const bool raw = same && cols == cols_pad && matmul_supports(t0.type, t0.quant);
    auto padded_rows = [&](const Tensor* p) { return (p->rows + rows_to - 1) / rows_to * rows_to; };
    int64_t rows = 0;
    for (const Tensor* p : parts) rows += padded_rows(p);
    m.rows = (int32_t)rows;
    m.cols = (int32_t)cols_pad;
    if (raw) {
      m.type = t0.type;
      m.quant = t0.quant;
      m.row_bytes = t0.row_bytes;
      m.buf.alloc(m.row_bytes * (uint64_t)rows);
      uint64_t off = 0;
      for (const Tensor* p : parts) {
        m.buf.upload(p->data, p->bytes(), off);
        off += (uint64_t)padded_rows(p) * m.row_bytes;
      }
      return m;
    }
    // Rows a matmul cannot run as stored become F16. A float matrix whose
    // cols are not a multiple of 32 (only tiny models have them) keeps its
    // type, padded with zero columns, so its activations are rounded as the
    // CPU rounds them for that type (act_round); other types widen to F32.
    const bool wide = cols != cols_pad;
    GgmlType to = GgmlType::F16;
    if (wide) {
      const bool half = t0.quant.none() && (t0.type == GgmlType::F16 || t0.type == GgmlType::BF16);
      to = same && half ? t0.type : GgmlType::F32;
    }
    for (const Tensor* p : parts)
      if (wide) note(p->name + " cols " + std::to_string(cols) + " -> " + ggml_type_info(to).name + " padded to " +
                     std::to_string(cols_pad));
      else if (!matmul_supports(p->type, p->quant) || !same) note(std::string(type_name(*p)) + " -> f16");
    m.type = to;
    m.row_bytes = (uint64_t)cols_pad * (to == GgmlType::F32 ? 4 : 2);
    m.buf.alloc(m.row_bytes * (uint64_t)rows);  // zero-filled: the padding
    std::vector<float> f((size_t)cols_pad, 0.0f);
    std::vector<uint16_t> h((size_t)cols_pad, 0);
    uint64_t off = 0;
    for (const Tensor* p : parts) {
      for (int64_t r = 0; r < p->rows; r++) {
        quant::tensor_row(*p, r, f.data());
        const void* row = f.data();
        if (to != GgmlType::F32) {  // exact: the values came from this type, or are rounded to f16 as notes_ says
          for (int64_t i = 0; i < cols; i++)
            h[(size_t)i] = to == GgmlType::BF16 ? fp32_to_bf16(f[(size_t)i]) : fp32_to_fp16(f[(size_t)i]);
          row = h.data();
        }
        m.buf.upload(row, m.row_bytes, off + (uint64_t)r * m.row_bytes);
      }
      off += (uint64_t)padded_rows(p) * m.row_bytes;
    }
    return m;
  }

  // Parts that share a layout as one matrix (one product for all); parts
  // that do not, one matrix each, every one as stored where the matmul runs
  // it. A Q4_K_M file holds v in Q6_K on some layers beside q and k in Q4_K:
  // converting the three to one F16 matrix would take 3.5x their bytes.
  std::vector<DevMatrix> upload_parts(const std::vector<const Tensor*>& parts) {
    bool same = true;
    for (const Tensor* p : parts) same = same && same_layout(*p, *parts[0]);
    std::vector<DevMatrix> out;
    if (same) {
      out.push_back(upload_matrix(parts));
    } else {
      for (const Tensor* p : parts) out.push_back(upload_matrix({p}));
    }
    return out;
  }

  static DeviceBuffer upload_f32(const Tensor& t) {
    DeviceBuffer b;
    if (t.empty()) return b;
    if (!(t.quant.none() && t.type == GgmlType::F32)) fail("cuda backend: %s must be f32", t.name.c_str());
    b.alloc(t.bytes());
    b.upload(t.data, t.bytes());
    return b;
  }

  void upload_weights() {
    const Config& c = model_->config;
    const Weights& w = model_->weights;
    layers_.resize((size_t)c.n_layers);
    for (int l = 0; l < c.n_layers; l++) {
      const LayerWeights& L = w.layers[(size_t)l];
      Layer& y = layers_[(size_t)l];
      y.qkv = upload_parts({&L.wq, &L.wk, &L.wv});
      y.wo = upload_matrix({&L.wo});
      y.gate_up = upload_matrix({&L.w_gate, &L.w_up}, 32);  // h = ffn_pad_, the down matrix's padded cols
      y.down = upload_matrix({&L.w_down});
      y.attn_norm = upload_f32(L.attn_norm);
      y.ffn_norm = upload_f32(L.ffn_norm);
      y.bq = upload_f32(L.bq);
      y.bk = upload_f32(L.bk);
      y.bv = upload_f32(L.bv);
      y.q_norm = upload_f32(L.q_norm);
      y.k_norm = upload_f32(L.k_norm);
      y.attn_post = upload_f32(L.attn_post_norm);
      y.ffn_post = upload_f32(L.ffn_post_norm);
    }
    output_norm_ = upload_f32(w.output_norm);
    // Llama 3's factors, or LongRoPE's for this context (model.h's rope_factors).
    if (const float* ff = rope_factors(*model_, ctx_)) {
      rope_freqs_.alloc((uint64_t)c.rope_dims / 2 * 4);
      rope_freqs_.upload(ff, (uint64_t)c.rope_dims / 2 * 4);
    }

    // The embedding: as stored when the embed op reads its type, else f32
    // rows (exact, as the CPU widens them).
    const Tensor& e = w.token_embd;
    if (embed_supports(e.type, e.quant)) {
      embd_.alloc(e.bytes());
      embd_.upload(e.data, e.bytes());
      embd_type_ = e.type;
      embd_quant_ = e.quant;
      embd_row_bytes_ = e.row_bytes;
    } else {
      note(std::string("token_embd ") + type_name(e) + " -> f32");
      embd_type_ = GgmlType::F32;
      embd_row_bytes_ = (uint64_t)e.cols * 4;
      embd_.alloc(embd_row_bytes_ * (uint64_t)e.rows);
      std::vector<float> f((size_t)e.cols);
      for (int64_t r = 0; r < e.rows; r++) {
        quant::tensor_row(e, r, f.data());
        embd_.upload(f.data(), embd_row_bytes_, (uint64_t)r * embd_row_bytes_);
      }
    }
    // The output matrix shares the embedding's device copy when tied and
    // stored as is.
    const bool tied = w.output.data == e.data;
    if (tied && embed_supports(e.type, e.quant) && matmul_supports(e.type, e.quant)) {
      out_shared_ = true;
      output_.rows = (int32_t)e.rows;
      output_.cols = (int32_t)e.cols;
      output_.type = e.type;
      output_.quant = e.quant;
      output_.row_bytes = e.row_bytes;
    } else {
      output_ = upload_matrix({&w.output});
    }
  }

  // ---- buffers --------------------------------------------------------------

  void allocate() {
    const Config& c = model_->config;
    const uint64_t T = kMaxStepTokens;
    x_.alloc(T * c.dim * 4);
    xn_.alloc(T * c.dim * 4);
    qkv_.alloc(T * (uint64_t)(q_dim_ + 2 * kv_dim_) * 4);
    att_.alloc(T * (uint64_t)q_dim_ * 4);
    ffn_.alloc(T * (uint64_t)ffn_pad_ * 4);
    if (c.post_norms) post_.alloc(T * c.dim * 4);
    logits_.alloc((uint64_t)c.vocab * 4);
    partials_.alloc(attention_partial_floats(c.n_heads, c.head_dim, ctx_) * 4);
    cand_logit_.alloc((uint64_t)sample_chunks(c.vocab) * kSampleMaxK * 4);
    cand_id_.alloc((uint64_t)sample_chunks(c.vocab) * kSampleMaxK * 4);
    token_.alloc(4);
    st_dev_.alloc(sizeof(StepState));

    // The paged cache: one sequence, so the page table is the identity; the
    // kernels address every token through it all the same.
    n_pages_ = (ctx_ + kKvPageTokens - 1) / kKvPageTokens;
    std::vector<int32_t> table((size_t)n_pages_);
    for (int i = 0; i < n_pages_; i++) table[(size_t)i] = i;
    page_table_.alloc((uint64_t)n_pages_ * 4);
    page_table_.upload(table.data(), table.size() * 4);
    const uint64_t vectors = (uint64_t)n_pages_ * c.n_kv_heads * kKvPageTokens;
    for (Layer& L : layers_) {
      L.k.alloc(vectors * c.head_dim * kv_elem_bytes(kv_type_));
      L.v.alloc(vectors * c.head_dim * kv_elem_bytes(kv_type_));
      if (kv_has_scales(kv_type_)) {
        L.k_scale.alloc(vectors * 2);
        L.v_scale.alloc(vectors * 2);
      }
    }
  }

  // ---- the program ----------------------------------------------------------

  // Tiles an instruction needs at worst: every step size, at the end of the
  // context (where attention has the most keys).
  int max_tiles(const Instr& in) const {
    StepState st{};
    int m = 0;
    for (int n = 1; n <= kMaxStepTokens; n++) {
      st.n = n;
      st.pos = std::max(0, ctx_ - n);
      st.sample = 1;
      m = std::max(m, instr_tiles(in, st));
    }
    return m;
  }

  void push(std::vector<Instr>& p, Op op, Stage stage, int smem, const Instr& args) {
    Instr in = args;
    in.op = op;
    in.stage = stage;
    in.smem = smem;
    in.max_tiles = max_tiles(in);
    p.push_back(in);
  }

  MatmulArgs matmul_args(const DevMatrix& m, const void* w, const float* x, float* y, Epilogue e, bool last_only,
                         int ldy = 0) {
    MatmulArgs a{};
    a.w = w;
    a.row_bytes = m.row_bytes;
    a.rows = m.rows;
    a.cols = m.cols;
    a.type = m.type;
    a.quant = m.quant;
    a.x = x;
    a.y = y;
    a.ldy = ldy;
    a.epilogue = e;
    a.last_only = last_only;
    a.scratch = nullptr;
    matmuls_.push_back(a);
    return a;
  }

  void push_matmul(std::vector<Instr>& p, Stage stage, MatmulArgs a) {
    a.scratch = scratch_.get();
    if (matmul_needs_quantize_act(a)) {
      Instr q;
      q.a.quantize_act = quantize_act_args_for(a);
      push(p, Op::QuantizeAct, stage, kTileSmem, q);
    }
    Instr in;
    in.a.matmul = a;
    push(p, Op::Matmul, stage, matmul_smem_bytes(a), in);
  }

  KvLayer kv_layer(Layer& L) const {
    const Config& c = model_->config;
    KvLayer k{};
    k.type = kv_type_;
    k.k = L.k.get<uint8_t>();
    k.v = L.v.get<uint8_t>();
    k.k_scale = L.k_scale.get<uint16_t>();
    k.v_scale = L.v_scale.get<uint16_t>();
    k.page_table = page_table_.get<int32_t>();
    k.n_kv_heads = c.n_kv_heads;
    k.head_dim = c.head_dim;
    k.context = ctx_;
    return k;
  }

  // One step: the layers, then the final norm and logits (of the last token,
  // or of all when all_logits), then sampling (gated by StepState::sample).
  std::vector<Instr> build(bool all_logits) {
    const Config& c = model_->config;
    std::vector<Instr> p;
    const int ld = q_dim_ + 2 * kv_dim_;
    {
      Instr in;
      EmbedArgs& a = in.a.embed;
      a = EmbedArgs{};
      a.table = embd_.get();
      a.row_bytes = embd_row_bytes_;
      a.dim = c.dim;
      a.vocab = c.vocab;
      a.type = embd_type_;
      a.quant = embd_quant_;
      a.x = x_.get<float>();
      a.scale = c.embed_scale;
      push(p, Op::Embed, Stage::Embed, 0, in);
    }
    // xn = rmsnorm(x) * w; or, a post-norm, x += rmsnorm(post_) * w.
    auto norm = [&](Stage stage, const DeviceBuffer& w, bool last_only, bool post = false) {
      Instr in;
      RmsNormArgs& a = in.a.rmsnorm;
      a = RmsNormArgs{};
      a.x = post ? post_.get<float>() : x_.get<float>();
      a.w = w.get<float>();
      (post ? a.add_to : a.y) = post ? x_.get<float>() : xn_.get<float>();
      a.dim = c.dim;
      a.eps = c.norm_eps;
      a.last_only = last_only;
      push(p, Op::RmsNorm, stage, kWarps * sizeof(double), in);
    };
    // x += W in (the residual in the matmul's epilogue), or with a post-norm
    // x += rmsnorm(W in) * post through post_.
    auto project_residual = [&](Stage stage, const DevMatrix& m, float* in, const DeviceBuffer& post) {
      if (post.empty()) {
        push_matmul(p, stage, matmul_args(m, m.buf.get(), in, x_.get<float>(), Epilogue::Residual, false));
        return;
      }
      push_matmul(p, stage, matmul_args(m, m.buf.get(), in, post_.get<float>(), Epilogue::Store, false));
      norm(stage, post, false, true);
    };
    for (size_t l = 0; l < layers_.size(); l++) {
      Layer& L = layers_[l];
      const LayerSpec& spec = c.layers[l];
      const RopeSpec& rope = c.ropes[(size_t)std::max(spec.rope, 0)];
      norm(Stage::Qkv, L.attn_norm, false);
      int col = 0;  // the part's first column in the qkv buffer's rows of ld floats
      for (const DevMatrix& m : L.qkv) {
        push_matmul(p, Stage::Qkv,
                    matmul_args(m, m.buf.get(), xn_.get<float>(), qkv_.get<float>() + col, Epilogue::Store, false, ld));
        col += m.rows;
      }
      {
        Instr in;
        RopeKvArgs& a = in.a.rope_kv;
        a = RopeKvArgs{};
        a.qkv = qkv_.get<float>();
        a.ld = ld;
        a.bq = L.bq.get<float>();
        a.bk = L.bk.get<float>();
        a.bv = L.bv.get<float>();
        a.q_norm = L.q_norm.get<float>();
        a.k_norm = L.k_norm.get<float>();
        a.eps = c.norm_eps;
        a.n_heads = c.n_heads;
        a.rope_dims = c.rope_dims;
        a.rotate = spec.rope >= 0;
        a.theta_scale = std::pow(rope.base, -2.0f / (float)c.rope_dims);  // as cpu/rope.cpp
        a.freq_scale = rope.freq_scale;
        a.attn_factor = c.rope_attn_factor;
        a.freq_factors = rope_freqs_.get<float>();
        a.neox = c.rope_style == RopeStyle::NeoX;
        a.kv = kv_layer(L);
        push(p, Op::RopeKv, Stage::Qkv, 0, in);
      }
      {
        Instr in;
        AttentionArgs& a = in.a.attn;
        a = AttentionArgs{};
        a.q = qkv_.get<float>();
        a.ldq = ld;
        a.kv = kv_layer(L);
        a.n_heads = c.n_heads;
        a.scale = c.attn_scale;
        a.window = spec.window;
        a.out = att_.get<float>();
        a.ldo = q_dim_;
        a.partials = partials_.get<float>();
        a.max_splits = (ctx_ + kAttnSplitKeys - 1) / kAttnSplitKeys;
        push(p, Op::AttnPartial, Stage::Attention, attn_partial_smem(c.head_dim, c.n_heads / c.n_kv_heads), in);
        push(p, Op::AttnCombine, Stage::Attention, 0, in);
        push(p, Op::AttnPrefill, Stage::Attention, attn_prefill_smem(c.head_dim), in);
      }
      project_residual(Stage::Attention, L.wo, att_.get<float>(), L.attn_post);
      norm(Stage::Ffn, L.ffn_norm, false);
      const Epilogue act = c.activation == Activation::GeluTanh ? Epilogue::GeluMul : Epilogue::SiluMul;
      push_matmul(p, Stage::Ffn,
                  matmul_args(L.gate_up, L.gate_up.buf.get(), xn_.get<float>(), ffn_.get<float>(), act, false));
      project_residual(Stage::Ffn, L.down, ffn_.get<float>(), L.ffn_post);
    }
    norm(Stage::Logits, output_norm_, !all_logits);
    float* out = all_logits ? logits_all_.get<float>() : logits_.get<float>();
    push_matmul(p, Stage::Logits,
                matmul_args(output_, out_shared_ ? embd_.get() : output_.buf.get(), xn_.get<float>(), out,
                            Epilogue::Store, !all_logits));
    if (!all_logits) {
      Instr in;
      SampleArgs& a = in.a.sample;
      a = SampleArgs{};
      a.logits = logits_.get<float>();
      a.vocab = c.vocab;
      a.cand_logit = cand_logit_.get<float>();
      a.cand_id = cand_id_.get<int32_t>();
      a.out = token_.get<int32_t>();
      push(p, Op::SamplePartial, Stage::Sampling, kSamplePartialSmem, in);
      push(p, Op::SampleFinal, Stage::Sampling, kSampleFinalSmem, in);
    }
    return p;
  }

  void build_programs() {
    // Scratch first: every matmul's scratch is the same buffer (they run one
    // after another), sized for the largest.
    matmuls_.clear();
    (void)build(false);
    uint64_t scratch = 0;
    for (const MatmulArgs& a : matmuls_) scratch = std::max(scratch, matmul_scratch_bytes(a));
    scratch_.alloc(std::max<uint64_t>(scratch, 16));
    prog_ = build(false);
  }

  // ---- running ----------------------------------------------------------------

  int32_t run_steps(const int32_t* tokens, int n, int pos, float* logits, bool all_logits, const DeviceSample* s) {
    const Config& c = model_->config;
    refuse_if_broken();
    if (n <= 0) fail("cuda backend: forward needs at least one token (got %d)", n);
    if (pos < 0) fail("cuda backend: position %d is negative", pos);
    if ((int64_t)pos + n > ctx_)
      fail("cuda backend: %d tokens at position %d exceed the context of %d tokens", n, pos, ctx_);
    for (int i = 0; i < n; i++)
      if (tokens[i] < 0 || tokens[i] >= c.vocab)
        fail("cuda backend: token id %d is outside the vocabulary (0..%d)", tokens[i], c.vocab - 1);
    return guarded([&] {
      if (fail_at_ > 0 && ++forwards_ == fail_at_)
        fail("cuda backend: failure injected at forward call %d by KEYMATE_CUDA_FAIL_AT", fail_at_);
      int32_t token = -1;
      // The armed zero-launch kernel holds every SM: a launched kernel (or an
      // allocation) would wait behind it for ever. Disarm for the launch-path
      // all-positions program (eval, not a key press) and re-arm after it.
      const bool rearm = all_logits && path_ == ExecPath::ZeroLaunch;
      if (rearm) exec_.reset();
      if (all_logits && !exec_all_) {
        logits_all_.alloc((uint64_t)kMaxStepTokens * c.vocab * 4);
        prog_all_ = build(true);
        settle_uploads();
        exec_all_ = make_launch_executor(prog_all_, st_dev_.get<StepState>(), stream_);
      }
      for (int b = 0; b < n; b += kMaxStepTokens) {
        const int nb = std::min(kMaxStepTokens, n - b);
        const bool last = b + nb == n;
        StepState st{};
        st.pos = pos + b;
        st.n = nb;
        std::memcpy(st.tokens, tokens + b, (size_t)nb * sizeof(int32_t));
        st.sample = last && s ? 1 : 0;
        if (s) {
          st.temperature = s->temperature;
          st.top_k = s->top_k;
          st.top_p = s->top_p;
          st.min_p = s->min_p;
          st.uniform = s->uniform;
        }
        Executor& ex = all_logits ? *exec_all_ : *exec_;
        ex.run(st, profile_ ? &stats_ : nullptr);
        if (all_logits) {
          CUDA_CHECK(cudaMemcpyAsync(logits + (int64_t)b * c.vocab, logits_all_.get(),
                                     (size_t)nb * c.vocab * sizeof(float), cudaMemcpyDeviceToHost, copy_stream_));
        } else if (last && logits) {
          CUDA_CHECK(cudaMemcpyAsync(logits, logits_.get(), (size_t)c.vocab * sizeof(float), cudaMemcpyDeviceToHost,
                                     copy_stream_));
        }
        if (last && s)
          CUDA_CHECK(cudaMemcpyAsync(&token, token_.get(), sizeof(int32_t), cudaMemcpyDeviceToHost, copy_stream_));
        CUDA_CHECK(cudaStreamSynchronize(copy_stream_));
      }
      if (rearm) {
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        arm();
      }
      return token;
    });
  }

  std::shared_ptr<const Model> model_;
  KvType kv_type_;
  bool profile_;
  ExecPath path_;
  int ctx_ = 0, n_pages_ = 0, cc_ = 0;
  int q_dim_ = 0, kv_dim_ = 0;
  int ffn_pad_ = 0;  // ffn_dim rounded up to 32: gate|up's h and down's cols (zero padding)
  std::string device_name_, notes_;
  // Declared before every buffer, so destroyed after them.
  std::unique_ptr<Stream> stream_holder_, copy_stream_holder_;
  cudaStream_t stream_ = nullptr, copy_stream_ = nullptr;

  std::vector<Layer> layers_;
  DeviceBuffer output_norm_, rope_freqs_, embd_;
  GgmlType embd_type_ = GgmlType::F32;
  RunQuant embd_quant_;
  uint64_t embd_row_bytes_ = 0;
  DevMatrix output_;
  bool out_shared_ = false;

  DeviceBuffer x_, xn_, qkv_, att_, ffn_, post_, logits_, logits_all_, partials_, cand_logit_, cand_id_, token_, st_dev_,
      scratch_, page_table_;
  std::vector<MatmulArgs> matmuls_;
  std::vector<Instr> prog_, prog_all_;
  std::unique_ptr<Executor> exec_, exec_all_;
  StageTimes stats_;
  // Set by guarded(), from const members too (read_kv): the context may be lost.
  mutable bool broken_ = false;
  mutable std::string broken_why_;
  int fail_at_ = 0, forwards_ = 0;  // KEYMATE_CUDA_FAIL_AT
};

}  // namespace
}  // namespace cuda

std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model, const BackendOptions& opts) {
  if (!model) fail("cuda backend: no model");
  return std::make_unique<cuda::CudaBackend>(std::move(model), opts);
}

}  // namespace km
