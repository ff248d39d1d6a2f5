// A program: the instructions of one whole forward step (embed, per layer
// rmsnorm / qkv matmul / rope_kv / attention / wo matmul+residual / rmsnorm /
// gate_up matmul+SiLU*mul / down matmul+residual, final norm, logits,
// sampling), built once at load by the backend and run by an executor
// (executor.h) on any of the three paths. Every instruction is an op of the
// tile convention (common/op.cuh): its arguments are fixed, what changes per
// step is read from the StepState, and each op decides on the device
// (decode or prefill variant, or 0 tiles) from StepState::n.
//
// Two levels of dispatch (STYLE.md): here the op switch; inside an op, the
// choice by format / architecture / batch size (e.g. kernels/matmul's chooser).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/op.cuh"
#include "matmul/matmul.cuh"
#include "matmul/quantize_act.cuh"
#include "ops/attention.cuh"
#include "ops/embed.cuh"
#include "ops/rmsnorm.cuh"
#include "ops/rope_kv.cuh"
#include "ops/sample.cuh"

namespace km::cuda {

enum class Op : uint8_t {
  Embed,          // EmbedArgs
  RmsNorm,        // RmsNormArgs
  QuantizeAct,    // QuantizeActArgs (before a W8A8 matmul)
  Matmul,         // MatmulArgs (every matrix product, logits included)
  RopeKv,         // RopeKvArgs
  AttnPartial,    // AttentionArgs (decode)
  AttnCombine,    // AttentionArgs (decode)
  AttnPrefill,    // AttentionArgs (prefill)
  SamplePartial,  // SampleArgs
  SampleFinal,    // SampleArgs
};

// What an instruction's time is charged to (StageTimes: Sampling -> other).
enum class Stage : uint8_t { Embed, Qkv, Attention, Ffn, Logits, Sampling };
constexpr int kStages = 6;

struct Instr {
  Op op;
  Stage stage;
  int32_t max_tiles;  // tiles at the largest step: the launch grid, the persistent loop's bound
  int32_t smem;       // dynamic shared memory of one tile, <= kTileSmem
  union Args {
    EmbedArgs embed;
    RmsNormArgs rmsnorm;
    QuantizeActArgs quantize_act;
    MatmulArgs matmul;
    RopeKvArgs rope_kv;
    AttentionArgs attn;
    SampleArgs sample;
    __host__ __device__ Args() {}
  } a;
};

// Tiles the instruction needs for this step (0: nothing to do this step).
__host__ __device__ inline int instr_tiles(const Instr& in, const StepState& st) {
  switch (in.op) {
    case Op::Embed: return embed_tiles(in.a.embed, st);
    case Op::RmsNorm: return rmsnorm_tiles(in.a.rmsnorm, st);
    case Op::QuantizeAct: return quantize_act_tiles(in.a.quantize_act, st);
    case Op::Matmul: return matmul_tiles(in.a.matmul, st);
    case Op::RopeKv: return rope_kv_tiles(in.a.rope_kv, st);
    case Op::AttnPartial: return attn_partial_tiles(in.a.attn, st);
    case Op::AttnCombine: return attn_combine_tiles(in.a.attn, st);
    case Op::AttnPrefill: return attn_prefill_tiles(in.a.attn, st);
    case Op::SamplePartial: return sample_partial_tiles(in.a.sample, st);
    case Op::SampleFinal: return sample_final_tiles(in.a.sample, st);
  }
  return 0;
}

// One tile of an instruction, by the kThreads threads of the calling block
// (the persistent kernel's loop body). `smem` holds at least in.smem bytes.
__device__ inline void run_tile(const Instr& in, const StepState& st, int tile, char* smem) {
  switch (in.op) {
    case Op::Embed: embed_tile(in.a.embed, st, tile, smem); return;
    case Op::RmsNorm: rmsnorm_tile(in.a.rmsnorm, st, tile, smem); return;
    case Op::QuantizeAct: quantize_act_tile(in.a.quantize_act, st, tile, smem); return;
    case Op::Matmul: matmul_tile(in.a.matmul, st, tile, smem); return;
    case Op::RopeKv: rope_kv_tile(in.a.rope_kv, st, tile, smem); return;
    case Op::AttnPartial: attn_partial_tile(in.a.attn, st, tile, smem); return;
    case Op::AttnCombine: attn_combine_tile(in.a.attn, st, tile, smem); return;
    case Op::AttnPrefill: attn_prefill_tile(in.a.attn, st, tile, smem); return;
    case Op::SamplePartial: sample_partial_tile(in.a.sample, st, tile, smem); return;
    case Op::SampleFinal: sample_final_tile(in.a.sample, st, tile, smem); return;
  }
}

// The launch path: the op's own kernel, <<<max_tiles, kThreads, smem>>>.
// Defined in exec/launch.cu.
void launch_instr(const Instr& in, const StepState* st_dev, cudaStream_t stream);

}  // namespace km::cuda
