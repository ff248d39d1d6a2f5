// The CUDA runtime calls of simt/runtime_api.h on the stand-in device
// (device.h). Device memory is host memory: a device pointer is a host
// pointer, so the tests' ASan build sees every out-of-bounds access.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "config.h"
#include "cuda_runtime.h"
#include "device.h"

using simt::Device;
using simt::Item;

namespace {

thread_local cudaError_t t_last = cudaSuccess;

cudaError_t note(cudaError_t e) {
  if (e != cudaSuccess) t_last = e;
  return e;
}

struct Memory {
  std::mutex mu;
  std::map<void*, size_t> device;
  std::set<void*> pinned;
  size_t used = 0;
};
Memory& memory() {
  static Memory* m = new Memory;
  return *m;
}
constexpr size_t kTotalMemory = size_t(8) << 30;  // what the stand-in device reports

bool is_pinned(const void* p) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  return m.pinned.count(const_cast<void*>(p)) != 0;
}

struct KernelInfo {
  const char* name;
  void (*run)(const void*, void*);
  std::shared_ptr<void> (*from_pointers)(void**);
  int max_dynamic_smem = 48 * 1024;
};
std::mutex g_kernels_mu;
std::map<const void*, KernelInfo>& kernels() {
  static auto* k = new std::map<const void*, KernelInfo>;
  return *k;
}
int max_dynamic_smem(const void* fn) {
  std::lock_guard<std::mutex> lk(g_kernels_mu);
  auto it = kernels().find(fn);
  return it == kernels().end() ? (int)simt::config().smem_per_block : it->second.max_dynamic_smem;
}

int blocks_per_sm(int threads, size_t smem) {
  const simt::DeviceConfig& c = simt::config();
  const int warps = (threads + 31) / 32;
  int n = c.max_threads_per_sm / (warps * 32);
  if (n > c.max_blocks_per_sm) n = c.max_blocks_per_sm;
  const size_t per_block = smem + c.smem_reserved_per_block;
  if (per_block > 0 && (size_t)n * per_block > c.smem_per_sm) n = (int)(c.smem_per_sm / per_block);
  return n;
}

std::shared_ptr<Item> copy_item(void* dst, const void* src, size_t n, cudaStream_t s) {
  auto it = std::make_shared<Item>();
  it->kind = Item::Copy;
  it->stream = Device::get().stream(s);
  it->dst = dst;
  it->src = src;
  it->bytes = n;
  return it;
}

}  // namespace

namespace simt {

void register_kernel(const void* fn, const char* name, void (*run)(const void*, void*),
                     std::shared_ptr<void> (*from_pointers)(void**)) {
  std::lock_guard<std::mutex> lk(g_kernels_mu);
  KernelInfo& k = kernels()[fn];
  k.name = name;
  k.run = run;
  k.from_pointers = from_pointers;
}

cudaError_t launch_kernel(const KernelCall& call, const LaunchCfg& cfg, bool cooperative) {
  const DeviceConfig& c = config();
  const dim3 g = cfg.grid, b = cfg.block;
  const uint64_t threads = (uint64_t)b.x * b.y * b.z;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z || threads > 1024 || b.z > 64 || g.y > 65535 || g.z > 65535)
    return note(cudaErrorInvalidConfiguration);
  if (cfg.smem > (size_t)max_dynamic_smem(call.fn)) return note(cudaErrorInvalidValue);
  const int per_sm = blocks_per_sm((int)threads, cfg.smem);
  if (per_sm < 1) return note(cudaErrorLaunchOutOfResources);
  auto it = std::make_shared<Item>();
  it->kind = Item::Kernel;
  it->stream = Device::get().stream(cfg.stream);
  it->call = call;
  it->grid = g;
  it->block = b;
  it->smem = cfg.smem;
  it->cooperative = cooperative;
  it->max_resident = per_sm * c.sms;
  if (cooperative && (uint64_t)g.x * g.y * g.z > (uint64_t)it->max_resident)
    return note(cudaErrorCooperativeLaunchTooLarge);
  if (cooperative) it->max_resident = (int)((uint64_t)g.x * g.y * g.z);
  return note(Device::get().enqueue(std::move(it)));
}

}  // namespace simt

// ---- errors, device, versions -----------------------------------------------------------

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last;
  t_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return t_last; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define KM_SIMT_NAME(x) \
  case x: return #x;
    KM_SIMT_NAME(cudaSuccess)
    KM_SIMT_NAME(cudaErrorInvalidValue)
    KM_SIMT_NAME(cudaErrorMemoryAllocation)
    KM_SIMT_NAME(cudaErrorInitializationError)
    KM_SIMT_NAME(cudaErrorInvalidConfiguration)
    KM_SIMT_NAME(cudaErrorInvalidDevicePointer)
    KM_SIMT_NAME(cudaErrorInsufficientDriver)
    KM_SIMT_NAME(cudaErrorInvalidDeviceFunction)
    KM_SIMT_NAME(cudaErrorNoDevice)
    KM_SIMT_NAME(cudaErrorInvalidDevice)
    KM_SIMT_NAME(cudaErrorInvalidResourceHandle)
    KM_SIMT_NAME(cudaErrorIllegalState)
    KM_SIMT_NAME(cudaErrorNotReady)
    KM_SIMT_NAME(cudaErrorLaunchOutOfResources)
    KM_SIMT_NAME(cudaErrorLaunchFailure)
    KM_SIMT_NAME(cudaErrorCooperativeLaunchTooLarge)
    KM_SIMT_NAME(cudaErrorNotSupported)
    KM_SIMT_NAME(cudaErrorStreamCaptureUnsupported)
    KM_SIMT_NAME(cudaErrorStreamCaptureInvalidated)
    KM_SIMT_NAME(cudaErrorStreamCaptureImplicit)
    KM_SIMT_NAME(cudaErrorUnknown)
#undef KM_SIMT_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorCooperativeLaunchTooLarge: return "too many blocks in cooperative launch";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    default: return cudaGetErrorName(e);
  }
}

cudaError_t cudaDriverGetVersion(int* v) { *v = 12040; return cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int* v) { *v = 12040; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : note(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }

cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int dev) {
  if (dev != 0) return note(cudaErrorInvalidDevice);
  const simt::DeviceConfig& c = simt::config();
  switch (a) {
    case cudaDevAttrMaxThreadsPerBlock: *v = 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = (int)c.smem_per_block; break;
    case cudaDevAttrWarpSize: *v = 32; break;
    case cudaDevAttrMultiProcessorCount: *v = c.sms; break;
    case cudaDevAttrKernelExecTimeout: *v = c.exec_timeout ? 1 : 0; break;
    case cudaDevAttrComputeCapabilityMajor: *v = c.cc / 10; break;
    case cudaDevAttrComputeCapabilityMinor: *v = c.cc % 10; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *v = c.max_threads_per_sm; break;
    case cudaDevAttrCanMapHostMemory: *v = 1; break;
    case cudaDevAttrL2CacheSize: *v = 4 << 20; break;
    case cudaDevAttrCooperativeLaunch: *v = 1; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)c.smem_per_block_optin; break;
    // No persisting L2 on the stand-in: the L2 window code returns before using it.
    case cudaDevAttrMaxPersistingL2CacheSize: *v = 0; break;
    case cudaDevAttrMaxAccessPolicyWindowSize: *v = 0; break;
    default: return note(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int dev) {
  if (dev != 0) return note(cudaErrorInvalidDevice);
  const simt::DeviceConfig& c = simt::config();
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "Keymate SIMT harness (CPU, sm_%d, %d SMs)", c.cc, c.sms);
  p->totalGlobalMem = kTotalMemory;
  p->sharedMemPerBlock = c.smem_per_block;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff;
  p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->clockRate = 1000000;
  p->major = c.cc / 10;
  p->minor = c.cc % 10;
  p->multiProcessorCount = c.sms;
  p->kernelExecTimeoutEnabled = c.exec_timeout;
  p->canMapHostMemory = 1;
  p->l2CacheSize = 4 << 20;
  p->maxThreadsPerMultiProcessor = c.max_threads_per_sm;
  p->sharedMemPerMultiprocessor = c.smem_per_sm;
  p->sharedMemPerBlockOptin = c.smem_per_block_optin;
  p->cooperativeLaunch = 1;
  p->memoryBusWidth = 128;
  p->memoryClockRate = 1000000;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  Device::get().synchronize();
  return cudaSuccess;
}
void simtFreezeDevice(bool frozen) { Device::get().frozen.store(frozen); }
cudaError_t cudaDeviceSetLimit(cudaLimit, size_t) { return cudaSuccess; }
cudaError_t cudaCtxResetPersistingL2Cache() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  *total_bytes = kTotalMemory;
  *free_bytes = m.used < kTotalMemory ? kTotalMemory - m.used : 0;
  return cudaSuccess;
}

// ---- memory ---------------------------------------------------------------------------

cudaError_t cudaMalloc(void** p, size_t n) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  if (n > kTotalMemory - m.used) return note(cudaErrorMemoryAllocation);
  *p = std::aligned_alloc(256, (n + 255) / 256 * 256 + (n == 0 ? 256 : 0));
  if (!*p) return note(cudaErrorMemoryAllocation);
  // cudaMalloc does not clear memory: NaN bytes make a read before the first
  // write show up (and differ from a zeroed buffer that hid it).
  std::memset(*p, 0xff, n);
  m.device[*p] = n;
  m.used += n;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  Device::get().synchronize();  // cudaFree waits for the device, as CUDA's does
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  auto it = m.device.find(p);
  if (it == m.device.end()) return note(cudaErrorInvalidValue);
  m.used -= it->second;
  m.device.erase(it);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t n, unsigned flags) {
  if (flags & ~(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined))
    return note(cudaErrorInvalidValue);
  *p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096 + (n == 0 ? 4096 : 0));
  if (!*p) return note(cudaErrorMemoryAllocation);
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  m.pinned.insert(*p);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t n) { return cudaHostAlloc(p, n, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  Device::get().synchronize();
  Memory& m = memory();
  std::lock_guard<std::mutex> lk(m.mu);
  if (!m.pinned.erase(p)) return note(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaHostGetDevicePointer(void** dev, void* host, unsigned flags) {
  if (flags != 0 || !is_pinned(host)) return note(cudaErrorInvalidValue);
  *dev = host;  // one address space, as with unified addressing
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s) {
  auto it = copy_item(dst, src, n, s);
  // From pageable host memory CUDA copies the source before returning (a
  // staging buffer); to pageable memory it returns when the copy is done.
  const bool h2d = kind == cudaMemcpyHostToDevice && !is_pinned(src);
  const bool d2h = kind == cudaMemcpyDeviceToHost && !is_pinned(dst);
  if (h2d && n) {
    it->staged = std::make_shared<std::vector<unsigned char>>((const unsigned char*)src,
                                                              (const unsigned char*)src + n);
  }
  const cudaError_t e = Device::get().enqueue(it);
  if (e != cudaSuccess) return note(e);
  if (d2h && !Device::get().stream(s)->capture) Device::get().wait(it);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) {
  auto it = copy_item(dst, src, n, nullptr);
  const cudaError_t e = Device::get().enqueue(it);
  if (e != cudaSuccess) return note(e);
  Device::get().wait(it);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t s) {
  auto it = std::make_shared<Item>();
  it->kind = Item::Set;
  it->stream = Device::get().stream(s);
  it->dst = p;
  it->value = v;
  it->bytes = n;
  return note(Device::get().enqueue(std::move(it)));
}
// Asynchronous with respect to the host for device memory, like CUDA's.
cudaError_t cudaMemset(void* p, int v, size_t n) { return cudaMemsetAsync(p, v, n, nullptr); }

// ---- streams and events ---------------------------------------------------------------------

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  if (flags & ~cudaStreamNonBlocking) return note(cudaErrorInvalidValue);
  *s = Device::get().create_stream(flags);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s || s == cudaStreamLegacy || s == cudaStreamPerThread) return note(cudaErrorInvalidResourceHandle);
  Device::get().destroy_stream(s);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  SimtStream* st = Device::get().stream(s);
  if (st->capture) {
    st->capture_broken = true;
    return note(cudaErrorStreamCaptureUnsupported);
  }
  Device::get().wait(st->last);
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t s) {
  SimtStream* st = Device::get().stream(s);
  if (st->capture) {
    st->capture_broken = true;
    return note(cudaErrorStreamCaptureUnsupported);
  }
  return Device::get().is_done(st->last) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaStreamSetAttribute(cudaStream_t, cudaStreamAttrID, const cudaStreamAttrValue*) { return cudaSuccess; }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  if (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming)) return note(cudaErrorInvalidValue);
  *e = new SimtEvent;
  (*e)->flags = flags;
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!e) return note(cudaErrorInvalidResourceHandle);
  Device::get().wait(e->rec);  // its record may still be queued
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecordWithFlags(cudaEvent_t e, cudaStream_t s, unsigned flags) {
  if (!e) return note(cudaErrorInvalidResourceHandle);
  if (flags & ~cudaEventRecordExternal) return note(cudaErrorInvalidValue);
  SimtStream* st = Device::get().stream(s);
  // In a capture, a record without cudaEventRecordExternal only orders work
  // inside the graph: the event itself is never recorded, not even by a replay.
  if (st->capture && !(flags & cudaEventRecordExternal)) return cudaSuccess;
  auto it = std::make_shared<Item>();
  it->kind = Item::Record;
  it->stream = st;
  it->event = e;
  return note(Device::get().enqueue(std::move(it)));
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) { return cudaEventRecordWithFlags(e, s, 0); }

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!e) return note(cudaErrorInvalidResourceHandle);
  Device::get().wait(e->rec);
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!e) return note(cudaErrorInvalidResourceHandle);
  return Device::get().is_done(e->rec) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!a || !b || ((a->flags | b->flags) & cudaEventDisableTiming)) return note(cudaErrorInvalidResourceHandle);
  if (!a->recorded || !b->recorded) return note(cudaErrorInvalidResourceHandle);  // never recorded
  if (!Device::get().is_done(a->rec) || !Device::get().is_done(b->rec)) return note(cudaErrorNotReady);
  *ms = (float)(b->t_ms - a->t_ms);
  return cudaSuccess;
}

// ---- graphs -------------------------------------------------------------------------------

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  SimtStream* st = Device::get().stream(s);
  if (st->legacy) return note(cudaErrorStreamCaptureUnsupported);  // the legacy stream cannot be captured
  if (st->capture) return note(cudaErrorIllegalState);
  st->capture = new SimtGraph;
  st->capture_broken = false;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  SimtStream* st = Device::get().stream(s);
  if (!st->capture) return note(cudaErrorIllegalState);
  SimtGraph* graph = st->capture;
  st->capture = nullptr;
  if (st->capture_broken) {
    delete graph;
    *g = nullptr;
    return note(cudaErrorStreamCaptureInvalidated);
  }
  *g = graph;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long) {
  if (!g) return note(cudaErrorInvalidValue);
  auto* x = new SimtGraphExec;
  for (const auto& n : g->nodes) x->items.push_back(n->item);
  *e = x;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
  if (!e) return note(cudaErrorInvalidValue);
  SimtStream* st = Device::get().stream(s);
  for (const auto& t : e->items) {
    auto it = std::make_shared<Item>();
    it->kind = t->kind;
    it->stream = st;
    it->call = t->call;
    it->grid = t->grid;
    it->block = t->block;
    it->smem = t->smem;
    it->cooperative = t->cooperative;
    it->max_resident = t->max_resident;
    it->dst = t->dst;
    it->src = t->src;
    it->bytes = t->bytes;
    it->value = t->value;
    it->staged = t->staged;
    it->event = t->event;
    const cudaError_t err = Device::get().enqueue(std::move(it));
    if (err != cudaSuccess) return note(err);
  }
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  delete g;
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t g, cudaGraphNode_t* nodes, size_t* count) {
  if (!g || !count) return note(cudaErrorInvalidValue);
  if (!nodes) {
    *count = g->nodes.size();
    return cudaSuccess;
  }
  const size_t n = *count < g->nodes.size() ? *count : g->nodes.size();
  for (size_t i = 0; i < n; i++) nodes[i] = g->nodes[i].get();
  *count = n;
  return cudaSuccess;
}

cudaError_t cudaGraphNodeGetType(cudaGraphNode_t n, cudaGraphNodeType* t) {
  if (!n) return note(cudaErrorInvalidValue);
  *t = n->type;
  return cudaSuccess;
}

cudaError_t cudaGraphKernelNodeSetAttribute(cudaGraphNode_t n, cudaKernelNodeAttrID, const cudaKernelNodeAttrValue*) {
  return n && n->type == cudaGraphNodeTypeKernel ? cudaSuccess : note(cudaErrorInvalidValue);
}

// ---- kernels by pointer -----------------------------------------------------------------

cudaError_t cudaLaunchCooperativeKernel(const void* func, dim3 grid, dim3 block, void** args, size_t smem,
                                        cudaStream_t s) {
  simt::KernelCall call;
  {
    std::lock_guard<std::mutex> lk(g_kernels_mu);
    auto it = kernels().find(func);
    if (it == kernels().end() || !it->second.run) return note(cudaErrorInvalidDeviceFunction);
    call.name = it->second.name;
    call.fn = func;
    call.run = it->second.run;
    call.args = it->second.from_pointers(args);
  }
  return simt::launch_kernel(call, simt::LaunchCfg(grid, block, smem, s), true);
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute a, int v) {
  if (!func) return note(cudaErrorInvalidDeviceFunction);
  if (a == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (v < 0 || (size_t)v > simt::config().smem_per_block_optin) return note(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lk(g_kernels_mu);
    kernels()[func].max_dynamic_smem = v;
  }
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (!func) return note(cudaErrorInvalidDeviceFunction);
  std::memset(attr, 0, sizeof *attr);
  attr->maxThreadsPerBlock = 1024;
  attr->numRegs = 32;
  attr->ptxVersion = attr->binaryVersion = simt::config().cc;
  attr->maxDynamicSharedSizeBytes = max_dynamic_smem(func);
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, const void* func, int threads, size_t smem) {
  if (!func) return note(cudaErrorInvalidDeviceFunction);
  if (threads < 1 || threads > 1024) return note(cudaErrorInvalidValue);
  *n = blocks_per_sm(threads, smem);
  return cudaSuccess;
}
