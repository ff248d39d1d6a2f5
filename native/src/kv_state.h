// The KV state file (.kmkv): the engine's KV cache and the tokens it holds,
// so a conversation left for another one, or for a restart, continues
// without re-reading it. Little-endian, as every machine the engine runs on:
//   KvStateHeader  128 bytes (below)
//   tokens         int32 [n]              the tokens at positions 0..n-1
//   payload        uint8 [payload_bytes]  their K/V in the Backend's KvStateLayout
//                                         (keymate/backend.h): the same bytes from
//                                         every backend running one KV format
//   checksum       uint64                 kv_state_checksum of everything before it
// The header names what the state belongs to: the model's shape, a hash of its
// tensors and the formats it ran in. K/V computed by other weights would not
// fail, they would quietly steer every later token, so a state loads only into
// an engine whose identity is the same, and the whole file is checked before
// any of it is used.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "keymate/model.h"

namespace km {

constexpr char kKvStateMagic[4] = {'K', 'M', 'K', 'V'};
constexpr uint32_t kKvStateVersion = 1;

struct KvStateHeader {
  char magic[4];           // kKvStateMagic
  uint32_t version;        // kKvStateVersion
  char architecture[24];   // general.architecture, NUL-padded (cut at 23 bytes; model_hash has all of it)
  char weights[16];        // the weight format the model ran in, canonical name ("native", "int4-g32")
  char kv[16];             // the KV format, canonical name ("f16", "int8")
  int32_t dim, n_layers, n_heads, n_kv_heads, head_dim, vocab;
  int32_t context;         // the model's trained context, not the engine's
  int32_t n_tokens;        // n
  uint64_t model_hash;     // kv_state_model_hash
  uint64_t payload_bytes;  // KvStateLayout::total() for n tokens
  uint8_t reserved[16];    // zero
};
static_assert(sizeof(KvStateHeader) == 128, "the .kmkv header is 128 bytes");

// A hash of what makes a model's K/V what they are: the hyper-parameters the
// forward pass reads, and every tensor's name, type, run format and shape,
// with a sample of its bytes (its first, middle and last kHashSampleBytes: a
// few pages of a mapped file, yet two quantizations or finetunes of one shape
// differ there).
uint64_t kv_state_model_hash(const Model& m);

// The header of a state of this model in these formats (canonical names),
// with n_tokens and payload_bytes 0: what a file must match to load.
KvStateHeader kv_state_identity(const Model& m, uint64_t model_hash, const std::string& weights,
                                const std::string& kv);

// The file's checksum; see kv_state.cpp.
uint64_t kv_state_checksum(const uint8_t* data, uint64_t n);

// Writes a state file at `path` atomically (atomic_file.h: a temporary file
// beside it, fsync, rename over `path`, fsync of the folder), mode 0600: it
// holds a conversation. `fill` writes the payload_bytes of K/V into the
// pointer it gets, before any file is created. Returns the file's size.
// Throws km::Error "save_state: <path>: <what failed>".
uint64_t write_kv_state(const std::string& path, KvStateHeader identity, const std::vector<int32_t>& tokens,
                        uint64_t payload_bytes, const std::function<void(uint8_t*)>& fill);

struct KvStateFile {
  std::vector<uint8_t> bytes;    // the whole file
  std::vector<int32_t> tokens;   // [n]
  uint64_t payload_offset = 0;   // into bytes
  uint64_t payload_bytes = 0;
  const uint8_t* payload() const { return bytes.data() + payload_offset; }
};

// Reads the file at `path` and checks all of it against `identity`: magic,
// version, size, checksum, KV format, model, weight format, tokens inside the
// vocabulary. Throws km::Error with one line naming the problem
// ("load_state: <path> was written for another model (fingerprint differs)").
KvStateFile read_kv_state(const std::string& path, const KvStateHeader& identity);

}  // namespace km
