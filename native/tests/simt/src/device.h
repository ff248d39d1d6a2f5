// The stand-in device's work queue: streams, events and graphs as CUDA
// defines them, executed in order by the one device thread.
//
// Ordering: an item waits for the previous item of its stream; an item on the
// legacy default stream also waits for all earlier work of every blocking
// stream, and work on a blocking stream waits for earlier legacy work;
// cudaStreamNonBlocking streams are not ordered with the legacy stream at all.
// Ready items of different streams start in the order KEYMATE_SIMT_STREAMS
// says, so code that forgot an ordering sees its work run the other way round.
//
// Kernels run as grids on the device thread (scheduler.h); several may run at
// once (a persistent kernel keeps running while copies on other streams go on).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "cuda_runtime.h"
#include "scheduler.h"

namespace simt {

struct Event;

struct Item {
  enum Kind { Kernel, Copy, Set, Record } kind = Copy;
  SimtStream* stream = nullptr;
  std::vector<std::shared_ptr<Item>> deps;
  bool done = false;
  // Kernel
  KernelCall call;
  dim3 grid, block;
  size_t smem = 0;
  bool cooperative = false;
  int max_resident = 0;
  // Copy / Set
  void* dst = nullptr;
  const void* src = nullptr;
  size_t bytes = 0;
  int value = 0;
  std::shared_ptr<std::vector<unsigned char>> staged;  // pageable source, copied at the call
  // Record
  SimtEvent* event = nullptr;
  std::unique_ptr<Grid> running;
};

}  // namespace simt

struct SimtStream {
  unsigned flags = 0;
  bool legacy = false;
  std::shared_ptr<simt::Item> last;
  SimtGraph* capture = nullptr;   // capturing into this graph
  bool capture_broken = false;
};

struct SimtEvent {
  unsigned flags = 0;
  bool recorded = false;          // a real record was enqueued
  std::shared_ptr<simt::Item> rec;
  double t_ms = 0;
};

struct SimtGraphNode {
  std::shared_ptr<simt::Item> item;  // template, copied at every launch
  cudaGraphNodeType type = cudaGraphNodeTypeKernel;
};

struct SimtGraph {
  std::vector<std::unique_ptr<SimtGraphNode>> nodes;
};

struct SimtGraphExec {
  std::vector<std::shared_ptr<simt::Item>> items;
};

namespace simt {

class Device {
 public:
  static Device& get();

  SimtStream* stream(cudaStream_t s);  // resolves 0 / cudaStreamLegacy
  SimtStream* create_stream(unsigned flags);
  void destroy_stream(SimtStream* s);

  // Puts `it` on its stream (or into the graph being captured there).
  cudaError_t enqueue(std::shared_ptr<Item> it);
  // The host waits until `it` is done (nullptr: done at once).
  void wait(const std::shared_ptr<Item>& it);
  bool is_done(const std::shared_ptr<Item>& it);
  void synchronize();  // everything enqueued so far

 private:
  Device();
  void loop();
  bool ready(const Item& it) const;
  void execute(Item& it);
  void complete(Item& it);

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::shared_ptr<Item>> pending_;
  std::vector<std::shared_ptr<Item>> running_;  // kernels
  std::vector<SimtStream*> blocking_;
  SimtStream legacy_;
  bool flush_ = false;
  std::mt19937_64 rng_;
  std::thread thread_;
 public:
  std::atomic<bool> frozen{false};  // simtFreezeDevice
};

}  // namespace simt
