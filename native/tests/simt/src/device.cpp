// See device.h.
#include "device.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "config.h"

namespace simt {

namespace {

std::atomic<bool> g_pending{false};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Device& Device::get() {
  static Device* d = new Device;  // never destroyed: the device thread outlives static destructors
  return *d;
}

Device::Device() {
  legacy_.legacy = true;
  rng_.seed(config().streams_seed);
  thread_ = std::thread([this] { loop(); });
  thread_.detach();
}

SimtStream* Device::stream(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return &legacy_;
  return s;
}

SimtStream* Device::create_stream(unsigned flags) {
  auto* s = new SimtStream;
  s->flags = flags;
  if (!(flags & cudaStreamNonBlocking)) {
    std::lock_guard<std::mutex> lk(mu_);
    blocking_.push_back(s);
  }
  return s;
}

void Device::destroy_stream(SimtStream* s) {
  // CUDA lets the stream's work finish after cudaStreamDestroy returns.
  std::shared_ptr<Item> last;
  {
    std::lock_guard<std::mutex> lk(mu_);
    blocking_.erase(std::remove(blocking_.begin(), blocking_.end(), s), blocking_.end());
    last = s->last;
  }
  wait(last);
  delete s;
}

cudaError_t Device::enqueue(std::shared_ptr<Item> it) {
  std::lock_guard<std::mutex> lk(mu_);
  SimtStream* s = it->stream;
  if (s->capture) {
    auto node = std::make_unique<SimtGraphNode>();
    node->item = it;
    node->type = it->kind == Item::Kernel ? cudaGraphNodeTypeKernel
                 : it->kind == Item::Copy ? cudaGraphNodeTypeMemcpy
                 : it->kind == Item::Set  ? cudaGraphNodeTypeMemset
                                          : cudaGraphNodeTypeEventRecord;
    s->capture->nodes.push_back(std::move(node));
    return cudaSuccess;
  }
  auto dep = [&](const std::shared_ptr<Item>& d) {
    if (d && !d->done) it->deps.push_back(d);
  };
  dep(s->last);
  if (s->legacy) {
    for (SimtStream* b : blocking_) dep(b->last);
  } else if (!(s->flags & cudaStreamNonBlocking)) {
    dep(legacy_.last);
  }
  s->last = it;
  if (it->kind == Item::Record) {
    it->event->recorded = true;
    it->event->rec = it;
  }
  pending_.push_back(std::move(it));
  g_pending = true;
  work_cv_.notify_one();
  return cudaSuccess;
}

bool Device::is_done(const std::shared_ptr<Item>& it) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!it || it->done) return true;
  flush_ = true;  // a host that asks is a host that waits
  work_cv_.notify_one();
  return false;
}

void Device::wait(const std::shared_ptr<Item>& it) {
  if (!it) return;
  std::unique_lock<std::mutex> lk(mu_);
  while (!it->done) {
    flush_ = true;
    work_cv_.notify_one();
    done_cv_.wait(lk);
  }
}

void Device::synchronize() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!pending_.empty() || !running_.empty()) {
    flush_ = true;
    work_cv_.notify_one();
    done_cv_.wait(lk);
  }
}

bool Device::ready(const Item& it) const {
  for (const auto& d : it.deps)
    if (!d->done) return false;
  return true;
}

void Device::execute(Item& it) {
  switch (it.kind) {
    case Item::Copy:
      if (it.bytes) std::memmove(it.dst, it.staged ? it.staged->data() : it.src, it.bytes);
      break;
    case Item::Set:
      if (it.bytes) std::memset(it.dst, it.value, it.bytes);
      break;
    case Item::Record:
      it.event->t_ms = now_ms();
      break;
    case Item::Kernel:
      break;
  }
}

void Device::complete(Item& it) {
  it.done = true;
  it.deps.clear();
  it.running.reset();
  done_cv_.notify_all();
}

void Device::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  const bool lazy = config().streams != StreamOrder::Fifo;
  for (;;) {
    if (!lazy || flush_ || pending_.size() >= 256) {
      for (;;) {
        std::vector<size_t> ready_at;
        for (size_t i = 0; i < pending_.size(); i++)
          if (ready(*pending_[i])) ready_at.push_back(i);
        if (ready_at.empty()) break;
        size_t pick = ready_at.front();
        if (config().streams == StreamOrder::Reverse) pick = ready_at.back();
        if (config().streams == StreamOrder::Random) pick = ready_at[rng_() % ready_at.size()];
        std::shared_ptr<Item> it = pending_[pick];
        pending_.erase(pending_.begin() + (long)pick);
        if (it->kind == Item::Kernel) {
          auto g = std::make_unique<Grid>();
          g->call = it->call;
          g->grid = it->grid;
          g->block = it->block;
          g->smem = it->smem;
          g->cooperative = it->cooperative;
          g->nblocks = (uint64_t)it->grid.x * it->grid.y * it->grid.z;
          g->max_resident = it->max_resident;
          it->running = std::move(g);
          running_.push_back(it);
          // Reordering modes run a kernel before starting what comes next,
          // so work the host forgot to order really runs in the other order.
          if (lazy) break;
        } else {
          execute(*it);
          complete(*it);
        }
      }
      if (pending_.empty()) flush_ = false;
      g_pending = !pending_.empty();
    }
    if (running_.empty()) {
      work_cv_.wait(lk);
      continue;
    }
    if (frozen.load(std::memory_order_relaxed)) {  // a hung GPU: nothing advances
      done_cv_.notify_all();
      work_cv_.wait_for(lk, std::chrono::milliseconds(1));
      continue;
    }
    std::vector<std::shared_ptr<Item>> grids = running_;
    lk.unlock();
    std::vector<Item*> finished;
    for (auto& it : grids) {
      const bool others = grids.size() > 1 || (!lazy && g_pending.load(std::memory_order_relaxed));
      if (scheduler().run(*it->running, others)) finished.push_back(it.get());
    }
    lk.lock();
    for (Item* f : finished) {
      running_.erase(std::find_if(running_.begin(), running_.end(), [&](auto& p) { return p.get() == f; }));
      complete(*f);
    }
  }
}

}  // namespace simt
