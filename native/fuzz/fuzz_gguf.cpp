// libFuzzer target for the GGUF parser. Any input must either parse or throw
// km::Error; a crash, sanitizer report, leak, timeout or oversized allocation
// is a bug. On success every byte the parser hands out is touched (each
// tensor's first and last byte, every string, every array's items) so that an
// out-of-bounds view shows up under ASan, and the first block of each decodable
// tensor is dequantized.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "keymate/error.h"
#include "keymate/ggml_types.h"
#include "keymate/gguf.h"

namespace {

volatile uint8_t g_sink;

// Unsigned arithmetic only: the sink itself must not be the UB the fuzzer finds.
void sink(uint64_t v) { g_sink = static_cast<uint8_t>(g_sink + static_cast<uint8_t>(v)); }

void touch(const void* p, size_t n) {
  if (n == 0) return;
  const uint8_t* b = static_cast<const uint8_t*>(p);
  sink(b[0] + b[n - 1]);
}

size_t item_size(km::GgufKind k) {
  switch (k) {
    case km::GgufKind::U8: case km::GgufKind::I8: case km::GgufKind::BOOL: return 1;
    case km::GgufKind::U16: case km::GgufKind::I16: return 2;
    case km::GgufKind::U32: case km::GgufKind::I32: case km::GgufKind::F32: return 4;
    default: return 8;
  }
}

void exercise(const km::GgufFile& g) {
  for (const km::GgufKV& kv : g.metadata()) {
    const km::GgufValue& v = kv.value;
    touch(kv.key.data(), kv.key.size());
    touch(v.str.data(), v.str.size());
    for (std::string_view s : v.strings) touch(s.data(), s.size());
    if (v.kind == km::GgufKind::ARRAY && v.items) touch(v.items, v.count * item_size(v.item_kind));
    // The typed accessors may throw km::Error on a kind mismatch, nothing else.
    try { sink(v.as_uint(kv.key)); } catch (const km::Error&) {}
    try { sink(static_cast<uint64_t>(v.as_int(kv.key))); } catch (const km::Error&) {}
    try { sink(v.as_float(kv.key) > 0); } catch (const km::Error&) {}
    try { sink(v.as_bool(kv.key)); } catch (const km::Error&) {}
    try { sink(v.as_string(kv.key).size()); } catch (const km::Error&) {}
  }
  try {
    sink(g.get_uint("llama.context_length", 0) + g.get_string("general.architecture", "").size());
    sink(g.get_float("llama.attention.layer_norm_rms_epsilon", 0) > 0);
  } catch (const km::Error&) {
  }

  std::vector<float> block;
  for (const km::GgufTensor& t : g.tensors()) {
    touch(t.data, t.n_bytes);
    if (g.tensor(t.name) == nullptr) __builtin_trap();  // every listed tensor can be found
    const km::GgmlTypeInfo info = km::ggml_type_info(t.type);
    if (!info.decodable || t.n_bytes < info.block_bytes) continue;
    block.resize(info.block_elems);
    km::dequantize_row(t.type, t.data, block.data(), info.block_elems);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto g = km::GgufFile::parse(data, size, "fuzz.gguf");
    exercise(*g);
  } catch (const km::Error&) {
    // a rejected file: the expected outcome for most inputs
  }
  return 0;
}
