// Stand-ins for the executors of paths a checkout may not have
// (exec/graph.cu, exec/zero_launch.cu). CMake defines
// KEYMATE_HAVE_GRAPH_EXEC / KEYMATE_HAVE_ZERO_LAUNCH_EXEC when those files
// exist, so exactly one definition is ever linked (weak symbols in a static
// library can shadow the real one, depending on link order).
#include "exec/executor.h"

namespace km::cuda {

#ifndef KEYMATE_HAVE_GRAPH_EXEC
std::unique_ptr<Executor> make_graph_executor(const std::vector<Instr>&, StepState*, cudaStream_t) {
  fail("path graph: not built (this build has no kernels/exec/graph.cu): use --path launch");
}
#endif

#ifndef KEYMATE_HAVE_ZERO_LAUNCH_EXEC
std::unique_ptr<Executor> make_zero_launch_executor(const std::vector<Instr>&, cudaStream_t) {
  fail("path zero-launch: not built (this build has no kernels/exec/zero_launch.cu): use --path launch");
}
#endif

}  // namespace km::cuda
