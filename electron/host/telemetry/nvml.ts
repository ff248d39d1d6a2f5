// The GPU sensors and setters as the host uses them: the addon's NVML calls
// (native/addon/telemetry.cpp), typed once in engine/native.ts and only
// re-exported here, so the host's view of a GPU sample cannot drift from the
// addon's. The loader's interface check (ADDON_ABI_VERSION) already refuses
// an addon without these calls; no addon at all is one more way of "not
// available", with the reason, and inference goes on either way.
import { loadAddon } from '../engine/load-addon';
import type { NativeAddon } from '../engine/native';

export type { GpuProcess, GpuSample, NvmlOpenResult } from '../engine/native';

/** The addon's NVML surface; every call is synchronous and throws a one-line Error. */
export type Nvml = Pick<NativeAddon, 'nvmlOpen' | 'nvmlSample' | 'nvmlSetPowerLimit' | 'nvmlSetFanSpeed' | 'nvmlRestoreFan' | 'nvmlClose'>;

/** The addon's NVML calls, or why there are none. */
export function addonNvml(): { nvml: Nvml } | { nvml: null; reason: string } {
  try {
    return { nvml: loadAddon() };
  } catch (e) {
    return { nvml: null, reason: e instanceof Error ? e.message : String(e) };
  }
}
