// Argument checking on the JS thread. Everything that crosses into the engine
// is checked here for type and range before a worker starts, so a mistake in
// JavaScript is a TypeError/RangeError naming the call and the field
// ("generate: request.maxTokens must be an integer in [1, 1048576]") rather
// than a km::Error from deep inside a worker thread, or undefined behaviour.
#pragma once

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "keymate/backend.h"

namespace km::addon {

// info[i] as a string; `what` names it in messages ("load: path").
std::string string_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what);
// info[i] as a function.
Napi::Function function_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what);
// info[i] as a plain object; undefined gives an empty object when `optional`.
Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what, bool optional);

// The fields of an options object. Absent or undefined fields take the
// fallback; unknown keys are refused so that a typo (max_tokens for
// maxTokens) is an error instead of a silently ignored setting.
class Fields {
 public:
  Fields(Napi::Object obj, std::string what, std::initializer_list<const char*> known);

  std::string string(const char* key, const std::string& fallback) const;
  std::string required_string(const char* key) const;
  std::string one_of(const char* key, const std::string& fallback,
                     std::initializer_list<const char*> allowed) const;
  // A GPU execution path by its name (backend.h's kExecPathNames).
  ExecPath exec_path(const char* key, ExecPath fallback) const;
  int64_t integer(const char* key, int64_t fallback, int64_t min, int64_t max) const;
  double number(const char* key, double fallback, double min, double max) const;
  bool boolean(const char* key, bool fallback) const;
  // A non-negative integer as a number (up to 2^53 - 1) or a BigInt (up to 2^64 - 1).
  uint64_t seed(const char* key, uint64_t fallback) const;

 private:
  Napi::Value get(const char* key) const;  // undefined when absent
  std::string name(const char* key) const;  // "generate: request.maxTokens"
  Napi::Object obj_;
  std::string what_;
};

// A non-negative integer seed from a value (number or BigInt); `what` names it.
uint64_t seed_value(Napi::Value v, const std::string& what);

}  // namespace km::addon
