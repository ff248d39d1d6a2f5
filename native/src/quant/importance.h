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
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace km::quant {

struct ColumnStats {
  std::vector<double> sum2;  // [cols] sum of x_k^2 over the rows seen
  double count = 0;          // rows seen
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
