// The host-facing face of the CUDA backend (implemented in kernels/). Declared
// here so the engine can ask about CUDA without including CUDA headers; only
// compiled in when KEYMATE_HAVE_CUDA is defined.
#pragma once

#include <string>
#include <vector>

#include "keymate/engine.h"  // CudaDevice

namespace km {

struct CudaProbe {
  bool available = false;
  std::string reason;  // why not available, in words ("no NVIDIA driver is loaded", ...)
  std::string driver;  // "13.0" (driver API version)
  std::vector<CudaDevice> devices;
};

// Never throws: a machine without a driver is an answer, not an error.
CudaProbe cuda_probe();

}  // namespace km
