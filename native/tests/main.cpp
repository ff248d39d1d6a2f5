#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "keymate/error.h"
#include "test.h"

namespace kt {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

static int g_failures = 0;
void report_failure(const char* file, int line, const std::string& what) {
  g_failures++;
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
}

std::string models_dir() {
  // KEYMATE_TEST_MODELS first: on a GPU machine ../shared does not travel, and
  // scripts/gpu-check.sh points it at the carried copy.
  for (const char* var : {"KEYMATE_TEST_MODELS", "KEYMATE_MODELS_DIR"}) {
    const char* env = std::getenv(var);
    if (env && *env) return env;
  }
  return KEYMATE_MODELS_DIR;
}
std::string model_path(const std::string& name) {
  const std::string path = models_dir() + "/" + name;
  if (file_exists(path)) return path;
  const std::string why = path + " is missing (../shared/models, or set KEYMATE_TEST_MODELS / KEYMATE_MODELS_DIR)";
  const char* ci = std::getenv("CI");
  const char* req = std::getenv("KEYMATE_REQUIRE_MODELS");
  if ((ci && std::string(ci) == "true") || (req && std::string(req) == "1")) {
    report_failure(__FILE__, __LINE__, why);
    throw Stop{};
  }
  skip(why);
}

std::string fixtures_dir() { return KEYMATE_FIXTURES_DIR; }
bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace kt

// KEYMATE_TEST_KNOWN_FAILING: "group.name,group.name": tests that fail for a
// reason written down elsewhere (native/tests/simt/FINDINGS.md). Such a test
// still runs; its failure is printed as XFAIL and not counted, and its PASS
// counts as a failure (XPASS), so the list cannot outlive the defect.
bool known_failing(const std::string& test) {
  const char* v = std::getenv("KEYMATE_TEST_KNOWN_FAILING");
  if (!v) return false;
  const std::string list = std::string(",") + v + ",";
  return list.find("," + test + ",") != std::string::npos;
}

int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  int run = 0, failed = 0, skipped = 0, xfailed = 0;
  for (auto& c : kt::registry()) {
    // A group ("gpu_exec") or one test of it ("gpu_exec.graph_path_profiles").
    if (only && std::strcmp(only, c.group) != 0 && std::string(c.group) + "." + c.name != only) continue;
    int before = kt::g_failures;
    run++;
    try {
      c.fn();
    } catch (const kt::Stop&) {
    } catch (const kt::Skipped& s) {
      skipped++;
      std::fprintf(stderr, "SKIP %s.%s: %s\n", c.group, c.name, s.why.c_str());
      continue;
    } catch (const std::exception& e) {
      kt::report_failure(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    }
    bool ok = kt::g_failures == before;
    if (known_failing(std::string(c.group) + "." + c.name)) {
      std::fprintf(stderr, "%s %s.%s (listed in KEYMATE_TEST_KNOWN_FAILING)\n", ok ? "XPASS" : "XFAIL", c.group, c.name);
      if (ok) failed++;
      else xfailed++;
      continue;
    }
    if (!ok) failed++;
    std::fprintf(stderr, "%s %s.%s\n", ok ? "ok  " : "FAIL", c.group, c.name);
  }
  if (run == 0) {
    std::fprintf(stderr, "no test matches '%s'\n", only ? only : "");
    return 1;
  }
  if (xfailed) std::fprintf(stderr, "%d known failures (KEYMATE_TEST_KNOWN_FAILING)\n", xfailed);
  std::printf("%d passed, %d failed, %d skipped\n", run - failed - skipped - xfailed, failed, skipped);
  if (failed) return 1;
  return skipped == run ? 77 : 0;
}
