// See scheduler.h. Also the device-side calls of simt/device.h and
// simt/launch.h that need the running thread: barriers, warp collectives,
// shared memory.
#include "scheduler.h"

#include <sched.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "config.h"

namespace simt {

ThreadCtx* g_self = nullptr;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kStackBytes = 512 * 1024;  // ASan's frames are several times larger
#else
constexpr size_t kStackBytes = 128 * 1024;
#endif
constexpr size_t kStaticSmemBytes = 48 * 1024;  // what a block's static __shared__ variables may use

bool same_site(const char* f1, int l1, const char* f2, int l2) {
  return l1 == l2 && (f1 == f2 || std::strcmp(f1, f2) == 0);
}

void thread_main(void* p) {
  Thread* t = static_cast<Thread*>(p);
  fiber_started(t->fiber, scheduler().home());
  try {
    const KernelCall& c = t->block->grid->call;
    c.run(c.fn, c.args.get());
  } catch (const std::exception& e) {
    die("%s threw an exception out of the kernel: %s", where(*t).c_str(), e.what());
  } catch (...) {
    die("%s threw an exception out of the kernel", where(*t).c_str());
  }
  scheduler().thread_exit();
}

}  // namespace

void die(const char* fmt, ...) {
  std::fflush(stdout);
  std::fputs("simt: error: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::_Exit(3);
}

std::string where(const Thread& t) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "kernel %s, block (%u,%u,%u), thread (%u,%u,%u)", t.block->grid->call.name,
                t.block_idx.x, t.block_idx.y, t.block_idx.z, t.thread_idx.x, t.thread_idx.y, t.thread_idx.z);
  return buf;
}

Scheduler* g_scheduler = nullptr;

Scheduler& scheduler() {
  if (__builtin_expect(!g_scheduler, 0)) g_scheduler = new Scheduler;  // first use is on the device thread
  return *g_scheduler;
}

Scheduler::Scheduler() : stack_bytes_(kStackBytes) {
  schedule_ = config().schedule;
  rng_.seed(config().schedule_seed);
}

void Scheduler::admit(Grid& g) {
  while (g.next < g.nblocks && (int)g.resident.size() < g.max_resident) {
    auto b = std::make_unique<Block>();
    const uint64_t n = g.next++;
    b->grid = &g;
    b->idx = uint3{(unsigned)(n % g.grid.x), (unsigned)(n / g.grid.x % g.grid.y),
                   (unsigned)(n / ((uint64_t)g.grid.x * g.grid.y))};
    b->nthreads = (int)(g.block.x * g.block.y * g.block.z);
    b->live = b->nthreads;
    b->threads.resize((size_t)b->nthreads);
    b->warps.resize((size_t)(b->nthreads + 31) / 32);
    b->dyn_bytes = g.smem;
    if (!free_smem_.empty()) {  // reused: fresh 100 KB buffers per block cost page faults
      b->smem.swap(free_smem_.back());
      free_smem_.pop_back();
    }
    b->smem.resize(g.smem + kStaticSmemBytes);
    std::memset(b->smem.data(), 0xff, g.smem);  // NaN in every float and double
    for (int i = 0; i < b->nthreads; i++) {
      Thread& t = b->threads[(size_t)i];
      t.thread_idx = uint3{(unsigned)(i % g.block.x), (unsigned)(i / g.block.x % g.block.y),
                           (unsigned)(i / (g.block.x * g.block.y))};
      t.block_idx = b->idx;
      t.block_dim = g.block;
      t.grid_dim = g.grid;
      t.block = b.get();
      t.linear = i;
      t.lane = i & 31;
      t.warp = i >> 5;
      b->warps[(size_t)t.warp].lanes |= 1u << t.lane;
      if (free_stacks_.empty()) {
        t.fiber.stack = stack_alloc(stack_bytes_);
      } else {
        t.fiber.stack = free_stacks_.back();
        free_stacks_.pop_back();
      }
      fiber_init(t.fiber, &thread_main, &t);
    }
    g.resident.push_back(std::move(b));
  }
}

void Scheduler::resume(Thread& t) {
  g_self = &t;
  t.spun = false;
  fiber_switch(home_, t.fiber);  // returns when some thread switches home
  g_self = nullptr;
}

// The next lane of t's warp that can run, in the schedule's direction, or
// null. Waiting threads hand over to it directly instead of through the
// scheduler: a shuffle round is then one switch per lane, not two.
Thread* Scheduler::next_in_warp(Thread& t) {
  if (schedule_ == Schedule::Random) return nullptr;
  Block& b = *t.block;
  const int base = t.warp * 32, n = std::min(32, b.nthreads - base);
  const int step = schedule_ == Schedule::Reverse ? n - 1 : 1;
  for (int k = 1, l = (t.lane + step) % n; k < n; k++, l = (l + step) % n) {
    Thread& o = b.threads[(size_t)(base + l)];
    if (o.wait == Wait::None && !o.spun) return &o;
  }
  return nullptr;
}

void Scheduler::park() {
  Thread& t = self();
  if (Thread* o = next_in_warp(t)) {
    g_self = o;
    o->spun = false;
    fiber_switch(t.fiber, o->fiber);
    return;
  }
  fiber_switch(t.fiber, home_);
}

void Scheduler::spin() {
  Thread& t = self();
  t.spun = true;
  fiber_switch(t.fiber, home_);
}

void Scheduler::thread_exit() {
  Thread& t = self();
  Block& b = *t.block;
  WarpState& w = b.warps[(size_t)t.warp];
  const unsigned bit = 1u << t.lane;
  b.live--;
  w.exited |= bit;
  t.wait = Wait::Exited;
  if (b.at_barrier > 0)
    die("divergent barrier: %s exited while %d thread(s) of its block wait at __syncthreads() at %s:%d",
        where(t).c_str(), b.at_barrier, b.bar_file, b.bar_line);
  if (w.arrived && (w.mask & bit))
    die("%s exited while lanes 0x%08x of its warp wait for it at %s at %s:%d (mask 0x%08x)", where(t).c_str(),
        w.arrived, w.what, w.file, w.line, w.mask);
  if (Thread* o = next_in_warp(t)) {
    g_self = o;
    o->spun = false;
    fiber_switch(t.fiber, o->fiber, true);
  } else {
    fiber_switch(t.fiber, home_, true);
  }
  std::abort();  // never resumed
}

// One turn for every ready thread (the schedule's order). Returns 0 when no
// thread could run, 1 when some only spun, 2 when some did work.
bool Scheduler::pass(Grid& g) {
  bool ran = false;
  switch (schedule_) {
    case Schedule::RoundRobin:
      for (auto& b : g.resident)
        for (Thread& t : b->threads)
          if (t.wait == Wait::None) resume(t), ran = true;
      break;
    case Schedule::Reverse:
      for (auto bi = g.resident.rbegin(); bi != g.resident.rend(); ++bi)
        for (auto ti = (*bi)->threads.rbegin(); ti != (*bi)->threads.rend(); ++ti)
          if (ti->wait == Wait::None) resume(*ti), ran = true;
      break;
    case Schedule::Random: {
      order_.clear();
      for (auto& b : g.resident)
        for (Thread& t : b->threads)
          if (t.wait == Wait::None) order_.push_back(&t);
      std::shuffle(order_.begin(), order_.end(), rng_);
      for (Thread* t : order_)
        if (t->wait == Wait::None) resume(*t), ran = true;
      break;
    }
    case Schedule::RunAhead: {
      // The last warp with a lane that can run (and did not just spin) runs
      // alone until none of its lanes can; spinning lanes get their turn once
      // every warp is waiting or spinning.
      auto pick = [&](bool allow_spun) -> std::pair<Block*, int> {
        for (auto bi = g.resident.rbegin(); bi != g.resident.rend(); ++bi)
          for (int w = (int)(*bi)->warps.size() - 1; w >= 0; w--)
            for (int l = 0; l < 32; l++) {
              const size_t i = (size_t)w * 32 + (size_t)l;
              if (i >= (*bi)->threads.size()) break;
              const Thread& t = (*bi)->threads[i];
              if (t.wait == Wait::None && (allow_spun || !t.spun)) return {bi->get(), w};
            }
        return {nullptr, 0};
      };
      auto chosen = pick(false);
      if (!chosen.first) {
        chosen = pick(true);
        if (!chosen.first) break;
        for (auto& b : g.resident)
          for (Thread& t : b->threads) t.spun = false;
      }
      Block& b = *chosen.first;
      const size_t lo = (size_t)chosen.second * 32, hi = std::min(lo + 32, b.threads.size());
      for (bool any = true; any;) {
        any = false;
        for (size_t i = lo; i < hi; i++) {
          Thread& t = b.threads[i];
          if (t.wait == Wait::None && !t.spun) resume(t), any = ran = true;
        }
      }
      break;
    }
  }
  return ran;
}

void Scheduler::deadlock(Grid& g) {
  std::string msg = "deadlock in kernel " + std::string(g.call.name) + ": every thread waits\n";
  for (auto& b : g.resident) {
    // Runs of consecutive threads waiting at the same place, one line each.
    size_t i = 0;
    while (i < b->threads.size()) {
      const Thread& t = b->threads[i];
      size_t j = i + 1;
      while (j < b->threads.size() && b->threads[j].wait == t.wait && (t.wait == Wait::Exited ||
             same_site(b->threads[j].file, b->threads[j].line, t.file, t.line)))
        j++;
      char line[600];
      if (t.wait == Wait::Exited)
        std::snprintf(line, sizeof line, "  block (%u,%u,%u) threads %zu-%zu: exited\n", b->idx.x, b->idx.y, b->idx.z,
                      i, j - 1);
      else
        std::snprintf(line, sizeof line, "  block (%u,%u,%u) threads %zu-%zu: wait at %s at %s:%d\n", b->idx.x,
                      b->idx.y, b->idx.z, i, j - 1, t.what, t.file, t.line);
      msg += line;
      i = j;
    }
  }
  die("%s", msg.c_str());
}

bool Scheduler::run(Grid& g, bool others_waiting) {
  admit(g);
  for (;;) {
    if (g.done()) return true;
    const bool ran = pass(g);
    bool all_spun = true;
    for (auto it = g.resident.begin(); it != g.resident.end();) {
      Block& b = **it;
      for (const Thread& t : b.threads)
        if (t.wait == Wait::None && !t.spun) all_spun = false;
      if (b.live == 0) {
        for (Thread& t : b.threads) free_stacks_.push_back(t.fiber.stack);
        free_smem_.push_back(std::move(b.smem));
        it = g.resident.erase(it);
      } else {
        ++it;
      }
    }
    admit(g);
    if (g.done()) return true;
    if (!ran) deadlock(g);
    // Threads that only spin wait for someone else (the host, another grid):
    // hand the device thread back so that work can happen.
    if (others_waiting || all_spun) {
      if (all_spun) sched_yield();
      return false;
    }
  }
}

// ---- device-side calls ---------------------------------------------------------------

int syncthreads_count(int pred, const char* file, int line) {
  Scheduler& s = scheduler();
  Thread& t = s.self();
  Block& b = *t.block;
  if (b.live != b.nthreads)
    die("divergent barrier: %s waits at __syncthreads() at %s:%d but %d thread(s) of its block have exited",
        where(t).c_str(), file, line, b.nthreads - b.live);
  if (b.at_barrier > 0 && !same_site(b.bar_file, b.bar_line, file, line))
    die("divergent barrier: %s waits at __syncthreads() at %s:%d while %d thread(s) of its block wait at "
        "__syncthreads() at %s:%d",
        where(t).c_str(), file, line, b.at_barrier, b.bar_file, b.bar_line);
  if (b.at_barrier == 0) {
    b.bar_file = file;
    b.bar_line = line;
  }
  const unsigned g = b.bar_gen;
  b.bar_count[g & 1] += pred != 0;
  if (++b.at_barrier == b.live) {
    for (Thread& o : b.threads)
      if (o.wait == Wait::Barrier) o.wait = Wait::None;
    b.at_barrier = 0;
    b.bar_gen++;
    b.bar_count[(g + 1) & 1] = 0;
  } else {
    t.wait = Wait::Barrier;
    t.what = "__syncthreads()";
    t.file = file;
    t.line = line;
    s.park();
  }
  return b.bar_count[g & 1];
}

void syncthreads(const char* file, int line) { syncthreads_count(0, file, line); }

const unsigned char* warp_exchange(unsigned mask, Coll kind, const void* mine, int n, const char* what,
                                   const char* file, int line) {
  Scheduler& s = scheduler();
  Thread& t = s.self();
  WarpState& w = t.block->warps[(size_t)t.warp];
  const unsigned bit = 1u << t.lane;
  if (!(mask & bit))
    die("%s at %s:%d: mask 0x%08x does not include the calling lane %d (%s)", what, file, line, mask, t.lane,
        where(t).c_str());
  if (mask & ~w.lanes)
    die("%s at %s:%d: mask 0x%08x names lanes 0x%08x that this block does not have (%s)", what, file, line, mask,
        mask & ~w.lanes, where(t).c_str());
  if (mask & w.exited)
    die("%s at %s:%d: mask 0x%08x names exited lane(s) 0x%08x (%s)", what, file, line, mask, mask & w.exited,
        where(t).c_str());
  if (w.arrived) {
    if (w.mask != mask || w.kind != kind)
      die("lanes of one warp meet at different collectives: %s at %s:%d (mask 0x%08x) while lanes 0x%08x wait at "
          "%s at %s:%d (mask 0x%08x) (%s)",
          what, file, line, mask, w.arrived, w.what, w.file, w.line, w.mask, where(t).c_str());
  } else {
    w.mask = mask;
    w.kind = kind;
    w.what = what;
    w.file = file;
    w.line = line;
  }
  const unsigned g = w.gen;
  if (n) std::memcpy(w.slots[g & 1][t.lane], mine, (size_t)n);
  w.arrived |= bit;
  t.coll_gen = g;
  if (w.arrived == mask) {
    w.exited_then[g & 1] = w.exited;
    w.arrived = 0;
    w.gen++;
    const size_t base = (size_t)t.warp * 32;
    for (int l = 0; l < 32; l++)
      if ((mask >> l & 1u) && l != t.lane) t.block->threads[base + (size_t)l].wait = Wait::None;
  } else {
    t.wait = Wait::Warp;
    t.what = what;
    t.file = file;
    t.line = line;
    s.park();
  }
  return &w.slots[g & 1][0][0];
}

void check_source_lane(unsigned mask, int src, const char* what, const char* file, int line) {
  Thread& t = scheduler().self();
  const WarpState& w = t.block->warps[(size_t)t.warp];
  if (!(w.lanes >> src & 1u))
    die("%s at %s:%d reads lane %d, which this block does not have (%s)", what, file, line, src, where(t).c_str());
  if (w.exited_then[t.coll_gen & 1] >> src & 1u)
    die("%s at %s:%d reads lane %d, which has exited (mask 0x%08x) (%s)", what, file, line, src, mask,
        where(t).c_str());
  if (!(mask >> src & 1u))
    die("%s at %s:%d reads lane %d, which is not in mask 0x%08x (%s)", what, file, line, src, mask,
        where(t).c_str());
}

unsigned lane_id() { return (unsigned)scheduler().self().lane; }

unsigned active_mask() {
  Thread& t = scheduler().self();
  const WarpState& w = t.block->warps[(size_t)t.warp];
  return w.lanes & ~w.exited;
}

void yield_spin() {
  if (!g_self) {  // host code (a __host__ __device__ helper): nothing to yield to
    sched_yield();
    return;
  }
  scheduler().spin();
}

void* SmemSite::get_raw(size_t bytes, size_t align) {
  Thread& t = scheduler().self();
  Block& b = *t.block;
  for (const auto& s : b.sites)
    if (s.first == this) return s.second;
  size_t off = (b.dyn_bytes + b.static_used + align - 1) / align * align;
  if (off + bytes > b.smem.size())
    die("%s: static __shared__ variables need more than %zu bytes", where(t).c_str(), kStaticSmemBytes);
  void* p = b.smem.data() + off;
  std::memset(p, 0xff, bytes);
  b.static_used = off + bytes - b.dyn_bytes;
  b.sites.emplace_back(this, p);
  return p;
}

void* dynamic_smem_raw() { return scheduler().self().block->smem.data(); }

}  // namespace simt
