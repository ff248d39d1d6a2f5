// Which NVIDIA devices this process can use, and if none, why — in words a
// user can act on. Runs no kernel: only runtime queries, so it is safe on a
// machine with no driver at all. Available means: device 0 is Turing (sm_75)
// or newer and this binary carries code for it (probe_kernel resolves).
#include <cuda_runtime.h>

#include "keymate/cuda.h"
#include "keymate/engine.h"

namespace km {

__global__ void probe_kernel() {}

static std::string version_string(int v) {  // 13000 -> "13.0"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

CudaProbe cuda_probe() {
  CudaProbe p;
  int driver = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0) {
    p.reason = "no NVIDIA driver is loaded (install the NVIDIA driver to use the GPU)";
    return p;
  }
  p.driver = version_string(driver);
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorInsufficientDriver) {
    p.reason = "the NVIDIA driver (CUDA " + p.driver + ") is older than this build needs (CUDA " +
               version_string(runtime) + "): update the driver";
    return p;
  }
  if (err != cudaSuccess || count == 0) {
    p.reason = err == cudaSuccess ? std::string("no CUDA device was found")
                                  : std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    return p;
  }
  for (int i = 0; i < count; i++) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    CudaDevice d;
    d.name = prop.name;
    d.cc = prop.major * 10 + prop.minor;
    d.memory_mb = prop.totalGlobalMem >> 20;
    int watchdog = 0;
    d.display_watchdog = cudaDeviceGetAttribute(&watchdog, cudaDevAttrKernelExecTimeout, i) == cudaSuccess && watchdog;
    d.driver = p.driver;
    p.devices.push_back(d);
  }
  if (p.devices.empty()) {
    p.reason = "CUDA devices were found but none could be queried";
    return p;
  }
  if (p.devices[0].cc < 75) {
    p.reason = "device 0 (" + p.devices[0].name + ", sm_" + std::to_string(p.devices[0].cc) +
               ") is older than Turing (sm_75), the oldest this build supports";
    return p;
  }
  // A device this binary holds no code for (neither its SASS nor PTX it can
  // JIT) fails here, before any model is loaded.
  cudaFuncAttributes attr{};
  if (cudaSetDevice(0) != cudaSuccess || cudaFuncGetAttributes(&attr, probe_kernel) != cudaSuccess) {
    cudaGetLastError();  // clear the error this query may have left
    p.reason = "this build has no kernels for device 0 (" + p.devices[0].name + ", sm_" +
               std::to_string(p.devices[0].cc) + "): rebuild with KEYMATE_CUDA_ARCHS including " +
               std::to_string(p.devices[0].cc);
    return p;
  }
  p.available = true;
  p.reason.clear();
  return p;
}

}  // namespace km
