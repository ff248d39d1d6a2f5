// How a step's program is run: the launch path (a kernel per instruction,
// exec/launch.cu), the graph path (exec/graph.cu) and the zero-launch path
// (exec/zero_launch.cu) implement the same interface, chosen once at load
// by BackendOptions::path. The backend writes nothing else per step: an
// executor gets the step's StepState (host copy), delivers it to the device
// its own way, runs every instruction in order, and returns when the step has
// finished on the device, so its outputs (logits, the sampled token) may be
// read by any stream.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <vector>

#include "exec/program.cuh"
#include "keymate/backend.h"

namespace km::cuda {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs the program for the step `st` (host copy). With `times` non-null
  // (profile mode), the device time of each Stage is added to it in ms.
  // Throws km::Error on a CUDA error.
  virtual void run(const StepState& st, StageTimes* times) = 0;
  virtual const char* name() const = 0;  // "launch", "graph", "zero-launch"
  // The token the program's SampleFinal picked in the last run(), when the
  // executor already holds it on the host (zero-launch: it comes back in the
  // doorbell's answer, so no copy is needed); -1 = read it from the device.
  virtual int32_t sampled_token() const { return -1; }
};

// Adds ms to the StageTimes field of a Stage (Sampling is charged to `other`).
inline void add_stage_ms(StageTimes& t, Stage s, double ms) {
  switch (s) {
    case Stage::Embed: t.embed += ms; return;
    case Stage::Qkv: t.qkv += ms; return;
    case Stage::Attention: t.attention += ms; return;
    case Stage::Ffn: t.ffn += ms; return;
    case Stage::Logits: t.logits += ms; return;
    case Stage::Sampling: t.other += ms; return;
  }
}

// `prog` is copied; `st_dev` is the device StepState every instruction reads
// (the executor copies each step's state into it on `stream`).
std::unique_ptr<Executor> make_launch_executor(const std::vector<Instr>& prog, StepState* st_dev,
                                               cudaStream_t stream);
// The graph path: the launch path captured once into a CUDA graph (per
// distinct launch shape), replayed per step. Same contract as launch.
std::unique_ptr<Executor> make_graph_executor(const std::vector<Instr>& prog, StepState* st_dev,
                                              cudaStream_t stream);
// The zero-launch path: a persistent kernel armed here waits on a doorbell;
// it reads the step from its own mapped StepState, so takes no st_dev.
std::unique_ptr<Executor> make_zero_launch_executor(const std::vector<Instr>& prog, cudaStream_t stream);

}  // namespace km::cuda
