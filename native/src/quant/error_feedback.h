// Error feedback for the 4-bit run formats: a row's rounding errors carried
// onto the weights not yet rounded, so that the matrix's *output* error is
// small, not each weight's (the idea of GPTQ, Frantar et al. 2022, applied
// within blocks of columns).
//
// A row w whose quantization error is e adds e.x to the output for an input
// x; over the calibration text the mean of (e.x)^2 is e^T H e, with H the
// inputs' covariance. The diagonal of H is the importance the scale search
// weighs by (importance.h); its off-diagonal terms say that an error in one
// column can be cancelled by errors in columns that move with it. Going
// through a block's columns in order, each weight is rounded to its group's
// level and the error is spread over the block's later columns in the
// proportion H^-1 gives, the least-squares correction for the columns left.
// The block's factor U (the upper Cholesky factor of H^-1) makes each step
// one row of U.
//
// H is measured within blocks of kCovBlock columns (importance.h), so the
// feedback stays inside a block: the cost is O(cols * kCovBlock) a row, and
// the covariance kCovBlock floats a column. A group's scale is searched at
// its first column, on the values the feedback has left there.
//
// That pass is greedy: each weight and each scale is decided once, before
// the weights after it are known. A polish then descends e^T H e from where
// the pass ended (coordinate descent over the levels, and a joint refit of
// each block's group scales), which lowers the output error further at a
// cost of the same order (docs/ACCURACY.md measures both).
//
// Where the importance has no covariance (llama-imatrix's files, or
// KEYMATE_QUANT_FEEDBACK=off) rows are rounded as quantize_run_row does.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "keymate/formats_run.h"
#include "quant/scale_search.h"

namespace km::quant {

// H is damped by this fraction of its mean diagonal: a block's columns that
// the text never excited, or that always move together, would make it
// singular. A block whose factor fails anyway is damped ten times more, up to
// 1, then left to plain rounding.
constexpr double kFeedbackDamping = 0.01;

// How conversions use the covariance, where the importance has it
// (KEYMATE_QUANT_FEEDBACK): on (or unset) the greedy pass and then the
// polish; greedy the pass alone; off neither (the weighted search, the
// baseline the accuracy tables compare against). Throws km::Error on other
// values.
enum class FeedbackMode { Off, Greedy, On };
FeedbackMode feedback_from_env();

// One matrix's factors, from its input's covariance sums. Each block's h is
// the sums over their mean diagonal (the rows' count cancels), plus the
// damping on the diagonal.
struct Feedback {
  int64_t cols = 0;
  std::shared_ptr<const std::vector<float>> sums;  // what they were made from (the polish reads h from it)
  std::vector<float> u;  // [blocks][kCovBlock][kCovBlock] upper Cholesky factor of h^-1 (h^-1 = U^T U)
  std::vector<double> norm, damping;  // [blocks] h = sums * norm + damping * I; norm 0: h = I (plain rounding)
};

// From sums[cov_floats(cols)] (importance.h's layout), which the result keeps.
Feedback feedback_for(std::shared_ptr<const std::vector<float>> sums, int64_t cols);

// Block b of the h the factors were made from [kCovBlock * kCovBlock]
// (zeros past the block's columns).
std::vector<double> damped_block(const Feedback& f, int64_t b);

// Encodes x[0, cols) into `row` in format q (a grouped 4-bit run type) with
// error feedback, each group's scale searched as quantize_run_row does (with
// the column weights w). With `polish`, the greedy pass's levels and scales
// are then improved block by block, each step lowering e^T h e (the .cpp says
// how). Returns the row's e^T h e at the end; without the polish it is also
// the sum of the greedy steps' errors (each scaled by U's diagonal, squared).
double quantize_run_row_feedback(RunQuant q, const float* x, int64_t cols, uint8_t* row, ScaleRule rule,
                                 const float* w, const Feedback& f, bool polish = true);

// e^T h e for e = x - decoded: the output error on the calibration text, up
// to the damping (tests compare the plain search and the feedback by it).
double feedback_error(const Feedback& f, const float* x, const float* decoded);

}  // namespace km::quant
