// Where the importance of each weight column (importance.h) comes from when
// a model is converted to a run format at load.
//
// Measuring: the model runs in its stored precision on the CPU backend over
// a calibration text, in chunks of kCalibrationCtx tokens each opened by BOS
// (llama-imatrix's protocol), and an observer of the backend
// (MatInputObserver) sums x_k^2 of every row entering every matrix, and the
// products x_i x_j within blocks of kCovBlock columns for the error feedback
// (error_feedback.h; not for the output matrix, which stays 8-bit).
//
// The policy at load (`LoadOptions::imatrix`):
//   auto  the formats the search gains from (importance_helps) measure it on
//         the calibration text built into the engine (native/data/), written
//         for the purpose: dialogue, instructions, code, facts and stories.
//         The result is kept in the cache folder, named by the model's
//         identity (a hash of its tensors and hyper-parameters) and the
//         text's, so each model pays once; the cost is bounded by
//         kDefaultCalibrationTokens (docs/ACCURACY.md measures it).
//         A synthetic model (random weights, no file) is not calibrated.
//   off   unweighted scale search, no error feedback
//   PATH  an imatrix GGUF: llama-imatrix's (the weighted search only) or one
//         keymate wrote (with the covariance: the error feedback too)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "keymate/model.h"
#include "quant/importance.h"
#include "quant/weight_formats.h"

namespace km {
class Tokenizer;
}

namespace km::quant {

constexpr int kCalibrationCtx = 512;                // tokens per chunk (at most the model's context)
constexpr int64_t kDefaultCalibrationTokens = 8192;  // the built-in text is shorter for most vocabularies

// The calibration text built into the engine.
std::string_view builtin_calibration_text();

struct CalibrateOptions {
  int threads = 0;         // 0 = one per physical core
  int ctx = kCalibrationCtx;
  int64_t max_tokens = kDefaultCalibrationTokens;  // 0 = the whole text
  bool covariance = true;  // also the block covariance (importance.h) the 4-bit formats' error feedback uses
};

// Runs `m` (stored precision) over `text` and returns the importance of
// every matrix it multiplies. `dataset` names the text in the result.
Importance collect_importance(std::shared_ptr<const Model> m, const Tokenizer& tok, std::string_view text,
                              const std::string& dataset, const CalibrateOptions& o);

// Whether format `f` is converted with importance under `auto`.
bool importance_helps(const WeightFormat& f);

struct ImportanceRequest {
  std::string source = "auto";   // auto | off | path of an imatrix GGUF
  std::string cache_dir;         // auto: where results are kept ("": computed at every load)
  std::string text;              // auto: the calibration text ("": the built-in one)
  bool synthetic = false;        // a synthetic model: auto means off
  int threads = 0;
};

struct ImportanceUse {
  Importance importance;   // empty: unweighted
  std::string origin;      // "off" | "file" | "cache" | "computed"
  std::string path;        // the file read, or the cache file written ("" if none)
  int64_t tokens = 0;      // rows per matrix it was measured on
  double ms = 0;           // time spent measuring (or reading)
  std::string describe() const;  // one line for people
};

// The importance a load of `m` (not yet converted) to format `f` uses.
// Throws km::Error for a bad file; a cache that cannot be written is not an
// error (the result is used, and measured again next time).
ImportanceUse importance_for_load(const std::shared_ptr<Model>& m, const WeightFormat& f, const ImportanceRequest& r);

}  // namespace km::quant
