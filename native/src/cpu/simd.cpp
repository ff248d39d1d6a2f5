// Run-time detection of the SIMD level; see simd.h.
#include "cpu/simd.h"

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "keymate/error.h"

namespace km::cpu {

Simd detect_simd() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // F16C has no __builtin_cpu_supports name in older compilers; every AVX2
  // processor made has it (Intel since Ivy Bridge, AMD since Piledriver).
  if (!avx2) return Simd::Scalar;
  const bool vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vnni");
  return vnni ? Simd::Avx512Vnni : Simd::Avx2;
#else
  return Simd::Scalar;
#endif
}

const char* simd_name(Simd s) {
  switch (s) {
    case Simd::Scalar: return "scalar";
    case Simd::Avx2: return "avx2";
    case Simd::Avx512Vnni: return "avx512vnni";
  }
  return "scalar";
}

Simd simd_from_env() {
  const Simd hw = detect_simd();
  const char* env = std::getenv("KEYMATE_CPU_SIMD");
  if (!env || !*env) return hw;
  Simd want;
  if (!std::strcmp(env, "scalar")) want = Simd::Scalar;
  else if (!std::strcmp(env, "avx2")) want = Simd::Avx2;
  else if (!std::strcmp(env, "avx512vnni")) want = Simd::Avx512Vnni;
  else fail("KEYMATE_CPU_SIMD: '%s' is not a SIMD level (use scalar, avx2 or avx512vnni)", env);
  return want < hw ? want : hw;
}

// Read once: the host asks for the backend (and so its device name) on every
// press, and with the read in it that step took 0.16-0.20 ms of the time
// between the key's release and the engine's start, 0.05-0.11 ms without.
std::string cpu_model_name() {
  static const std::string name = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) break;
        size_t b = line.find_first_not_of(" \t", colon + 1);
        return b == std::string::npos ? std::string() : line.substr(b);
      }
    }
    return std::string();
  }();
  return name;
}

}  // namespace km::cpu
