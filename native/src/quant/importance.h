// How much each input column of each weight matrix matters: the mean of x_k^2
// over the activations x that entered the matrix on a calibration text. A
// weight's quantization error reaches the matrix's output scaled by its
// input, so on average a row's output error is sum_k E[x_k^2] (dw_k)^2 (the
// inputs' cross terms aside): the importance is the weight of each column
// in the scale search's error (scale_search.h).
//
// On disk it is llama.cpp's imatrix GGUF (general.type "imatrix"): for each
// weight "<name>.in_sum2" (F32 [cols, 1], the sum of x_k^2) and
// "<name>.counts" (F32 [1, 1], the rows summed), so a file made by
// llama-imatrix loads here and one made here feeds llama-quantize --imatrix.
// Expert tensors (more than one matrix per name) are refused: no family the
// engine runs has them.
//
// Keymate also measures the inputs' covariance within blocks of kCovBlock
// columns (the cross terms the mean above leaves out), which the 4-bit
// formats' error feedback uses (error_feedback.h). It travels in the same
// file as "<name>.in_cov" (F32 [kCovBlock, kCovBlock, blocks]: the sums of
// x_i x_j, i and j in one block; the last block, when cols is not a
// multiple, uses its top-left corner), once per input: the weights that
// share it are listed in "keymate.imatrix.in_cov_shared". llama.cpp's loader
// skips tensors it does not know, so the file still feeds llama-quantize.
// Covariance in blocks of another size is left out when read (the sums of
// squares are used as llama-imatrix's are).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace km::quant {

// 128: the feedback's gain grows with the block (docs/ACCURACY.md compares
// 128 with 256) and so do the file and the calibration's time; a 7B's
// covariance comes to about 380 MB at 128 (32 layers x 23,296 input columns x 128 floats).
constexpr int kCovBlock = 128;

// How many floats the covariance blocks of `cols` columns take.
inline int64_t cov_floats(int64_t cols) { return (cols + kCovBlock - 1) / kCovBlock * kCovBlock * kCovBlock; }

struct ColumnStats {
  std::vector<double> sum2;  // [cols] sum of x_k^2 over the rows seen
  double count = 0;          // rows seen
  // [cov_floats(cols)] the block covariance sums, or null (not measured:
  // llama-imatrix's files). Shared by the weights that read one input.
  std::shared_ptr<const std::vector<float>> cov;
};

struct Importance {
  std::map<std::string, ColumnStats> tensors;  // by weight name ("blk.0.attn_q.weight")
  std::string dataset;       // what it was measured on, in words
  int chunks = 0, chunk_size = 0;

  bool empty() const { return tensors.empty(); }
  // The mean x_k^2 of the weight `name` [cols], or empty when it has no
  // entry (then it is quantized unweighted). Throws km::Error when the entry
  // has another column count: the file was made for another model.
  std::vector<float> mean(const std::string& name, int64_t cols) const;
};

// Reads an imatrix GGUF. Throws km::Error "<path>: <what is wrong>" (not a
// GGUF, not an imatrix, a tensor of the wrong type or shape, a count of 0 or
// a non-finite sum).
Importance read_imatrix(const std::string& path);

// Writes `imp` as an imatrix GGUF, atomically.
void write_imatrix(const std::string& path, const Importance& imp);

}  // namespace km::quant
