// How a C++ exception from a worker reads in JavaScript. km::Error messages
// are already written for users ("model.gguf: not a GGUF file") and pass
// through unchanged; the few other exceptions get words a user can act on.
#include <new>

#include "workers.h"

namespace km::addon {

std::string error_message(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory (the model or its KV cache does not fit: try a smaller context or model)";
  std::string m = e.what();
  // An empty message would make node-addon-api report success.
  return m.empty() ? "the engine failed without a message" : m;
}

}  // namespace km::addon
