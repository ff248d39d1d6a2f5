// GPU telemetry's module functions (telemetry.cpp): nvmlOpen, nvmlSample,
// nvmlSetPowerLimit, nvmlSetFanSpeed, nvmlRestoreFan and nvmlClose.
#pragma once

#include <napi.h>

namespace km::addon {

void register_telemetry(Napi::Env env, Napi::Object exports);

}  // namespace km::addon
