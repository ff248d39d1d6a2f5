// The SIMT harness's stand-in for <cuda_runtime.h> (native/tests/simt): first
// on the include path of the translated kernels and of the GPU tests built
// against them. Test-only; never a product backend.
#pragma once

#define KEYMATE_SIMT_RUNTIME 1

#include "simt/types.h"
#include "simt/device.h"
#include "simt/runtime_api.h"
#include "simt/launch.h"
