// GgufWriter: metadata is serialized as it is added (little-endian, the only
// byte order GGUF has; this code assumes a little-endian host, as the reader
// does); tensor data is produced by each tensor's fill function at write time.
#include "gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "atomic_file.h"
#include "keymate/error.h"

namespace km {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

size_t kind_size(GgufKind k) {
  switch (k) {
    case GgufKind::U8: case GgufKind::I8: case GgufKind::BOOL: return 1;
    case GgufKind::U16: case GgufKind::I16: return 2;
    case GgufKind::U32: case GgufKind::I32: case GgufKind::F32: return 4;
    case GgufKind::U64: case GgufKind::I64: case GgufKind::F64: return 8;
    default: return 0;  // STRING, ARRAY: variable size
  }
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("gguf writer: alignment %u is not a power of two", alignment);
  if (alignment != 32) add_u32("general.alignment", alignment);
}

void GgufWriter::begin_kv(std::string_view key, GgufKind kind) {
  if (key.empty()) fail("gguf writer: empty metadata key");
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end())
    fail("gguf writer: metadata key %.*s added twice", static_cast<int>(key.size()), key.data());
  keys_.emplace_back(key);
  put_string(kv_, key);
  put<uint32_t>(kv_, static_cast<uint32_t>(kind));
  kv_count_++;
}

void GgufWriter::add_string(std::string_view key, std::string_view value) {
  begin_kv(key, GgufKind::STRING);
  put_string(kv_, value);
}
void GgufWriter::add_u32(std::string_view key, uint32_t value) {
  begin_kv(key, GgufKind::U32);
  put(kv_, value);
}
void GgufWriter::add_i32(std::string_view key, int32_t value) {
  begin_kv(key, GgufKind::I32);
  put(kv_, value);
}
void GgufWriter::add_u64(std::string_view key, uint64_t value) {
  begin_kv(key, GgufKind::U64);
  put(kv_, value);
}
void GgufWriter::add_f32(std::string_view key, float value) {
  begin_kv(key, GgufKind::F32);
  put(kv_, value);
}
void GgufWriter::add_bool(std::string_view key, bool value) {
  begin_kv(key, GgufKind::BOOL);
  put<uint8_t>(kv_, value ? 1 : 0);
}

void GgufWriter::add_string_array(std::string_view key, const std::vector<std::string_view>& items) {
  begin_kv(key, GgufKind::ARRAY);
  put<uint32_t>(kv_, static_cast<uint32_t>(GgufKind::STRING));
  put<uint64_t>(kv_, items.size());
  for (auto s : items) put_string(kv_, s);
}

void GgufWriter::add_array(std::string_view key, GgufKind item_kind, uint64_t count, const void* items) {
  const size_t size = kind_size(item_kind);
  if (size == 0)
    fail("gguf writer: %.*s: add_array takes fixed-size items, not kind %u", static_cast<int>(key.size()),
         key.data(), static_cast<unsigned>(item_kind));
  begin_kv(key, GgufKind::ARRAY);
  put<uint32_t>(kv_, static_cast<uint32_t>(item_kind));
  put<uint64_t>(kv_, count);
  const auto* p = static_cast<const uint8_t*>(items);
  kv_.insert(kv_.end(), p, p + count * size);
}

void GgufWriter::add_value(std::string_view key, const GgufValue& v) {
  switch (v.kind) {
    case GgufKind::STRING: add_string(key, v.str); return;
    case GgufKind::ARRAY:
      if (v.item_kind == GgufKind::STRING) return add_string_array(key, v.strings);
      if (kind_size(v.item_kind) == 0)
        fail("gguf writer: %.*s: copying nested arrays is not supported", static_cast<int>(key.size()), key.data());
      return add_array(key, v.item_kind, v.count, v.items);
    default: break;
  }
  begin_kv(key, v.kind);
  switch (v.kind) {
    case GgufKind::U8: put<uint8_t>(kv_, static_cast<uint8_t>(v.u)); break;
    case GgufKind::I8: put<int8_t>(kv_, static_cast<int8_t>(v.i)); break;
    case GgufKind::U16: put<uint16_t>(kv_, static_cast<uint16_t>(v.u)); break;
    case GgufKind::I16: put<int16_t>(kv_, static_cast<int16_t>(v.i)); break;
    case GgufKind::U32: put<uint32_t>(kv_, static_cast<uint32_t>(v.u)); break;
    case GgufKind::I32: put<int32_t>(kv_, static_cast<int32_t>(v.i)); break;
    case GgufKind::U64: put<uint64_t>(kv_, v.u); break;
    case GgufKind::I64: put<int64_t>(kv_, v.i); break;
    case GgufKind::F32: put<float>(kv_, static_cast<float>(v.f)); break;
    case GgufKind::F64: put<double>(kv_, v.f); break;
    case GgufKind::BOOL: put<uint8_t>(kv_, v.i ? 1 : 0); break;
    default:
      fail("gguf writer: %.*s: unknown metadata kind %u", static_cast<int>(key.size()), key.data(),
           static_cast<unsigned>(v.kind));
  }
}

void GgufWriter::add_tensor(std::string_view name, GgmlType type, const std::vector<uint64_t>& shape,
                            Fill fill) {
  const GgmlTypeInfo info = ggml_type_info(type);
  const std::string n(name);
  if (!info.name) fail("gguf writer: tensor %s: unknown type %u", n.c_str(), static_cast<unsigned>(type));
  if (shape.empty() || shape.size() > 4) fail("gguf writer: tensor %s: %zu dimensions", n.c_str(), shape.size());
  if (shape[0] % info.block_elems != 0)
    fail("gguf writer: tensor %s: row of %llu is not a multiple of the %s block size %u", n.c_str(),
         static_cast<unsigned long long>(shape[0]), info.name, info.block_elems);
  for (const auto& t : tensors_)
    if (t.name == n) fail("gguf writer: tensor %s added twice", n.c_str());
  uint64_t rows = 1;
  for (size_t i = 1; i < shape.size(); i++) rows *= shape[i];
  TensorEntry e{n, type, shape, ggml_row_bytes(type, shape[0]) * rows, 0, std::move(fill)};
  e.offset = align_up(data_bytes_, alignment_);
  data_bytes_ = e.offset + e.n_bytes;
  tensors_.push_back(std::move(e));
}

std::vector<uint8_t> GgufWriter::header() const {
  std::vector<uint8_t> h;
  put<uint32_t>(h, kMagic);
  put<uint32_t>(h, kVersion);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, kv_count_);
  h.insert(h.end(), kv_.begin(), kv_.end());
  for (const auto& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) put<uint64_t>(h, d);
    put<uint32_t>(h, static_cast<uint32_t>(t.type));
    put<uint64_t>(h, t.offset);
  }
  h.resize(align_up(h.size(), alignment_), 0);
  return h;
}

uint64_t GgufWriter::header_bytes() const { return header().size(); }

uint64_t GgufWriter::total_bytes() const { return header_bytes() + align_up(data_bytes_, alignment_); }

void GgufWriter::write_memory(uint8_t* dst) const {
  const std::vector<uint8_t> h = header();
  std::memcpy(dst, h.data(), h.size());
  uint8_t* data = dst + h.size();
  uint64_t at = 0;
  for (const auto& t : tensors_) {
    std::memset(data + at, 0, t.offset - at);  // alignment padding
    t.fill(data + t.offset, t.n_bytes);
    at = t.offset + t.n_bytes;
  }
  std::memset(data + at, 0, align_up(data_bytes_, alignment_) - at);
}

void GgufWriter::write_file(const std::string& path) const {
  AtomicFile out(path);
  const std::vector<uint8_t> h = header();
  out.write(h.data(), h.size());
  std::vector<uint8_t> buf;
  const std::vector<uint8_t> zeros(alignment_, 0);  // padding is < alignment
  uint64_t at = 0;
  for (const auto& t : tensors_) {
    out.write(zeros.data(), t.offset - at);
    buf.resize(static_cast<size_t>(t.n_bytes));
    t.fill(buf.data(), t.n_bytes);
    out.write(buf.data(), buf.size());
    at = t.offset + t.n_bytes;
  }
  out.write(zeros.data(), align_up(data_bytes_, alignment_) - at);
  out.commit();
}

}  // namespace km
