// A small test harness: TEST(group, name) registers a case; `keymate_tests
// <group>` runs one group (ctest runs each test file as one group, the file
// named after its group), `keymate_tests` runs all. CHECK* report file:line and
// carry on; REQUIRE* stop the case. A case may call skip("why") to report a
// skip (exit code 77 when everything run was skipped).
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace kt {

struct Case {
  const char* group;
  const char* name;
  std::function<void()> fn;
};
std::vector<Case>& registry();
struct Register {
  Register(const char* g, const char* n, std::function<void()> f) { registry().push_back({g, n, std::move(f)}); }
};
struct Stop {};    // thrown by REQUIRE failures
struct Skipped { std::string why; };

void report_failure(const char* file, int line, const std::string& what);
[[noreturn]] inline void skip(const std::string& why) { throw Skipped{why}; }

// Paths to the shared real models and to committed fixtures. models_dir():
// $KEYMATE_TEST_MODELS, else $KEYMATE_MODELS_DIR, else ../shared/models.
std::string models_dir();
// models_dir()/name. A missing model skips the case on a developer's machine
// but fails it under CI (CI=true or KEYMATE_REQUIRE_MODELS=1), where
// ../shared/models is always present: a skipped check must not pass CI.
std::string model_path(const std::string& name);
std::string fixtures_dir();
bool file_exists(const std::string& path);

template <typename A, typename B>
std::string describe(const char* ea, const char* eb, const A& a, const B& b) {
  std::ostringstream s;
  s << ea << " == " << eb << " (" << a << " vs " << b << ")";
  return s.str();
}

}  // namespace kt

#define KT_CAT2(a, b) a##b
#define KT_CAT(a, b) KT_CAT2(a, b)
#define TEST(group, name)                                                              \
  static void KT_CAT(kt_test_, __LINE__)();                                            \
  static kt::Register KT_CAT(kt_reg_, __LINE__)(#group, #name, KT_CAT(kt_test_, __LINE__)); \
  static void KT_CAT(kt_test_, __LINE__)()

#define CHECK(cond) \
  do { if (!(cond)) kt::report_failure(__FILE__, __LINE__, #cond); } while (0)
#define REQUIRE(cond) \
  do { if (!(cond)) { kt::report_failure(__FILE__, __LINE__, #cond); throw kt::Stop{}; } } while (0)
#define CHECK_EQ(a, b)                                                                   \
  do { auto&& kt_a = (a); auto&& kt_b = (b);                                              \
       if (!(kt_a == kt_b)) kt::report_failure(__FILE__, __LINE__, kt::describe(#a, #b, kt_a, kt_b)); } while (0)
#define CHECK_NEAR(a, b, tol)                                                            \
  do { double kt_a = (a), kt_b = (b);                                                      \
       if (!(std::fabs(kt_a - kt_b) <= (tol)))                                             \
         kt::report_failure(__FILE__, __LINE__, kt::describe(#a, #b, kt_a, kt_b) + " tol " + std::to_string(tol)); } while (0)
// Expects `expr` to throw km::Error whose message contains `needle`.
#define CHECK_THROWS_WITH(expr, needle)                                                   \
  do { bool kt_threw = false;                                                             \
       try { (void)(expr); } catch (const std::exception& kt_e) {                         \
         kt_threw = true;                                                                 \
         if (std::string(kt_e.what()).find(needle) == std::string::npos)                   \
           kt::report_failure(__FILE__, __LINE__, std::string("error '") + kt_e.what() + "' lacks '" + (needle) + "'"); } \
       if (!kt_threw) kt::report_failure(__FILE__, __LINE__, std::string(#expr) + " did not throw"); } while (0)
