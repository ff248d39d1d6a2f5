// Engine errors. The engine lives inside the app, so nothing here may abort the
// process: every failure is a km::Error carrying where it happened and what the
// user can do, and the addon turns it into a rejected promise (the CLI into
// `keymate: <what>: <what is wrong>` and exit code 1).
#pragma once

#include <cstdarg>
#include <stdexcept>
#include <string>

namespace km {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// printf-style message -> throws km::Error. Messages are one line, no trailing
// period, and name the object they are about first ("model.gguf: ...").
[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace km
