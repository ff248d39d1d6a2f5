// THE table of format names (--weights, --kv): every name the engine accepts,
// what it runs, and a line about it. Aliases name the default variant of a
// family (int4 -> int4-g32). The engine API (weight_formats(), kv_formats()
// in engine.h) publishes this table, and the TypeScript side checks its own
// list against it.
#pragma once

#include <string_view>
#include <vector>

#include "keymate/formats_run.h"

namespace km::quant {

enum class WeightKind { Native, F16, Run };

struct WeightFormat {
  const char* name;
  const char* same_as;  // for an alias, the name it stands for; else nullptr
  WeightKind kind;
  RunQuant quant;       // kind == Run
  double bits;          // bits per weight, group scales included (0 for native)
  const char* about;
};

struct KvFormat {
  const char* name;
  const char* same_as;
  KvType type;
  double bits;          // bits per cached element (INT8 adds an fp16 scale per head and token)
  const char* about;
};

const std::vector<WeightFormat>& weight_format_table();
const std::vector<KvFormat>& kv_format_table();

// Look-ups that resolve aliases (the result's name is the canonical one) and
// throw km::Error listing the known names for anything else.
const WeightFormat& weight_format(std::string_view name);
const KvFormat& kv_format(std::string_view name);

}  // namespace km::quant
