// The CUDA backend's factory, in plain C++ so the engine (a .cpp) can call it
// without CUDA headers. Compiled only when KEYMATE_HAVE_CUDA is defined.
#pragma once

#include <memory>

#include "keymate/backend.h"

namespace km {

// Uploads the model's weights to device 0, allocates the paged KV cache and
// the activations, builds the step program and arms the executor chosen by
// opts.path. Throws km::Error (CUDA errors included) with what to do.
std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model, const BackendOptions& opts);

}  // namespace km
