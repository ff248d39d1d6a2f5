// The imatrix file format, read and written; see importance.h. Reading goes
// through GgufFile, which has already bounded every offset and size by the
// file, so what is left here is the imatrix's own rules.
#include "quant/importance.h"

#include <cmath>
#include <cstring>

#include "gguf_writer.h"
#include "keymate/error.h"
#include "keymate/gguf.h"

namespace km::quant {

namespace {

constexpr std::string_view kSum2Suffix = ".in_sum2", kCountsSuffix = ".counts";
constexpr const char* kDatasets = "imatrix.datasets";
constexpr const char* kChunkCount = "imatrix.chunk_count";
constexpr const char* kChunkSize = "imatrix.chunk_size";

bool strip(std::string& name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  name.resize(name.size() - suffix.size());
  return true;
}

float f32_at(const GgufTensor& t, uint64_t i) {
  float v;
  std::memcpy(&v, t.data + 4 * i, 4);
  return v;
}

}  // namespace

std::vector<float> Importance::mean(const std::string& name, int64_t cols) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) return {};
  const ColumnStats& s = it->second;
  if ((int64_t)s.sum2.size() != cols)
    fail("importance of %s has %zu columns, the weight %lld: it was measured on another model", name.c_str(),
         s.sum2.size(), (long long)cols);
  std::vector<float> m((size_t)cols);
  for (int64_t k = 0; k < cols; k++) m[(size_t)k] = (float)(s.sum2[(size_t)k] / s.count);
  return m;
}

Importance read_imatrix(const std::string& path) {
  const std::unique_ptr<GgufFile> f = GgufFile::open(path);
  const GgufValue* type = f->find("general.type");
  // llama-imatrix writes general.type = "imatrix"; a model file says "model" or nothing.
  if (type && type->kind == GgufKind::STRING && type->str != "imatrix")
    fail("%s: not an imatrix file (general.type is %.*s)", path.c_str(), (int)type->str.size(), type->str.data());
  Importance imp;
  std::map<std::string, std::pair<const GgufTensor*, const GgufTensor*>> pairs;
  for (const GgufTensor& t : f->tensors()) {
    std::string name = t.name;
    if (strip(name, kSum2Suffix)) pairs[name].first = &t;
    else if (strip(name, kCountsSuffix)) pairs[name].second = &t;
    else fail("%s: tensor %s is neither <weight>.in_sum2 nor <weight>.counts: not an imatrix file", path.c_str(),
              t.name.c_str());
  }
  if (pairs.empty()) fail("%s: no importance in it (no <weight>.in_sum2 tensors): not an imatrix file", path.c_str());
  for (const auto& [name, pc] : pairs) {
    const GgufTensor* s = pc.first;
    const GgufTensor* c = pc.second;
    if (!s || !c) fail("%s: %s has %s but no %s", path.c_str(), name.c_str(), s ? "sums" : "counts", s ? "counts" : "sums");
    if (s->type != GgmlType::F32 || c->type != GgmlType::F32)
      fail("%s: %s: sums and counts must be F32", path.c_str(), name.c_str());
    if (c->n_elements != 1 || s->n_elements != s->shape[0])
      fail("%s: %s holds %llu matrices (experts): the engine runs no model with experts", path.c_str(), name.c_str(),
           (unsigned long long)c->n_elements);
    ColumnStats cs;
    cs.count = f32_at(*c, 0);
    if (!(cs.count >= 1) || !std::isfinite(cs.count))
      fail("%s: %s: count %g (at least one row must have been seen)", path.c_str(), name.c_str(), cs.count);
    cs.sum2.resize(s->n_elements);
    for (uint64_t k = 0; k < s->n_elements; k++) {
      const float v = f32_at(*s, k);
      if (!(v >= 0) || !std::isfinite(v))
        fail("%s: %s: column %llu has sum %g (sums of squares are finite and >= 0)", path.c_str(), name.c_str(),
             (unsigned long long)k, v);
      cs.sum2[k] = v;
    }
    imp.tensors.emplace(name, std::move(cs));
  }
  if (const GgufValue* d = f->find(kDatasets); d && d->kind == GgufKind::ARRAY && !d->strings.empty())
    imp.dataset = std::string(d->strings[0]);
  imp.chunks = (int)f->get_uint(kChunkCount, 0);
  imp.chunk_size = (int)f->get_uint(kChunkSize, 0);
  return imp;
}

void write_imatrix(const std::string& path, const Importance& imp) {
  GgufWriter w;
  w.add_string("general.type", "imatrix");
  w.add_string_array(kDatasets, {imp.dataset});
  w.add_u32(kChunkCount, (uint32_t)imp.chunks);
  w.add_u32(kChunkSize, (uint32_t)imp.chunk_size);
  for (const auto& [name, cs] : imp.tensors) {
    const ColumnStats* p = &cs;
    w.add_tensor(name + std::string(kSum2Suffix), GgmlType::F32, {(uint64_t)cs.sum2.size(), 1},
                 [p](uint8_t* dst, uint64_t) {
                   for (size_t k = 0; k < p->sum2.size(); k++) {
                     const float v = (float)p->sum2[k];
                     std::memcpy(dst + 4 * k, &v, 4);
                   }
                 });
    w.add_tensor(name + std::string(kCountsSuffix), GgmlType::F32, {1, 1}, [p](uint8_t* dst, uint64_t) {
      const float v = (float)p->count;
      std::memcpy(dst, &v, 4);
    });
  }
  w.write_file(path);
}

}  // namespace km::quant
