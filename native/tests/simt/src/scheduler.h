// The stand-in device's execution of kernels: grids of blocks of threads, each
// thread a fiber, all run on the one device thread, a wave of co-resident
// blocks at a time. The schedule (KEYMATE_SIMT_SCHEDULE) decides which ready
// thread runs next; every thread runs until it waits (a barrier, a warp
// collective) or yields (a spin-wait point), so the schedule is deterministic
// for a given kernel and input.
//
//   round-robin   every ready thread in order (block, thread), then again
//   reverse       the same, last thread first
//   random:SEED   a seeded random ready thread each time
//   run-ahead     one warp (the last that can run) runs alone until all its
//                 lanes wait; then the next. A warp that gets past a missing
//                 __syncthreads() reads what other warps have not written yet:
//                 NaN-filled shared memory, or a wrong sum.
//
// Errors (a barrier some threads skip, a collective naming an exited lane,
// all threads waiting) end the process with the kernel, block and thread.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cuda_runtime.h"
#include "fiber.h"

namespace simt {

enum class Schedule { RoundRobin, Reverse, Random, RunAhead };

struct Block;
struct Grid;

enum class Wait : uint8_t { None, Barrier, Warp, Exited };

struct Thread : ThreadCtx {
  Fiber fiber;
  Block* block = nullptr;
  int linear = 0, lane = 0, warp = 0;
  Wait wait = Wait::None;
  bool spun = false;           // yielded at a spin-wait point in its last turn
  unsigned coll_gen = 0;       // generation of the warp collective it waits at
  unsigned bar_gen = 0;
  const char* what = "";       // where it waits, for reports
  const char* file = "";
  int line = 0;
};

struct WarpState {
  unsigned lanes = 0;    // lanes that exist
  unsigned exited = 0;
  unsigned arrived = 0;  // lanes waiting at the pending collective
  unsigned mask = 0;
  Coll kind = Coll::SyncWarp;
  const char* what = "";
  const char* file = "";
  int line = 0;
  unsigned gen = 0;
  unsigned exited_then[2] = {0, 0};  // exited lanes when each exchange completed
  alignas(16) unsigned char slots[2][32][kSlotBytes];
};

struct Block {
  Grid* grid = nullptr;
  uint3 idx{};
  int nthreads = 0, live = 0, at_barrier = 0;
  std::vector<Thread> threads;
  std::vector<WarpState> warps;
  const char* bar_file = "";
  int bar_line = 0;
  unsigned bar_gen = 0;
  int bar_count[2] = {0, 0};
  std::vector<unsigned char> smem;   // dynamic, then static variables
  size_t dyn_bytes = 0, static_used = 0;
  std::vector<std::pair<const void*, void*>> sites;
};

struct Grid {
  KernelCall call;
  dim3 grid, block;
  size_t smem = 0;
  bool cooperative = false;
  uint64_t nblocks = 0, next = 0;
  int max_resident = 0;
  std::vector<std::unique_ptr<Block>> resident;
  bool done() const { return next == nblocks && resident.empty(); }
};

class Scheduler {
 public:
  Scheduler();
  // Runs `g` until it finishes, or for a while when `others_waiting` (so other
  // streams' work and other grids get the device thread too). Returns done().
  bool run(Grid& g, bool others_waiting);
  Schedule schedule() const { return schedule_; }

  // For the device-side calls (device.h): the running thread.
  Thread& self() { return *static_cast<Thread*>(g_self); }
  void park();           // the running thread waits: back to the scheduler
  void spin();           // the running thread yields
  [[noreturn]] void thread_exit();
  Fiber& home() { return home_; }

 private:
  void admit(Grid& g);
  void resume(Thread& t);
  Thread* next_in_warp(Thread& t);
  bool pass(Grid& g);
  [[noreturn]] void deadlock(Grid& g);

  Schedule schedule_ = Schedule::RoundRobin;
  std::mt19937_64 rng_;
  Fiber home_;
  std::vector<FiberStack> free_stacks_;
  std::vector<std::vector<unsigned char>> free_smem_;
  size_t stack_bytes_;
  std::vector<Thread*> order_;
};

Scheduler& scheduler();  // the device thread's

// "kernel K, block (x,y,z), thread (x,y,z)"
std::string where(const Thread& t);
[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace simt
