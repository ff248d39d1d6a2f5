// See fiber.h. The x86-64 switch saves the callee-saved registers on the old
// stack, swaps stack pointers and pops the new ones: everything else is
// caller-saved across the call, so the compiler has already saved it.
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIMT_ASAN 1
#endif
#endif
#ifdef SIMT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace simt {

FiberStack stack_alloc(size_t bytes) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  bytes = (bytes + page - 1) / page * page;
  void* p = mmap(nullptr, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "simt: cannot map a %zu-byte fiber stack (lower the stand-in device's SM count: "
                         "KEYMATE_SIMT_SMS)\n", bytes);
    std::_Exit(3);
  }
  mprotect(p, page, PROT_NONE);  // a stack overflow faults instead of corrupting a neighbour
  return FiberStack{static_cast<char*>(p) + page, bytes};
}

void stack_free(FiberStack s) {
  if (!s.base) return;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  munmap(s.base - page, s.size + page);
}

#if defined(__x86_64__)

extern "C" void simt_switch_stacks(void** save_sp, void* load_sp);
extern "C" void simt_fiber_trampoline();

asm(R"(
.text
.globl simt_switch_stacks
.type simt_switch_stacks,@function
simt_switch_stacks:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size simt_switch_stacks,.-simt_switch_stacks

.globl simt_fiber_trampoline
.type simt_fiber_trampoline,@function
simt_fiber_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
.size simt_fiber_trampoline,.-simt_fiber_trampoline
.section .note.GNU-stack,"",@progbits
.text
)");

void fiber_init(Fiber& f, void (*entry)(void*), void* arg) {
  // Initial frame, popped by simt_switch_stacks: r15 r14 r13=entry r12=arg
  // rbx rbp, then the "return address" (the trampoline). After the ret, rsp
  // is 16-byte aligned, so the trampoline's call meets the ABI.
  uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack.base) + f.stack.size) & ~(uintptr_t)15;
  void** sp = reinterpret_cast<void**>(top - 72);
  sp[0] = nullptr;
  sp[1] = nullptr;
  sp[2] = reinterpret_cast<void*>(entry);
  sp[3] = arg;
  sp[4] = nullptr;
  sp[5] = nullptr;
  sp[6] = reinterpret_cast<void*>(&simt_fiber_trampoline);
  f.sp = sp;
}

static inline void raw_switch(Fiber& from, Fiber& to) { simt_switch_stacks(&from.sp, to.sp); }

#else  // portable fallback

namespace {
struct UcFiber {
  ucontext_t uc;
};
}  // namespace

void fiber_init(Fiber& f, void (*entry)(void*), void* arg) {
  auto* u = new UcFiber;
  getcontext(&u->uc);
  u->uc.uc_stack.ss_sp = f.stack.base;
  u->uc.uc_stack.ss_size = f.stack.size;
  u->uc.uc_link = nullptr;
  // makecontext passes ints: split the pointers.
  makecontext(&u->uc, reinterpret_cast<void (*)()>(+[](unsigned eh, unsigned el, unsigned ah, unsigned al) {
                auto e = reinterpret_cast<void (*)(void*)>((uintptr_t)eh << 32 | el);
                e(reinterpret_cast<void*>((uintptr_t)ah << 32 | al));
              }),
              4, (unsigned)((uintptr_t)entry >> 32), (unsigned)(uintptr_t)entry, (unsigned)((uintptr_t)arg >> 32),
              (unsigned)(uintptr_t)arg);
  f.sp = u;
}

static inline void raw_switch(Fiber& from, Fiber& to) {
  if (!from.sp) from.sp = new UcFiber;
  swapcontext(&static_cast<UcFiber*>(from.sp)->uc, &static_cast<UcFiber*>(to.sp)->uc);
}

#endif

void fiber_switch(Fiber& from, Fiber& to, bool from_exits) {
#ifdef SIMT_ASAN
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from.asan_fake,
                                 to.stack.base ? to.stack.base : to.asan_bottom,
                                 to.stack.base ? to.stack.size : to.asan_size);
  raw_switch(from, to);
  __sanitizer_finish_switch_fiber(from.asan_fake, &to.asan_bottom, &to.asan_size);
#else
  (void)from_exits;
  raw_switch(from, to);
#endif
}

void fiber_started(Fiber& self, Fiber& from) {
#ifdef SIMT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &from.asan_bottom, &from.asan_size);
#endif
  (void)self;
  (void)from;
}

}  // namespace simt
