// Engine::eval: the native side of `keymate eval`. The text is tokenized once
// (BOS first when the model adds one, special tokens not parsed: llama.cpp's
// common_tokenize(text, add_special = true)), cut into whole chunks of ctx
// tokens, and every chunk is run from position 0 with its first token
// replaced by BOS, on this engine and on the reference: the same file with
// its stored weights and an f16 KV cache, a second backend made next to this
// one (the model is shared when only the KV format differs), or another file
// given as the reference (a quantized file against its F32 original: the
// same comparison llama.cpp makes). Tokens ctx/2 ..
// ctx-2 of each chunk are scored against the token after them, as llama.cpp's
// perplexity tool scores them, so the numbers compare with its
// --kl-divergence output on the same text and --ctx.
#include <algorithm>
#include <memory>
#include <vector>

#include "backend_factory.h"
#include "eval_metrics.h"
#include "keymate/engine.h"
#include "keymate/error.h"
#include "keymate/gguf.h"
#include "keymate/tokenizer.h"
#include "timer.h"

namespace km {

EvalResult Engine::eval(const EvalRequest& req) {
  const double t0 = now_ms();
  const int ctx = req.ctx, vocab = model_->config.vocab;
  if (ctx < 4) fail("eval: ctx %d is too short (at least 4 tokens, 128 is usual)", ctx);
  if (ctx > backend_->context())
    fail("eval: ctx %d exceeds this engine's context of %d tokens (load it with a larger context)", ctx,
         backend_->context());
  if (req.max_chunks < 0) fail("eval: max_chunks %d must be >= 0", req.max_chunks);
  if (!model_->file) fail("eval: the model has no file to load the reference weights from");

  const std::vector<int32_t> tokens = tokenizer_->encode(req.text, true, false);
  if ((int64_t)tokens.size() < 2 * (int64_t)ctx)
    fail("eval: the text has %zu tokens, but two chunks of %d tokens at least are needed (use a longer text or a "
         "smaller --ctx)",
         tokens.size(), ctx);
  int n_chunks = (int)(tokens.size() / (size_t)ctx);
  if (req.max_chunks > 0) n_chunks = std::min(n_chunks, req.max_chunks);

  // The reference: the file's own weights (or another file's) with an f16
  // cache. When this engine is exactly that, it is its own reference (every
  // KLD is 0).
  const bool other_file = !req.reference.empty();
  const bool same_weights = opts_.weights == "native" && !other_file, same_kv = opts_.kv == "f16";
  std::unique_ptr<Backend> ref_owned;
  Backend* ref = backend_.get();
  if (!same_weights || !same_kv) {
    std::shared_ptr<const Model> ref_model =
        same_weights ? model_ : std::make_shared<Model>(load_model(other_file ? GgufFile::open(req.reference) : model_->file));
    if (ref_model->config.vocab != vocab)
      fail("eval: the reference %s has a vocabulary of %d tokens, this model %d", req.reference.c_str(),
           ref_model->config.vocab, vocab);
    BackendOptions bo;
    bo.threads = opts_.threads;
    bo.context = ctx;
    bo.kv = KvType::F16;
    ref_owned = make_backend(backend_->name(), std::move(ref_model), bo);
    ref = ref_owned.get();
  }

  EvalResult r;
  r.ctx = ctx;
  r.text_tokens = (int)tokens.size();
  r.weights = opts_.weights;
  r.kv = opts_.kv;
  const size_t plane = (size_t)ctx * (size_t)vocab;
  std::vector<float> logits(plane), ref_logits(ref == backend_.get() ? 0 : plane);
  std::vector<int32_t> chunk((size_t)ctx);
  EvalStats stats;
  const int first = ctx / 2;
  kv_tokens_.clear();  // the chunks overwrite the prefix cache
  for (int c = 0; c < n_chunks; c++) {
    if (req.cancel && req.cancel->load(std::memory_order_relaxed)) {
      r.cancelled = true;
      break;
    }
    std::copy(tokens.begin() + (size_t)c * ctx, tokens.begin() + (size_t)(c + 1) * ctx, chunk.begin());
    if (tokenizer_->add_bos() && tokenizer_->bos() >= 0) chunk[0] = tokenizer_->bos();
    backend_->forward(chunk.data(), ctx, 0, logits.data(), true);
    const float* ref_rows = logits.data();
    if (ref != backend_.get()) {
      ref->forward(chunk.data(), ctx, 0, ref_logits.data(), true);
      ref_rows = ref_logits.data();
    }
    for (int j = first; j < ctx - 1; j++)
      stats.add(score_token(logits.data() + (size_t)j * vocab, ref_rows + (size_t)j * vocab, vocab, chunk[(size_t)j + 1]));
    r.chunks = c + 1;
    if (req.on_chunk) req.on_chunk(c + 1, n_chunks);
  }
  kv_tokens_.clear();

  r.tokens = stats.count();
  r.kld_mean = stats.kld_mean();
  r.kld_p99 = stats.kld_percentile(0.99);
  r.kld_median = stats.kld_percentile(0.5);
  r.kld_max = stats.kld_max();
  r.top1_agreement = stats.top1_agreement();
  r.ppl = stats.ppl();
  r.ppl_ref = stats.ppl_ref();
  r.ms = now_ms() - t0;
  return r;
}

}  // namespace km
