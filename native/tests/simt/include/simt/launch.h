// Kernel launches for translated code: the translator turns
// `k<<<grid, block, smem, stream>>>(args)` into `::simt::launch<k>(LaunchCfg(...), args)`.
// The arguments are copied once at launch, as CUDA copies them into the
// kernel's parameter space, and every thread calls the kernel with them.
// Kernels launched through a pointer (cudaLaunchCooperativeKernel) need a
// KernelRegistration, which the translator writes after each __global__ body.
#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "simt/runtime_api.h"

namespace simt {

struct LaunchCfg {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  LaunchCfg(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = 0) : grid(g), block(b), smem(s), stream(st) {}
};

// A kernel and its copied arguments, ready for every thread to run.
struct KernelCall {
  const char* name = "";
  const void* fn = nullptr;
  void (*run)(const void* fn, void* args) = nullptr;
  std::shared_ptr<void> args;
};

cudaError_t launch_kernel(const KernelCall& call, const LaunchCfg& cfg, bool cooperative);

template <class... Ps>
struct Invoker {
  using Tuple = std::tuple<typename std::decay<Ps>::type...>;
  static void run(const void* fn, void* args) {
    std::apply(reinterpret_cast<void (*)(Ps...)>(const_cast<void*>(fn)), *static_cast<Tuple*>(args));
  }
  template <size_t... I>
  static std::shared_ptr<void> unpack(void** a, std::index_sequence<I...>) {
    return std::make_shared<Tuple>(*static_cast<typename std::decay<Ps>::type*>(a[I])...);
  }
  static std::shared_ptr<void> from_pointers(void** a) { return unpack(a, std::index_sequence_for<Ps...>{}); }
};

// "km::cuda::rmsnorm_kernel" from the compiler's name of this instantiation.
template <auto K>
const char* kernel_name() {
  static const std::string name = [](std::string s) {
    const size_t a = s.find("K = ");
    if (a == std::string::npos) return s;
    s = s.substr(a + 4);
    const size_t b = s.find_first_of(";]");
    return b == std::string::npos ? s : s.substr(0, b);
  }(__PRETTY_FUNCTION__);
  return name.c_str();
}

template <class... Ps, class... As>
cudaError_t launch_fn(void (*k)(Ps...), const char* name, const LaunchCfg& cfg, As&&... as) {
  static_assert(sizeof...(Ps) == sizeof...(As), "a kernel launch with the wrong number of arguments");
  KernelCall c;
  c.name = name;
  c.fn = reinterpret_cast<const void*>(k);
  c.run = &Invoker<Ps...>::run;
  c.args = std::make_shared<typename Invoker<Ps...>::Tuple>(std::forward<As>(as)...);
  return launch_kernel(c, cfg, false);
}

template <auto K, class... As>
cudaError_t launch(const LaunchCfg& cfg, As&&... as) {
  return launch_fn(K, kernel_name<K>(), cfg, std::forward<As>(as)...);
}

void register_kernel(const void* fn, const char* name, void (*run)(const void*, void*),
                     std::shared_ptr<void> (*from_pointers)(void**));

struct KernelRegistration {
  template <class... Ps>
  KernelRegistration(void (*k)(Ps...), const char* name) {
    register_kernel(reinterpret_cast<const void*>(k), name, &Invoker<Ps...>::run, &Invoker<Ps...>::from_pointers);
  }
};

// Static __shared__ variables: the translator turns `__shared__ T x;` into a
// function-local SmemSite whose address keys the variable in the running
// block's own storage, so every block has its copy (NaN-filled at launch).
struct SmemSite {
  char unused;
  void* get_raw(size_t bytes, size_t align);
  template <class T>
  T& get() {
    return *static_cast<T*>(get_raw(sizeof(T), alignof(T) < 16 ? 16 : alignof(T)));
  }
};

// The running block's dynamic shared memory (extern __shared__).
void* dynamic_smem_raw();
template <class T>
T* dynamic_smem() {
  return static_cast<T*>(dynamic_smem_raw());
}

}  // namespace simt
