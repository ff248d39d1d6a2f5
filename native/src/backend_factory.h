// The backend factory the Engine uses, shared with the parts of the Engine
// that live in their own files (eval.cpp makes its reference backend with it),
// so a backend added to the engine is available to all of them.
#pragma once

#include <memory>
#include <string>

#include "keymate/backend.h"

namespace km {

// name: "cpu" or "cuda" (as chosen by the Engine); throws km::Error when this
// build cannot make it.
std::unique_ptr<Backend> make_backend(const std::string& name, std::shared_ptr<const Model> model,
                                      const BackendOptions& bo);

}  // namespace km
