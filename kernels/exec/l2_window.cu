// L2 persistence window (exec/l2_window.cuh): choosing the range, and
// applying it to a stream or to a graph's kernel nodes.
#include "exec/l2_window.cuh"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/check.cuh"

namespace km::cuda {

namespace {

bool env_on() {
  const char* v = std::getenv("KEYMATE_L2_WINDOW");
  if (!v || !*v || !std::strcmp(v, "off") || !std::strcmp(v, "0")) return false;
  if (!std::strcmp(v, "on") || !std::strcmp(v, "1")) return true;
  fail("KEYMATE_L2_WINDOW=%s: use on or off", v);
}

cudaAccessPolicyWindow policy(const L2Window& w) {
  cudaAccessPolicyWindow p{};
  p.base_ptr = w.base;
  p.num_bytes = w.bytes;
  p.hitRatio = w.hit_ratio;
  p.hitProp = cudaAccessPropertyPersisting;
  p.missProp = cudaAccessPropertyStreaming;
  return p;
}

}  // namespace

L2Window l2_window_for(const std::vector<Instr>& prog) {
  L2Window w;
  if (!env_on()) return w;
  int dev = 0, max_persist = 0, max_window = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&max_persist, cudaDevAttrMaxPersistingL2CacheSize, dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&max_window, cudaDevAttrMaxAccessPolicyWindowSize, dev));
  if (max_persist <= 0 || max_window <= 0) return w;  // pre-Ampere: no persisting L2
  const MatmulArgs* best = nullptr;
  for (const Instr& in : prog) {
    if (in.op != Op::Matmul) continue;
    const MatmulArgs& m = in.a.matmul;
    if (!best || m.row_bytes * static_cast<uint64_t>(m.rows) > best->row_bytes * static_cast<uint64_t>(best->rows))
      best = &m;
  }
  if (!best) return w;
  w.base = const_cast<void*>(best->w);
  w.bytes = std::min<uint64_t>(best->row_bytes * static_cast<uint64_t>(best->rows), static_cast<uint64_t>(max_window));
  w.persist = static_cast<uint64_t>(max_persist);
  w.hit_ratio = static_cast<float>(std::min(1.0, static_cast<double>(w.persist) / static_cast<double>(w.bytes)));
  w.on = w.bytes > 0;
  return w;
}

void apply_l2_window(cudaStream_t stream, const L2Window& w) {
  if (!w.on) return;
  CUDA_CHECK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, w.persist));
  cudaStreamAttrValue v{};
  v.accessPolicyWindow = policy(w);
  CUDA_CHECK(cudaStreamSetAttribute(stream, cudaStreamAttributeAccessPolicyWindow, &v));
}

void apply_l2_window(cudaGraph_t graph, const L2Window& w) {
  if (!w.on) return;
  size_t n = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &n));
  std::vector<cudaGraphNode_t> nodes(n);
  if (n) CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &n));
  cudaKernelNodeAttrValue v{};
  v.accessPolicyWindow = policy(w);
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType t;
    CUDA_CHECK(cudaGraphNodeGetType(node, &t));
    if (t == cudaGraphNodeTypeKernel)
      CUDA_CHECK(cudaGraphKernelNodeSetAttribute(node, cudaKernelNodeAttributeAccessPolicyWindow, &v));
  }
}

void release_l2_window(const L2Window& w) {
  if (!w.on) return;
  cudaCtxResetPersistingL2Cache();  // no check: called from destructors
  cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, 0);
}

}  // namespace km::cuda
