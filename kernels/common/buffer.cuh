// Device memory owned by C++ objects: a DeviceBuffer frees what it allocated
// when it goes out of scope (also when a load throws half-way), and copies in
// and out check their sizes, so a wrong size is an error message, not a
// corrupted heap on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "common/check.cuh"

namespace km::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(uint64_t bytes) { alloc(bytes); }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }

  // Zero-filled, so a buffer read before anything is written holds zeros,
  // not garbage (compute-sanitizer's initcheck stays quiet too).
  void alloc(uint64_t bytes) {
    reset();
    if (bytes == 0) return;
    const cudaError_t e = cudaMalloc(&p_, bytes);
    if (e != cudaSuccess) {
      p_ = nullptr;
      fail("cuda: cannot allocate %.1f MiB of device memory: %s (use a smaller context, --kv int8/fp8 or "
           "smaller weights)",
           (double)bytes / (1 << 20), cudaGetErrorString(e));
    }
    bytes_ = bytes;
    CUDA_CHECK(cudaMemset(p_, 0, bytes));
  }
  void reset() {
    // No check: runs in destructors, and a dead context frees nothing anyway.
    // Never on a stuck device: cudaFree would wait for the kernel that never returns.
    if (p_ && !device_stuck()) cudaFree(p_);
    p_ = nullptr;
    bytes_ = 0;
  }

  void upload(const void* src, uint64_t bytes, uint64_t offset = 0) {
    if (offset + bytes > bytes_) fail("cuda: upload of %llu bytes at %llu overruns a %llu-byte buffer",
                                      (unsigned long long)bytes, (unsigned long long)offset,
                                      (unsigned long long)bytes_);
    if (bytes) CUDA_CHECK(cudaMemcpy(static_cast<char*>(p_) + offset, src, bytes, cudaMemcpyHostToDevice));
  }
  void download(void* dst, uint64_t bytes, uint64_t offset = 0) const {
    if (offset + bytes > bytes_) fail("cuda: download of %llu bytes at %llu overruns a %llu-byte buffer",
                                      (unsigned long long)bytes, (unsigned long long)offset,
                                      (unsigned long long)bytes_);
    if (bytes) CUDA_CHECK(cudaMemcpy(dst, static_cast<const char*>(p_) + offset, bytes, cudaMemcpyDeviceToHost));
  }

  template <typename T = void>
  T* get() const { return static_cast<T*>(p_); }
  uint64_t bytes() const { return bytes_; }
  bool empty() const { return p_ == nullptr; }

 private:
  void* p_ = nullptr;
  uint64_t bytes_ = 0;
};

// DeviceBuffer's zero-fill (cudaMemset) and uploads (cudaMemcpy from pageable
// memory) run on the legacy default stream and may return before the bytes
// land; a cudaStreamNonBlocking stream does not wait for that stream. So once
// buffers are set up, and before a kernel on such a stream reads them, this
// waits for them to land. One wait for a whole setup, not one per buffer.
inline void settle_uploads() { CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy)); }

// Page-locked host memory (for asynchronous copies whose source must stay put).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(uint64_t bytes) {
    if (bytes) CUDA_CHECK(cudaMallocHost(&p_, bytes));
    bytes_ = bytes;
  }
  ~PinnedBuffer() {
    if (p_ && !device_stuck()) cudaFreeHost(p_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      if (p_ && !device_stuck()) cudaFreeHost(p_);
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  template <typename T = void>
  T* get() const { return static_cast<T*>(p_); }
  uint64_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace km::cuda
