// Which instruction set the CPU kernels use, decided at run time: the library
// is compiled for baseline x86-64 (it ships to other machines), and the SIMD
// kernels are compiled for their level inside target pragma regions
// (kernels_avx2.cpp, kernels_vnni.cpp) and only called after detection. KEYMATE_CPU_SIMD=scalar|avx2|avx512vnni
// lowers the level (never raises it past what the processor has), so tests can
// compare every SIMD kernel with its scalar twin on one machine.
#pragma once

#include <string>

namespace km::cpu {

enum class Simd {
  Scalar = 0,      // portable C++, the reference
  Avx2 = 1,        // AVX2 + FMA + F16C
  Avx512Vnni = 2,  // the above + AVX-512 F/BW/VL + VNNI (int8 dot products)
};

Simd detect_simd();          // what this processor supports
Simd simd_from_env();        // detect_simd() lowered by KEYMATE_CPU_SIMD
const char* simd_name(Simd s);  // "scalar", "avx2", "avx512vnni"
std::string cpu_model_name();   // "Intel(R) Xeon(R) ..." or "" when unknown

}  // namespace km::cpu
