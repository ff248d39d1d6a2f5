// The format table; see weight_formats.h. Aliases come right after the
// variant they stand for, so the table reads as families.
#include "quant/weight_formats.h"

#include <string>

#include "keymate/engine.h"
#include "keymate/error.h"

namespace km::quant {

namespace {

constexpr RunQuant rq(RunType t, uint16_t g) { return RunQuant{t, g}; }

}  // namespace

const std::vector<WeightFormat>& weight_format_table() {
  static const std::vector<WeightFormat> t = {
      {"native", nullptr, WeightKind::Native, {}, 0, "the types stored in the file, run as they are"},
      {"f16", nullptr, WeightKind::F16, {}, 16, "IEEE half"},
      {"fp8", nullptr, WeightKind::Run, rq(RunType::Fp8, 0), 8,
       "FP8 e4m3, one f32 scale per output channel (searched)"},
      {"fp8-g128", nullptr, WeightKind::Run, rq(RunType::Fp8, 128), 8.125,
       "FP8 e4m3, one fp16 scale per 128 weights of a row"},
      {"int8", "int8-g32", WeightKind::Run, rq(RunType::Int8, 32), 8.5, "INT8 weight-only, group 32"},
      {"int8-g32", nullptr, WeightKind::Run, rq(RunType::Int8, 32), 8.5,
       "INT8 weight-only, one fp16 scale per 32 weights (as many bits as Q8_0)"},
      {"int8-g128", nullptr, WeightKind::Run, rq(RunType::Int8, 128), 8.125,
       "INT8 weight-only, one fp16 scale per 128 weights"},
      {"int4", "int4-g32", WeightKind::Run, rq(RunType::Int4, 32), 4.5, "INT4 weight-only, group 32"},
      {"int4-g32", nullptr, WeightKind::Run, rq(RunType::Int4, 32), 4.5,
       "INT4 weight-only, one fp16 scale per 32 weights (as many bits as Q4_0)"},
      {"int4-g64", nullptr, WeightKind::Run, rq(RunType::Int4, 64), 4.25,
       "INT4 weight-only, one fp16 scale per 64 weights"},
      {"int4-g128", nullptr, WeightKind::Run, rq(RunType::Int4, 128), 4.125,
       "INT4 weight-only, one fp16 scale per 128 weights"},
      {"nf4", "nf4-g32", WeightKind::Run, rq(RunType::Nf4, 32), 4.5, "NF4 weight-only, group 32"},
      {"nf4-g32", nullptr, WeightKind::Run, rq(RunType::Nf4, 32), 4.5,
       "NormalFloat-4 levels, one fp16 scale per 32 weights"},
      {"nf4-g64", nullptr, WeightKind::Run, rq(RunType::Nf4, 64), 4.25,
       "NormalFloat-4 levels, one fp16 scale per 64 weights"},
      {"nf4-g128", nullptr, WeightKind::Run, rq(RunType::Nf4, 128), 4.125,
       "NormalFloat-4 levels, one fp16 scale per 128 weights"},
      {"w8a8", nullptr, WeightKind::Run, rq(RunType::W8A8, 0), 8,
       "INT8 weights with one f32 scale per output channel, activations INT8 per token"},
  };
  return t;
}

const std::vector<KvFormat>& kv_format_table() {
  static const std::vector<KvFormat> t = {
      {"f16", nullptr, KvType::F16, 16, "IEEE half"},
      {"int8", nullptr, KvType::Int8, 8, "INT8 with one fp16 scale per head and token"},
      {"fp8", "fp8-e4m3", KvType::Fp8E4M3, 8, "FP8 e4m3"},
      {"fp8-e4m3", nullptr, KvType::Fp8E4M3, 8, "FP8 e4m3, unscaled, saturating at 448"},
      {"fp8-e5m2", nullptr, KvType::Fp8E5M2, 8, "FP8 e5m2, unscaled, saturating at 57344"},
  };
  return t;
}

namespace {

template <typename T>
const T& find(const std::vector<T>& table, std::string_view name, const char* what) {
  for (const T& f : table)
    if (name == f.name) return f.same_as ? find(table, f.same_as, what) : f;
  std::string names;
  for (const T& f : table) names += std::string(names.empty() ? "" : ", ") + f.name;
  fail("%s %.*s: unknown format (%s)", what, (int)name.size(), name.data(), names.c_str());
}

}  // namespace

const WeightFormat& weight_format(std::string_view name) { return find(weight_format_table(), name, "weights"); }
const KvFormat& kv_format(std::string_view name) { return find(kv_format_table(), name, "kv"); }

}  // namespace km::quant

namespace km {

std::vector<FormatInfo> weight_formats() {
  std::vector<FormatInfo> out;
  for (const quant::WeightFormat& f : quant::weight_format_table())
    out.push_back({f.name, f.same_as ? f.same_as : "", f.bits, f.about});
  return out;
}

std::vector<FormatInfo> kv_formats() {
  std::vector<FormatInfo> out;
  for (const quant::KvFormat& f : quant::kv_format_table())
    out.push_back({f.name, f.same_as ? f.same_as : "", f.bits, f.about});
  return out;
}

}  // namespace km
