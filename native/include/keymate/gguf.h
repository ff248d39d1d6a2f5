// A GGUF v2/v3 file, mapped read-only. Parsing validates every count, length,
// type and offset against the file size before it is used, so a hostile file
// fails with one km::Error naming the file and the problem: never a crash, a
// hang, or an allocation larger than the file itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keymate/ggml_types.h"

namespace km {

enum class GgufKind : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

// One metadata value. Scalars are widened into i/u/f; strings and array items
// point into the mapping (valid while the GgufFile lives).
struct GgufValue {
  GgufKind kind = GgufKind::U8;
  int64_t i = 0;     // signed integer kinds and BOOL
  uint64_t u = 0;    // unsigned integer kinds
  double f = 0;      // F32 / F64
  std::string_view str;  // STRING
  GgufKind item_kind = GgufKind::U8;  // ARRAY: kind of the items
  uint64_t count = 0;                 // ARRAY: number of items
  const uint8_t* items = nullptr;     // ARRAY: raw little-endian items (fixed-size kinds)
  std::vector<std::string_view> strings;  // ARRAY of STRING: the items

  // Typed access with a clear error when the kind does not fit.
  uint64_t as_uint(std::string_view key) const;
  int64_t as_int(std::string_view key) const;
  double as_float(std::string_view key) const;
  bool as_bool(std::string_view key) const;
  std::string_view as_string(std::string_view key) const;
};

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> shape;  // ne[0] first: ne[0] is the contiguous (row) dimension
  uint64_t offset = 0;          // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  uint64_t rows() const { return n_elements / (shape.empty() ? 1 : shape[0]); }
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

class GgufFile {
 public:
  // Maps and parses `path`. Throws km::Error "<path>: <what is wrong>".
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Parses an in-memory image (used by the fuzzer and tests); `name` labels errors.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, std::string name);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t file_size() const { return size_; }
  const std::vector<GgufKV>& metadata() const { return kv_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  const GgufValue* find(std::string_view key) const;     // nullptr if absent
  const GgufTensor* tensor(std::string_view name) const;  // nullptr if absent

  // Metadata helpers: `get_*` throw "<path>: missing metadata <key>" when absent.
  uint64_t get_uint(std::string_view key) const;
  uint64_t get_uint(std::string_view key, uint64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  std::string_view get_string(std::string_view key) const;
  std::string_view get_string(std::string_view key, std::string_view fallback) const;

 private:
  GgufFile() = default;
  void parse_image();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensor> tensors_;
};

}  // namespace km
