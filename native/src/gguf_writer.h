// Writes GGUF v3 files (the layout llama.cpp reads): header, metadata,
// tensor infos, then the tensor data, each tensor aligned. Tensors are added
// with a fill function that produces their bytes only when they are written,
// so a 7B model is generated and written one tensor at a time. The same
// writer can lay the image out in memory (in-memory synthetic models), and a
// file is written atomically: a temporary file in the same folder, flushed,
// then renamed over the target, so an interrupted write leaves no partial file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "keymate/ggml_types.h"
#include "keymate/gguf.h"

namespace km {

class GgufWriter {
 public:
  // Fills exactly `n_bytes` bytes of one tensor at dst.
  using Fill = std::function<void(uint8_t* dst, uint64_t n_bytes)>;

  explicit GgufWriter(uint32_t alignment = 32);

  void add_string(std::string_view key, std::string_view value);
  void add_u32(std::string_view key, uint32_t value);
  void add_i32(std::string_view key, int32_t value);
  void add_u64(std::string_view key, uint64_t value);
  void add_f32(std::string_view key, float value);
  void add_bool(std::string_view key, bool value);
  void add_string_array(std::string_view key, const std::vector<std::string_view>& items);
  // An array of a fixed-size kind; `items` holds count little-endian items.
  void add_array(std::string_view key, GgufKind item_kind, uint64_t count, const void* items);
  // Copies a value read by GgufFile (scalars, strings, arrays of them).
  void add_value(std::string_view key, const GgufValue& value);

  // shape: ne[0] first (the contiguous dimension), as GGUF stores it.
  void add_tensor(std::string_view name, GgmlType type, const std::vector<uint64_t>& shape, Fill fill);

  uint64_t header_bytes() const;  // metadata + tensor infos + padding: where data starts
  uint64_t total_bytes() const;   // the whole image

  // Writes path atomically. Throws km::Error "<path>: <what went wrong>".
  void write_file(const std::string& path) const;
  // Lays the whole image out at dst (total_bytes() bytes).
  void write_memory(uint8_t* dst) const;

 private:
  struct TensorEntry {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes;
    uint64_t offset;  // from the start of the data section
    Fill fill;
  };
  void begin_kv(std::string_view key, GgufKind kind);
  std::vector<uint8_t> header() const;

  uint32_t alignment_;
  uint64_t kv_count_ = 0;
  std::vector<uint8_t> kv_;  // serialized key/value pairs
  std::vector<std::string> keys_;
  std::vector<TensorEntry> tensors_;
  uint64_t data_bytes_ = 0;
};

}  // namespace km
