// The format table (--weights / --kv names) and the run-format layout
// arithmetic: names unique, aliases resolving to real variants, the bits each
// entry advertises equal to what its rows really take, layouts aligned.
#include <cmath>
#include <set>
#include <string>

#include "keymate/engine.h"
#include "keymate/formats_run.h"
#include "quant/convert.h"
#include "quant/weight_formats.h"
#include "test.h"

using km::RunQuant;
using km::RunType;

TEST(quant_formats, names_are_unique_and_aliases_resolve) {
  std::set<std::string> names;
  for (const auto& f : km::quant::weight_format_table()) {
    CHECK(names.insert(f.name).second);
    const auto& c = km::quant::weight_format(f.name);
    CHECK(c.same_as == nullptr);  // lookups return the variant, never an alias
    if (f.same_as) CHECK(std::string(c.name) == f.same_as);
  }
  for (const char* n : {"native", "f16", "fp8", "fp8-g128", "int8", "int4", "int4-g32", "int4-g64", "int4-g128", "nf4",
                        "nf4-g32", "nf4-g64", "nf4-g128", "w8a8"})
    CHECK(names.count(n));  // DESIGN.md's names, and the sub-variants
  CHECK_EQ(std::string(km::quant::weight_format("int4").name), std::string("int4-g32"));
  CHECK_EQ(std::string(km::quant::kv_format("fp8").name), std::string("fp8-e4m3"));
  CHECK_THROWS_WITH(km::quant::weight_format("int2"), "weights int2: unknown format (native, f16, fp8, fp8-g128");
  CHECK_THROWS_WITH(km::quant::kv_format("q4"), "kv q4: unknown format (f16, int8, fp8, fp8-e4m3, fp8-e5m2)");
  // The public API is the same table.
  const std::vector<km::FormatInfo> pub = km::weight_formats();
  CHECK_EQ(pub.size(), km::quant::weight_format_table().size());
  CHECK_EQ(pub[4].name, std::string("int8"));
  CHECK_EQ(pub[4].same_as, std::string("int8-g32"));
  CHECK_EQ(km::kv_formats().size(), (size_t)5);
}

TEST(quant_formats, advertised_bits_are_what_rows_take) {
  const int64_t cols = 4096;
  for (const auto& f : km::quant::weight_format_table()) {
    if (f.kind != km::quant::WeightKind::Run) continue;
    const double bits = 8.0 * (double)km::run_row_bytes(f.quant, cols) / (double)cols;
    // grouped rows of 4096 need no padding; per-row formats add one f32
    // scale per row and pad it to 16 bytes
    if (f.quant.group) CHECK_NEAR(bits, f.bits, 1e-9);
    else CHECK_NEAR(bits, f.bits + 128.0 / cols, 1e-9);
  }
}

TEST(quant_formats, rows_are_aligned_and_sized) {
  CHECK_EQ(sizeof(km::run_q4x32), (size_t)16);
  CHECK_EQ(sizeof(km::run_q8x32), (size_t)32);
  for (RunType t : {RunType::Fp8, RunType::Int8, RunType::Int4, RunType::Nf4, RunType::W8A8})
    for (int g : {0, 32, 64, 128})
      for (int64_t cols : {32, 64, 96, 172 * 32, 11008}) {
        const RunQuant q{t, (uint16_t)g};
        const uint64_t rb = km::run_row_bytes(q, cols);
        CHECK_EQ(rb % km::kRunRowAlign, (uint64_t)0);
        CHECK(rb >= km::run_quant_bytes(t, cols) + km::run_scale_bytes(q, cols));
        CHECK(rb < km::run_quant_bytes(t, cols) + km::run_scale_bytes(q, cols) + km::kRunRowAlign);
        CHECK_EQ(km::run_groups(q, cols), g ? (cols + g - 1) / g : (int64_t)1);
      }
  // NF4 levels: ascending, 0 in the middle, +-127 at the ends.
  for (int i = 1; i < 16; i++) CHECK(km::kNf4Levels[i] > km::kNf4Levels[i - 1]);
  CHECK_EQ((int)km::kNf4Levels[7], 0);
  CHECK_EQ((int)km::kNf4Levels[0], -127);
  CHECK_EQ((int)km::kNf4Levels[15], 127);
  for (int i = 0; i < 16; i++) CHECK_EQ(km::nf4_level(i), (int)km::kNf4Levels[i]);
}

TEST(quant_formats, conversion_policy) {
  using km::quant::plan_tensor;
  using km::quant::WeightKind;
  const auto& int4 = km::quant::weight_format("int4-g128");
  CHECK(plan_tensor(int4, 4096, false).kind == WeightKind::Run);
  CHECK(plan_tensor(int4, 4096, false).quant.type == RunType::Int4);
  // the output matrix stays at 8 bits with the 4-bit formats
  CHECK(plan_tensor(int4, 4096, true).quant.type == RunType::Int8);
  CHECK_EQ((int)plan_tensor(int4, 4096, true).quant.group, 128);
  CHECK(plan_tensor(km::quant::weight_format("fp8"), 4096, true).quant.type == RunType::Fp8);
  // rows that cannot be grouped fall back to f16
  CHECK(plan_tensor(int4, 172, false).kind == WeightKind::F16);
  CHECK(plan_tensor(km::quant::weight_format("w8a8"), 100, false).kind == WeightKind::F16);
  CHECK(plan_tensor(km::quant::weight_format("native"), 172, false).kind == WeightKind::Native);
  CHECK(plan_tensor(km::quant::weight_format("f16"), 64, true).kind == WeightKind::F16);
}
