// Engine pacing (Engine::set_pacing), the thermal policy's brake when the
// driver cannot cap power: decoded tokens are spaced by at least the pacing,
// a change mid-reply takes effect at the next token, a cancel cuts a long
// wait short, and the tokens themselves are the same as without pacing.
#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "keymate/engine.h"
#include "test.h"
#include "timer.h"

namespace {

std::unique_ptr<km::Engine> stories() {
  km::LoadOptions o;
  o.backend = "cpu";
  o.threads = 1;
  o.context = 64;
  return km::Engine::load(kt::model_path("stories260K.gguf"), o);
}

km::GenerateRequest greedy(int max_tokens) {
  km::GenerateRequest r;
  r.prompt = "Once upon a time";
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.f;
  return r;
}

}  // namespace

TEST(engine_pacing, tokens_are_spaced_by_the_pacing_and_unchanged) {
  auto e = stories();
  const km::GenerateResult plain = e->generate(greedy(6), nullptr);
  constexpr double kPacingMs = 30;
  e->set_pacing(kPacingMs);
  CHECK_EQ(e->pacing(), kPacingMs);
  std::vector<double> t;
  const km::GenerateResult paced = e->generate(greedy(6), [&](const km::TokenEvent& ev) { t.push_back(ev.t_ms); });
  CHECK(paced.tokens == plain.tokens);
  REQUIRE(t.size() == 6);
  for (size_t i = 1; i < t.size(); i++) CHECK(t[i] - t[i - 1] >= kPacingMs);
  CHECK(paced.decode_tok_s <= 1000.0 / kPacingMs + 1e-9);  // the reported speed includes the waits
}

TEST(engine_pacing, a_change_mid_reply_applies_from_the_next_token) {
  auto e = stories();
  std::vector<double> t;
  const km::GenerateResult r = e->generate(greedy(6), [&](const km::TokenEvent& ev) {
    t.push_back(ev.t_ms);
    if (ev.index == 2) e->set_pacing(40);
  });
  REQUIRE(t.size() == 6);
  for (size_t i = 3; i < t.size(); i++) CHECK(t[i] - t[i - 1] >= 40);
  CHECK_EQ(r.stop, std::string("length"));
  e->set_pacing(0);
  CHECK_EQ(e->pacing(), 0.0);
}

TEST(engine_pacing, cancel_cuts_a_long_wait_short) {
  auto e = stories();
  e->set_pacing(20000);
  std::atomic<bool> cancel{false};
  km::GenerateRequest req = greedy(6);
  req.cancel = &cancel;
  // Cancelled from another thread while the engine waits after the first token.
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.store(true);
  });
  const double t0 = km::now_ms();
  const km::GenerateResult r = e->generate(req, nullptr);
  const double took = km::now_ms() - t0;
  canceller.join();
  CHECK(took < 5000);
  CHECK_EQ(r.stop, std::string("cancelled"));
  CHECK_EQ(r.tokens.size(), size_t{1});
}

TEST(engine_pacing, values_outside_the_range_are_refused) {
  auto e = stories();
  CHECK_THROWS_WITH(e->set_pacing(-1), "pacing -1 ms: must be 0 (off) to 60000 ms per token");
  CHECK_THROWS_WITH(e->set_pacing(std::nan("")), "must be 0 (off)");
  CHECK_THROWS_WITH(e->set_pacing(1e9), "must be 0 (off)");
  CHECK_EQ(e->pacing(), 0.0);
}
