// GGUF v2/v3 reader. The whole file is mapped read-only and parsed by a bounds
// checked cursor: every length or count read from the file is compared with the
// bytes that remain before anything is allocated or dereferenced, so the largest
// allocation a file can cause is proportional to its own size. Metadata strings,
// array items and tensor data are views into the mapping, never copies.
//
// Layout (little-endian): "GGUF", u32 version, u64 tensor count, u64 kv count,
// kv pairs (string key, u32 kind, value), tensor infos (string name, u32 n_dims,
// u64 dims[n_dims], u32 type, u64 offset), padding to general.alignment, data.
#include "keymate/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "keymate/error.h"

namespace km {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint32_t kMaxDims = 4;             // ggml's GGML_MAX_DIMS
constexpr uint64_t kDefaultAlignment = 32;
// A sane ceiling for general.alignment: a larger one only serves to push the
// data section out of the file or overflow offset arithmetic.
constexpr uint64_t kMaxAlignment = 1u << 20;
// Ceilings on the entry counts. Real llama-family files hold tens of metadata
// entries and at most a few thousand tensors; the in-memory entries are several
// times larger than their smallest encoding, so without a ceiling a large
// hostile file could still ask for many times its own size.
constexpr uint64_t kMaxKv = 1u << 16;
constexpr uint64_t kMaxTensors = 1u << 20;

const char* kind_name(uint32_t k) {
  static const char* names[] = {"u8",  "i8",   "u16",    "i16",   "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  return k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

// Size in bytes of a fixed-size metadata kind, 0 for STRING/ARRAY/unknown.
uint32_t kind_size(uint32_t k) {
  switch (static_cast<GgufKind>(k)) {
    case GgufKind::U8: case GgufKind::I8: case GgufKind::BOOL: return 1;
    case GgufKind::U16: case GgufKind::I16: return 2;
    case GgufKind::U32: case GgufKind::I32: case GgufKind::F32: return 4;
    case GgufKind::U64: case GgufKind::I64: case GgufKind::F64: return 8;
    default: return 0;
  }
}

// Names from the file go into one-line error messages: keep them printable and short.
std::string printable(std::string_view s) {
  std::string out;
  const size_t limit = 80;
  for (size_t i = 0; i < s.size() && i < limit; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > limit) out += "...";
  return out;
}

// A bounds-checked little-endian reader over the image. Errors name the file,
// what was being read and the byte offset, so a corrupt file can be diagnosed.
class Cursor {
 public:
  Cursor(const uint8_t* base, size_t size, const std::string& name) : base_(base), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      fail("%s: truncated file: %s needs %llu bytes at offset %zu but only %llu remain", name_.c_str(), what,
           (unsigned long long)n, pos_, (unsigned long long)remaining());
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  const uint8_t* take(uint64_t n, const char* what) {
    need(n, what);
    const uint8_t* p = base_ + pos_;
    pos_ += n;
    return p;
  }
  std::string_view string(const char* what) {
    uint64_t len = read<uint64_t>(what);
    if (len > remaining())
      fail("%s: %s has length %llu at offset %zu, past the end of the file (%llu bytes remain)", name_.c_str(),
           what, (unsigned long long)len, pos_ - 8, (unsigned long long)remaining());
    return std::string_view(reinterpret_cast<const char*>(take(len, what)), len);
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

template <typename T>
T load(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

// Reads one value of kind `kind` into v. Arrays hold fixed-size items or
// strings; an array of arrays is legal GGUF but nothing in the llama family
// uses it and llama.cpp itself refuses it, so it is rejected by name.
void read_value(Cursor& c, const std::string& file, const std::string& key, uint32_t kind, GgufValue& v) {
  v.kind = static_cast<GgufKind>(kind);
  switch (v.kind) {
    case GgufKind::U8: v.u = c.read<uint8_t>("u8 value"); return;
    case GgufKind::I8: v.i = c.read<int8_t>("i8 value"); return;
    case GgufKind::U16: v.u = c.read<uint16_t>("u16 value"); return;
    case GgufKind::I16: v.i = c.read<int16_t>("i16 value"); return;
    case GgufKind::U32: v.u = c.read<uint32_t>("u32 value"); return;
    case GgufKind::I32: v.i = c.read<int32_t>("i32 value"); return;
    case GgufKind::U64: v.u = c.read<uint64_t>("u64 value"); return;
    case GgufKind::I64: v.i = c.read<int64_t>("i64 value"); return;
    case GgufKind::F32: v.f = c.read<float>("f32 value"); return;
    case GgufKind::F64: v.f = c.read<double>("f64 value"); return;
    case GgufKind::BOOL: {
      uint8_t b = c.read<uint8_t>("bool value");
      if (b > 1) fail("%s: metadata %s: bool value %u is neither 0 nor 1", file.c_str(), key.c_str(), b);
      v.i = b;
      return;
    }
    case GgufKind::STRING: v.str = c.string("string value"); return;
    case GgufKind::ARRAY: {
      uint32_t item = c.read<uint32_t>("array item kind");
      uint64_t count = c.read<uint64_t>("array count");
      v.item_kind = static_cast<GgufKind>(item);
      v.count = count;
      if (item == static_cast<uint32_t>(GgufKind::ARRAY))
        fail("%s: metadata %s: arrays of arrays are not supported", file.c_str(), key.c_str());
      if (item == static_cast<uint32_t>(GgufKind::STRING)) {
        // Each string is at least its 8-byte length: bound the count before reserving.
        if (count > c.remaining() / 8)
          fail("%s: metadata %s: array of %llu strings cannot fit in the %llu bytes that remain", file.c_str(),
               key.c_str(), (unsigned long long)count, (unsigned long long)c.remaining());
        v.strings.reserve(count);
        for (uint64_t j = 0; j < count; j++) v.strings.push_back(c.string("array string"));
        return;
      }
      uint32_t size = kind_size(item);
      if (size == 0)
        fail("%s: metadata %s: array item kind %u is unknown", file.c_str(), key.c_str(), item);
      if (count > c.remaining() / size)
        fail("%s: metadata %s: array of %llu %s items cannot fit in the %llu bytes that remain", file.c_str(),
             key.c_str(), (unsigned long long)count, kind_name(item), (unsigned long long)c.remaining());
      v.items = c.take(count * size, "array items");
      if (item == static_cast<uint32_t>(GgufKind::BOOL))
        for (uint64_t j = 0; j < count; j++)
          if (v.items[j] > 1)
            fail("%s: metadata %s: bool item %llu is %u, neither 0 nor 1", file.c_str(), key.c_str(),
                 (unsigned long long)j, v.items[j]);
      return;
    }
  }
  fail("%s: metadata %s has unknown kind %u", file.c_str(), key.c_str(), kind);
}

bool is_signed(GgufKind k) {
  return k == GgufKind::I8 || k == GgufKind::I16 || k == GgufKind::I32 || k == GgufKind::I64;
}
bool is_unsigned(GgufKind k) {
  return k == GgufKind::U8 || k == GgufKind::U16 || k == GgufKind::U32 || k == GgufKind::U64;
}

}  // namespace

// ---- GgufValue: typed access -------------------------------------------------
// Integer kinds convert into each other when the value fits, because writers
// disagree on signedness (context_length is u32 in llama.cpp, i32 elsewhere).

uint64_t GgufValue::as_uint(std::string_view key) const {
  if (is_unsigned(kind)) return u;
  if (is_signed(kind)) {
    if (i < 0) fail("metadata %s: expected an unsigned integer, found %lld", printable(key).c_str(), (long long)i);
    return static_cast<uint64_t>(i);
  }
  fail("metadata %s: expected an unsigned integer, found %s", printable(key).c_str(),
       kind_name(static_cast<uint32_t>(kind)));
}

int64_t GgufValue::as_int(std::string_view key) const {
  if (is_signed(kind)) return i;
  if (is_unsigned(kind)) {
    if (u > static_cast<uint64_t>(INT64_MAX))
      fail("metadata %s: %llu does not fit a signed integer", printable(key).c_str(), (unsigned long long)u);
    return static_cast<int64_t>(u);
  }
  fail("metadata %s: expected an integer, found %s", printable(key).c_str(), kind_name(static_cast<uint32_t>(kind)));
}

double GgufValue::as_float(std::string_view key) const {
  if (kind == GgufKind::F32 || kind == GgufKind::F64) return f;
  if (is_signed(kind)) return static_cast<double>(i);
  if (is_unsigned(kind)) return static_cast<double>(u);
  fail("metadata %s: expected a number, found %s", printable(key).c_str(), kind_name(static_cast<uint32_t>(kind)));
}

bool GgufValue::as_bool(std::string_view key) const {
  if (kind == GgufKind::BOOL) return i != 0;
  fail("metadata %s: expected a bool, found %s", printable(key).c_str(), kind_name(static_cast<uint32_t>(kind)));
}

std::string_view GgufValue::as_string(std::string_view key) const {
  if (kind == GgufKind::STRING) return str;
  fail("metadata %s: expected a string, found %s", printable(key).c_str(), kind_name(static_cast<uint32_t>(kind)));
}

// ---- GgufFile ----------------------------------------------------------------

namespace {

// "a folder", "a named pipe (FIFO)": what a path that is not a model file is.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  // O_NONBLOCK: a plain open of a named pipe waits for a writer, which would
  // hang the engine (and, through a synchronous call, the app). With it a FIFO
  // opens at once and fstat below refuses it; a socket fails here with ENXIO.
  // O_NOCTTY: a terminal named by mistake never becomes our controlling tty.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENXIO) fail("%s: is a socket, not a model file", path.c_str());
    fail("%s: cannot open: %s", path.c_str(), strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail("%s: cannot stat: %s", path.c_str(), strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("%s: is %s, not a model file", path.c_str(), file_kind(st.st_mode));
  }
  if (st.st_size == 0) {
    ::close(fd);
    fail("%s: the file is empty, not a GGUF model", path.c_str());
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) fail("%s: cannot map: %s", path.c_str(), strerror(e));

  std::unique_ptr<GgufFile> g(new GgufFile());
  g->path_ = path;
  g->base_ = static_cast<const uint8_t*>(p);
  g->size_ = static_cast<size_t>(st.st_size);
  g->mapped_ = true;  // from here the destructor unmaps, also when parsing throws
  g->parse_image();
  return g;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->path_ = std::move(name);
  g->base_ = data;
  g->size_ = size;
  g->parse_image();
  return g;
}

GgufFile::~GgufFile() {
  if (mapped_) munmap(const_cast<uint8_t*>(base_), size_);
}

void GgufFile::parse_image() {
  const char* file = path_.c_str();
  Cursor c(base_, size_, path_);

  if (size_ < 4 || load<uint32_t>(base_) != kGgufMagic)
    fail("%s: not a GGUF file (bad magic)", file);
  c.take(4, "magic");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1)
    fail("%s: GGUF version 1 is not supported: convert it to v3 with a current llama.cpp", file);
  if (version_ != 2 && version_ != 3) {
    // A big-endian file reads its version byte-swapped (3 -> 0x03000000).
    if (__builtin_bswap32(version_) == 2 || __builtin_bswap32(version_) == 3)
      fail("%s: big-endian GGUF files are not supported", file);
    fail("%s: unsupported GGUF version %u (expected 2 or 3)", file, version_);
  }
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");

  if (n_kv > kMaxKv)
    fail("%s: metadata count %llu is absurd (at most %llu)", file, (unsigned long long)n_kv,
         (unsigned long long)kMaxKv);
  if (n_tensors > kMaxTensors)
    fail("%s: tensor count %llu is absurd (at most %llu)", file, (unsigned long long)n_tensors,
         (unsigned long long)kMaxTensors);
  // Smallest possible kv: 8-byte key length + 4-byte kind + 1-byte value.
  if (n_kv > c.remaining() / 13)
    fail("%s: metadata count %llu cannot fit in a %zu-byte file", file, (unsigned long long)n_kv, size_);
  // Smallest possible tensor info: 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
  if (n_tensors > c.remaining() / 24)
    fail("%s: tensor count %llu cannot fit in a %zu-byte file", file, (unsigned long long)n_tensors, size_);

  std::unordered_set<std::string_view> seen;
  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; k++) {
    std::string_view key = c.string("metadata key");
    std::string key_p = printable(key);
    if (!seen.insert(key).second) fail("%s: duplicate metadata key %s", file, key_p.c_str());
    uint32_t kind = c.read<uint32_t>("metadata kind");
    GgufKV kv;
    kv.key = std::string(key);
    read_value(c, path_, key_p, kind, kv.value);
    kv_.push_back(std::move(kv));
  }

  alignment_ = kDefaultAlignment;
  if (const GgufValue* a = find("general.alignment")) {
    if (!is_unsigned(a->kind) && !is_signed(a->kind))
      fail("%s: general.alignment must be an integer, found %s", file, kind_name(static_cast<uint32_t>(a->kind)));
    const int64_t si = is_signed(a->kind) ? a->i : 0;
    const uint64_t al = is_unsigned(a->kind) ? a->u : static_cast<uint64_t>(si);
    if (si < 0 || al == 0 || (al & (al - 1)) != 0 || al > kMaxAlignment)
      fail("%s: general.alignment %lld is not a power of two between 1 and %llu", file,
           is_signed(a->kind) ? (long long)si : (long long)al, (unsigned long long)kMaxAlignment);
    alignment_ = al;
  }

  seen.clear();
  tensors_.reserve(n_tensors);
  for (uint64_t t = 0; t < n_tensors; t++) {
    GgufTensor ti;
    std::string_view name = c.string("tensor name");
    ti.name = std::string(name);
    std::string name_p = printable(name);
    if (!seen.insert(name).second) fail("%s: duplicate tensor %s", file, name_p.c_str());

    uint32_t n_dims = c.read<uint32_t>("tensor dimension count");
    if (n_dims > kMaxDims)
      fail("%s: tensor %s has %u dimensions (at most %u)", file, name_p.c_str(), n_dims, kMaxDims);
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
      uint64_t ne = c.read<uint64_t>("tensor dimension");
      if (ne == 0) fail("%s: tensor %s has dimension %u of size 0", file, name_p.c_str(), d);
      // Keep counts within int64 so every consumer may use signed arithmetic.
      if (__builtin_mul_overflow(n, ne, &n) || n > static_cast<uint64_t>(INT64_MAX))
        fail("%s: tensor %s: element count overflows (dimension %u is %llu)", file, name_p.c_str(), d,
             (unsigned long long)ne);
      ti.shape.push_back(ne);
    }
    ti.n_elements = n;

    uint32_t type = c.read<uint32_t>("tensor type");
    GgmlTypeInfo info = ggml_type_info(type);
    if (!info.name || info.block_elems == 0 || info.block_bytes == 0)
      fail("%s: tensor %s has unknown type %u", file, name_p.c_str(), type);
    ti.type = static_cast<GgmlType>(type);
    const uint64_t ne0 = ti.shape.empty() ? 1 : ti.shape[0];
    if (ne0 % info.block_elems != 0)
      fail("%s: tensor %s: row length %llu is not a multiple of the %s block size %u", file, name_p.c_str(),
           (unsigned long long)ne0, info.name, info.block_elems);
    if (__builtin_mul_overflow(n / info.block_elems, (uint64_t)info.block_bytes, &ti.n_bytes))
      fail("%s: tensor %s: byte size overflows", file, name_p.c_str());

    ti.offset = c.read<uint64_t>("tensor offset");
    if (ti.offset % alignment_ != 0)
      fail("%s: tensor %s: data offset %llu is not a multiple of the alignment %llu", file, name_p.c_str(),
           (unsigned long long)ti.offset, (unsigned long long)alignment_);
    tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment. A file with
  // no tensors (a vocab-only GGUF) may end before it, which is fine.
  const uint64_t header_end = c.pos();
  const uint64_t data_start = (header_end + alignment_ - 1) / alignment_ * alignment_;
  if (tensors_.empty()) return;
  if (data_start > size_)
    fail("%s: truncated file: the tensor data section starts at %llu, past the end (%zu bytes)", file,
         (unsigned long long)data_start, size_);
  const uint64_t data_size = size_ - data_start;
  for (GgufTensor& ti : tensors_) {
    if (ti.offset > data_size || ti.n_bytes > data_size - ti.offset)
      fail("%s: tensor %s: data [%llu, +%llu) runs past the end of the file (data section holds %llu bytes)", file,
           printable(ti.name).c_str(), (unsigned long long)ti.offset, (unsigned long long)ti.n_bytes,
           (unsigned long long)data_size);
    ti.data = base_ + data_start + ti.offset;
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const GgufKV& kv : kv_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const GgufTensor* GgufFile::tensor(std::string_view name) const {
  for (const GgufTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

// The value's own errors do not know the file; the helpers add it in front.
namespace {
template <typename F>
auto with_file(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    fail("%s: %s", path.c_str(), e.what());
  }
}
}  // namespace

uint64_t GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("%s: missing metadata %s", path_.c_str(), printable(key).c_str());
  return with_file(path_, [&] { return v->as_uint(key); });
}

uint64_t GgufFile::get_uint(std::string_view key, uint64_t fallback) const {
  const GgufValue* v = find(key);
  return v ? with_file(path_, [&] { return v->as_uint(key); }) : fallback;
}

double GgufFile::get_float(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v ? with_file(path_, [&] { return v->as_float(key); }) : fallback;
}

std::string_view GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail("%s: missing metadata %s", path_.c_str(), printable(key).c_str());
  return with_file(path_, [&] { return v->as_string(key); });
}

std::string_view GgufFile::get_string(std::string_view key, std::string_view fallback) const {
  const GgufValue* v = find(key);
  return v ? with_file(path_, [&] { return v->as_string(key); }) : fallback;
}

}  // namespace km
