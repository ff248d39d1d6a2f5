// The imatrix file format, read and written; see importance.h. Reading goes
// through GgufFile, which has already bounded every offset and size by the
// file, so what is left here is the imatrix's own rules.
#include "quant/importance.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gguf_writer.h"
#include "keymate/error.h"
#include "keymate/gguf.h"

namespace km::quant {

namespace {

constexpr std::string_view kSum2Suffix = ".in_sum2", kCountsSuffix = ".counts", kCovSuffix = ".in_cov";
constexpr const char* kDatasets = "imatrix.datasets";
constexpr const char* kChunkCount = "imatrix.chunk_count";
constexpr const char* kChunkSize = "imatrix.chunk_size";
// Weights that read one input share its covariance; the file holds it once,
// under the first weight's name, and lists the others here as pairs
// (weight, the weight whose .in_cov it reads).
constexpr const char* kCovShared = "keymate.imatrix.in_cov_shared";

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

// A weight's covariance blocks: F32, the size its columns give, finite, and
// every block's diagonal >= 0 (the rest of the sums of products may have
// either sign). The weights that share the input get it through kCovShared.
std::shared_ptr<const std::vector<float>> read_cov(const std::string& path, const std::string& name, const GgufTensor& t,
                                                   int64_t cols) {
  if (t.type != GgmlType::F32 || (int64_t)t.n_elements != cov_floats(cols))
    fail("%s: %s.in_cov: expected %lld F32 values (blocks of %d for %lld columns), found %llu of type %u",
         path.c_str(), name.c_str(), (long long)cov_floats(cols), kCovBlock, (long long)cols,
         (unsigned long long)t.n_elements, (unsigned)t.type);
  auto v = std::make_shared<std::vector<float>>((size_t)t.n_elements);
  std::memcpy(v->data(), t.data, 4 * (size_t)t.n_elements);
  for (size_t i = 0; i < v->size(); i++) {
    const float x = (*v)[i];
    const bool diagonal = i % kCovBlock == i / kCovBlock % kCovBlock;
    if (!std::isfinite(x) || (diagonal && x < 0))
      fail("%s: %s.in_cov: value %zu is %g (sums of products are finite, on the diagonal >= 0)", path.c_str(),
           name.c_str(), i, x);
  }
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
  std::map<std::string, const GgufTensor*> covs;
  for (const GgufTensor& t : f->tensors()) {
    std::string name = t.name;
    if (strip(name, kSum2Suffix)) pairs[name].first = &t;
    else if (strip(name, kCountsSuffix)) pairs[name].second = &t;
    else if (strip(name, kCovSuffix)) covs[name] = &t;
    else fail("%s: tensor %s is none of <weight>.in_sum2, .counts, .in_cov: not an imatrix file", path.c_str(),
              t.name.c_str());
  }
  if (pairs.empty()) fail("%s: no importance in it (no <weight>.in_sum2 tensors): not an imatrix file", path.c_str());
  // Covariance measured in blocks of another size (another keymate version)
  // cannot feed this build's error feedback: the file is then used as
  // llama-imatrix's are, for the weighted search alone.
  const bool own_blocks = std::all_of(covs.begin(), covs.end(), [](const auto& c) {
    const std::vector<uint64_t>& sh = c.second->shape;
    return sh.size() < 2 || (sh[0] == (uint64_t)kCovBlock && sh[1] == (uint64_t)kCovBlock);
  });
  if (!own_blocks) covs.clear();
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
    if (const auto it = covs.find(name); it != covs.end()) cs.cov = read_cov(path, name, *it->second, (int64_t)s->n_elements);
    imp.tensors.emplace(name, std::move(cs));
  }
  if (const GgufValue* v = f->find(kCovShared); v && own_blocks) {
    if (v->kind != GgufKind::ARRAY || v->strings.size() % 2)
      fail("%s: %s is not a list of (weight, source) name pairs", path.c_str(), kCovShared);
    for (size_t i = 0; i < v->strings.size(); i += 2) {
      const auto to = imp.tensors.find(std::string(v->strings[i]));
      const auto from = imp.tensors.find(std::string(v->strings[i + 1]));
      if (to == imp.tensors.end() || from == imp.tensors.end() || !from->second.cov ||
          to->second.sum2.size() != from->second.sum2.size())
        fail("%s: %s: %.*s cannot share the covariance of %.*s", path.c_str(), kCovShared, (int)v->strings[i].size(),
             v->strings[i].data(), (int)v->strings[i + 1].size(), v->strings[i + 1].data());
      to->second.cov = from->second.cov;
    }
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
  for (const auto& [name, cs] : imp.tensors)
    if (cs.cov && (cs.cov->empty() || cs.cov->size() % ((size_t)kCovBlock * kCovBlock)))
      fail("%s: %s: %zu covariance values are not whole blocks of %d x %d", path.c_str(), name.c_str(), cs.cov->size(),
           kCovBlock, kCovBlock);
  std::map<const std::vector<float>*, std::string_view> first;  // a covariance -> the weight it is written under
  std::vector<std::string_view> shared;
  for (const auto& [name, cs] : imp.tensors)
    if (cs.cov && !first.emplace(cs.cov.get(), name).second) shared.insert(shared.end(), {name, first[cs.cov.get()]});
  if (!shared.empty()) w.add_string_array(kCovShared, shared);
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
    if (p->cov && first[p->cov.get()] == name)
      w.add_tensor(name + std::string(kCovSuffix), GgmlType::F32,
                   {(uint64_t)kCovBlock, (uint64_t)kCovBlock, p->cov->size() / ((uint64_t)kCovBlock * kCovBlock)},
                   [p](uint8_t* dst, uint64_t) { std::memcpy(dst, p->cov->data(), 4 * p->cov->size()); });
  }
  w.write_file(path);
}

}  // namespace km::quant
