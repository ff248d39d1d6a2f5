// Fibers: one per CUDA thread, switched by hand-written assembly on x86-64
// (a dozen instructions: glibc's swapcontext makes a sigprocmask system call
// per switch, which would make a forward pass take seconds), with a ucontext
// fallback elsewhere, and AddressSanitizer told about every stack switch.
#pragma once

#include <cstddef>

namespace simt {

struct FiberStack {
  char* base = nullptr;  // lowest usable address (a guard page lies below it)
  size_t size = 0;
};

FiberStack stack_alloc(size_t bytes);
void stack_free(FiberStack s);

struct Fiber {
  void* sp = nullptr;          // saved stack pointer (x86-64) or ucontext (fallback)
  FiberStack stack;            // empty for the scheduler's own (OS thread) stack
  void* asan_fake = nullptr;   // ASan's fake-stack handle while switched out
  const void* asan_bottom = nullptr;
  size_t asan_size = 0;
};

// Prepares `f` (with its stack) to run entry(arg) when first switched to.
// entry must never return: it switches away for the last time instead.
void fiber_init(Fiber& f, void (*entry)(void*), void* arg);
// Saves the running context into `from` and runs `to`. `to_exits`: `from`
// will never be resumed (lets ASan forget its stack).
void fiber_switch(Fiber& from, Fiber& to, bool from_exits = false);
// First thing a fiber's entry calls (ASan bookkeeping of the first switch).
void fiber_started(Fiber& self, Fiber& from);

}  // namespace simt
