// Argument checking on the JS thread (see args.h). Messages follow one shape:
// "<call>: <field> must be <what it must be>", with the offending value's type
// when the type is wrong.
#include "args.h"

#include <cmath>

namespace km::addon {

static const char* type_name(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return v.IsArray() ? "an array" : "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "an unknown value";
}

[[noreturn]] static void type_error(Napi::Env env, const std::string& what, const char* must,
                                    const Napi::Value& got) {
  throw Napi::TypeError::New(env, what + " must be " + must + ", got " + type_name(got));
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what) {
  Napi::Value v = info[i];
  if (!v.IsString()) type_error(info.Env(), what, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

Napi::Function function_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what) {
  Napi::Value v = info[i];
  if (!v.IsFunction()) type_error(info.Env(), what, "a function", v);
  return v.As<Napi::Function>();
}

Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const std::string& what,
                        bool optional) {
  Napi::Value v = info[i];
  if (optional && v.IsUndefined()) return Napi::Object::New(info.Env());
  if (!v.IsObject() || v.IsArray() || v.IsFunction()) type_error(info.Env(), what, "an object", v);
  return v.As<Napi::Object>();
}

uint64_t seed_value(Napi::Value v, const std::string& what) {
  Napi::Env env = v.Env();
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, what + " must fit in 64 unsigned bits");
    return u;
  }
  if (!v.IsNumber()) type_error(env, what, "a non-negative integer (number or bigint)", v);
  double d = v.As<Napi::Number>().DoubleValue();
  // Beyond 2^53 a double no longer names one integer: the caller must use a BigInt.
  if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
    throw Napi::RangeError::New(env, what + " must be an integer in [0, 2^53 - 1] (use a bigint for larger seeds)");
  return static_cast<uint64_t>(d);
}

Fields::Fields(Napi::Object obj, std::string what, std::initializer_list<const char*> known)
    : obj_(obj), what_(std::move(what)) {
  Napi::Array keys = obj_.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw Napi::TypeError::New(obj_.Env(), what_ + " has an unknown field '" + key +
                                                 "' (known: " + list + ")");
    }
  }
}

Napi::Value Fields::get(const char* key) const {
  return obj_.Has(key) ? obj_.Get(key) : obj_.Env().Undefined();
}

std::string Fields::name(const char* key) const { return what_ + "." + key; }

std::string Fields::string(const char* key, const std::string& fallback) const {
  Napi::Value v = get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) type_error(obj_.Env(), name(key), "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

std::string Fields::required_string(const char* key) const {
  Napi::Value v = get(key);
  if (!v.IsString()) type_error(obj_.Env(), name(key), "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

std::string Fields::one_of(const char* key, const std::string& fallback,
                           std::initializer_list<const char*> allowed) const {
  std::string s = string(key, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (s == a) return s;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Napi::RangeError::New(obj_.Env(), name(key) + " must be one of " + list + ", got '" + s + "'");
}

ExecPath Fields::exec_path(const char* key, ExecPath fallback) const {
  const std::string s = string(key, exec_path_name(fallback));
  ExecPath p = fallback;
  if (exec_path_named(s, p)) return p;
  throw Napi::RangeError::New(obj_.Env(), name(key) + " must be one of " + exec_path_choices() + ", got '" + s + "'");
}

int64_t Fields::integer(const char* key, int64_t fallback, int64_t min, int64_t max) const {
  Napi::Value v = get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) type_error(obj_.Env(), name(key), "an integer", v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != std::floor(d))
    throw Napi::RangeError::New(obj_.Env(), name(key) + " must be an integer in [" +
                                                std::to_string(min) + ", " + std::to_string(max) +
                                                "], got " + v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

double Fields::number(const char* key, double fallback, double min, double max) const {
  Napi::Value v = get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) type_error(obj_.Env(), name(key), "a number", v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max))  // also refuses NaN
    throw Napi::RangeError::New(obj_.Env(), name(key) + " must be a number in [" + Napi::Number::New(obj_.Env(), min).ToString().Utf8Value() +
                                                ", " + Napi::Number::New(obj_.Env(), max).ToString().Utf8Value() +
                                                "], got " + v.ToString().Utf8Value());
  return d;
}

bool Fields::boolean(const char* key, bool fallback) const {
  Napi::Value v = get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) type_error(obj_.Env(), name(key), "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

uint64_t Fields::seed(const char* key, uint64_t fallback) const {
  Napi::Value v = get(key);
  if (v.IsUndefined()) return fallback;
  return seed_value(v, name(key));
}

}  // namespace km::addon
