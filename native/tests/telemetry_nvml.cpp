// km::Nvml against the test NVML (support/test_nvml.c), a real shared library
// loaded through the same dlopen path as libnvidia-ml.so.1: opening and why
// it fails, samples that follow a scripted trace row by row, sensor dropouts,
// the optional entry points it leaves out on purpose, and the setters (the
// only place a set function is ever called: never against a real card).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "keymate/nvml.h"
#include "test.h"

namespace {

const std::string kLib = KEYMATE_TEST_NVML_LIB;

// Sets an environment variable for one scope, restoring what was there.
class Env {
 public:
  Env(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~Env() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// A file in the temp folder, removed at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/km_test_nvml_XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path_ = tmpl;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string read() const {
    std::ifstream f(path_);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
};

std::unique_ptr<km::Nvml> open_test(km::NvmlOpenResult* r) {
  std::unique_ptr<km::Nvml> n = km::Nvml::open(kLib, r);
  if (!n) kt::report_failure(__FILE__, __LINE__, "the test NVML did not open: " + r->reason);
  return n;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

// Four samples' worth: warm-up, a busy row over the 80 W default limit with a
// game (graphics) and a compute job, a dropout row, then a hot row.
const char* kTrace =
    "# made by hand for telemetry_nvml.cpp\n"
    "t_ms,temp_c,power_w,fan_pct,util_pct,procs\n"
    "0,40,20,30,0,\n"
    "100,55,100,45,90,4242:1500;g777:300\n"
    "200,,60,,50,\n"
    "300,90,70,80,100\n";

}  // namespace

TEST(telemetry_nvml, a_missing_library_is_not_available_with_the_reason) {
  km::NvmlOpenResult r;
  auto n = km::Nvml::open("/nonexistent/libnvidia-ml.so.1", &r);
  CHECK(n == nullptr);
  CHECK(!r.available);
  CHECK_EQ(r.gpus, 0);
  CHECK(r.reason.find("/nonexistent/libnvidia-ml.so.1 cannot be loaded") != std::string::npos);
}

TEST(telemetry_nvml, a_library_that_is_not_nvml_is_refused_by_name) {
  km::NvmlOpenResult r;
  auto n = km::Nvml::open("libm.so.6", &r);
  CHECK(n == nullptr);
  CHECK(r.reason.find("not a usable NVML library (it lacks nvmlInit_v2") != std::string::npos);
}

TEST(telemetry_nvml, the_env_variable_names_the_library) {
  Env lib("KEYMATE_NVML_LIB", kLib);
  km::NvmlOpenResult r;
  auto n = km::Nvml::open("", &r);
  REQUIRE(n != nullptr);
  CHECK(r.available);
  CHECK(r.reason.empty());
  CHECK_EQ(r.gpus, 1);
  CHECK_EQ(r.driver, std::string("0.0.0-keymate-test"));
  CHECK(r.library.find("libkm_test_nvml.so") != std::string::npos);
}

TEST(telemetry_nvml, an_init_failure_says_why) {
  Env fail("KM_TEST_NVML_INIT_FAIL", "9");
  km::NvmlOpenResult r;
  CHECK(km::Nvml::open(kLib, &r) == nullptr);
  CHECK(r.reason.find("nvmlInit_v2 failed: Driver Not Loaded (the NVIDIA kernel module is not loaded)") !=
        std::string::npos);
}

TEST(telemetry_nvml, an_unreadable_trace_fails_init_naming_the_file) {
  Env trace("KM_TEST_NVML_TRACE", "/nonexistent/trace.csv");
  km::NvmlOpenResult r;
  CHECK(km::Nvml::open(kLib, &r) == nullptr);
  CHECK(r.reason.find("/nonexistent/trace.csv") != std::string::npos);
}

TEST(telemetry_nvml, missing_optional_entry_points_are_listed_and_tolerated) {
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  // Left out of the test library on purpose; the fallbacks stand in.
  CHECK(has(r.missing, "nvmlDeviceGetFanSpeed_v2"));
  // The older name of the same call, and _v3 of the process queries, are found.
  CHECK(!has(r.missing, "nvmlDeviceGetCurrentClocksEventReasons"));
  CHECK(!has(r.missing, "nvmlDeviceGetComputeRunningProcesses_v3"));
  CHECK(!has(r.missing, "nvmlDeviceSetFanSpeed_v2"));
  km::GpuSample s = n->sample(0);
  CHECK_EQ(s.fans_pct.size(), size_t{1});  // one fan readable without _v2, of the 2 it has
  CHECK(s.caps.set_fans);
}

TEST(telemetry_nvml, samples_follow_the_trace_row_by_row) {
  TempFile trace(kTrace);
  Env t("KM_TEST_NVML_TRACE", trace.path());
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);

  km::GpuSample s = n->sample(0);  // row 0
  CHECK_EQ(s.index, 0);
  CHECK_EQ(s.name, std::string("Keymate Test GPU 0"));
  CHECK(s.uuid.rfind("GPU-", 0) == 0);
  REQUIRE(s.temp_c && s.power_w && s.power_avg_w && s.energy_mj);
  CHECK_NEAR(*s.temp_c, 40, 0);
  CHECK_NEAR(*s.power_w, 20, 1e-9);
  CHECK_NEAR(*s.energy_mj, 0, 0);
  CHECK_NEAR(*s.temp_slowdown_c, 102, 0);
  CHECK_NEAR(*s.temp_shutdown_c, 105, 0);
  CHECK_NEAR(*s.temp_max_gpu_c, 87, 0);
  CHECK_NEAR(*s.power_limit_w, 80, 1e-9);
  CHECK_NEAR(*s.power_limit_default_w, 80, 1e-9);
  CHECK_NEAR(*s.power_limit_min_w, 40, 1e-9);
  CHECK_NEAR(*s.power_limit_max_w, 115, 1e-9);
  CHECK_NEAR(*s.power_limit_enforced_w, 80, 1e-9);
  REQUIRE(s.fans_pct.size() == 1);
  CHECK_NEAR(s.fans_pct[0], 30, 0);
  CHECK_NEAR(*s.util_gpu_pct, 0, 0);
  CHECK_NEAR(*s.sm_clock_mhz, 210, 0);
  CHECK_NEAR(*s.mem_total_mb, 8192, 1e-9);
  CHECK_NEAR(*s.mem_used_mb, 512, 1e-9);
  CHECK(s.throttle == std::vector<std::string>{"idle"});
  CHECK(s.processes.empty());
  CHECK(s.caps.read_power && s.caps.set_power_limit && s.caps.set_fans);

  s = n->sample(0);  // row 1: 100 W asked, held to the 80 W limit
  REQUIRE(s.temp_c && s.power_w && s.power_avg_w && s.energy_mj);
  CHECK_NEAR(*s.temp_c, 55, 0);
  CHECK_NEAR(*s.power_w, 80, 1e-9);
  CHECK_NEAR(*s.power_avg_w, 50, 1e-9);  // mean of the rows so far: (20 + 80) / 2
  CHECK_NEAR(*s.energy_mj, 20.0 * 100, 0.5);  // 20 W for 100 ms
  CHECK_NEAR(*s.util_gpu_pct, 90, 0);
  CHECK_NEAR(*s.util_mem_pct, 45, 0);
  CHECK_NEAR(*s.sm_clock_mhz, 210 + 90 * 18, 0);
  CHECK_NEAR(*s.mem_clock_mhz, 8001, 0);
  CHECK(s.throttle == std::vector<std::string>{"power-cap"});
  REQUIRE(s.processes.size() == 2);
  CHECK_EQ(s.processes[0].pid, 4242u);
  CHECK_EQ(s.processes[0].kind, std::string("compute"));
  REQUIRE(s.processes[0].used_mb.has_value());
  CHECK_NEAR(*s.processes[0].used_mb, 1500, 1e-9);
  CHECK_EQ(s.processes[1].pid, 777u);
  CHECK_EQ(s.processes[1].kind, std::string("graphics"));
  CHECK_NEAR(*s.mem_used_mb, 512 + 1500 + 300, 1e-9);

  s = n->sample(0);  // row 2: temperature and fan dropped out, the rest goes on
  CHECK(!s.temp_c.has_value());
  CHECK(s.fans_pct.empty());
  REQUIRE(s.power_w && s.energy_mj);
  CHECK_NEAR(*s.power_w, 60, 1e-9);
  CHECK_NEAR(*s.energy_mj, 2000 + 80.0 * 100, 0.5);

  s = n->sample(0);  // row 3: hot
  REQUIRE(s.temp_c);
  CHECK_NEAR(*s.temp_c, 90, 0);
  CHECK(s.throttle == std::vector<std::string>{"sw-thermal"});
  s = n->sample(0);  // past the end: the last row holds
  CHECK_NEAR(*s.temp_c, 90, 0);
  CHECK_NEAR(*s.energy_mj, 2000 + 8000 + 6000, 0.5);
}

TEST(telemetry_nvml, reopening_starts_the_trace_again) {
  TempFile trace(kTrace);
  Env t("KM_TEST_NVML_TRACE", trace.path());
  km::NvmlOpenResult r;
  {
    auto n = open_test(&r);
    REQUIRE(n);
    n->sample(0);
    n->sample(0);
  }
  auto n = open_test(&r);
  REQUIRE(n);
  km::GpuSample s = n->sample(0);
  REQUIRE(s.temp_c);
  CHECK_NEAR(*s.temp_c, 40, 0);
}

TEST(telemetry_nvml, a_bad_gpu_index_is_an_error_naming_the_range) {
  Env gpus("KM_TEST_NVML_GPUS", "2");
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  CHECK_EQ(n->gpus(), 2);
  CHECK_EQ(n->sample(1).name, std::string("Keymate Test GPU 1"));
  CHECK_THROWS_WITH(n->sample(2), "GPU 2 does not exist (this machine has 2: 0 to 1)");
  CHECK_THROWS_WITH(n->sample(-1), "GPU -1 does not exist");
}

TEST(telemetry_nvml, a_gpu_without_fans_has_none_and_cannot_set_them) {
  Env fans("KM_TEST_NVML_FANS", "0");
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  km::GpuSample s = n->sample(0);
  CHECK(s.fans_pct.empty());
  CHECK(!s.caps.set_fans);
  CHECK_THROWS_WITH(n->set_fan_speed(0, 0, 50), "fan 0 does not exist (this GPU has 0)");
}

TEST(telemetry_nvml, the_power_limit_is_set_logged_and_obeyed) {
  TempFile trace(kTrace);
  TempFile log("");
  Env t("KM_TEST_NVML_TRACE", trace.path());
  Env l("KM_TEST_NVML_LOG", log.path());
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  n->set_power_limit(0, 60);
  n->sample(0);
  km::GpuSample s = n->sample(0);  // row 1 asks 100 W
  REQUIRE(s.power_w && s.power_limit_w);
  CHECK_NEAR(*s.power_limit_w, 60, 1e-9);
  CHECK_NEAR(*s.power_w, 60, 1e-9);
  CHECK_NEAR(*s.power_limit_default_w, 80, 1e-9);
  n->set_power_limit(0, 80);  // the default back
  CHECK_EQ(log.read(), std::string("power_limit 0 60000\npower_limit 0 80000\n"));
  // Out of range is refused before the driver is asked, giving the range.
  CHECK_THROWS_WITH(n->set_power_limit(0, 30), "outside this GPU's range [40, 115] W");
  CHECK_THROWS_WITH(n->set_power_limit(0, -5), "must be a positive number of watts");
  CHECK_EQ(log.read(), std::string("power_limit 0 60000\npower_limit 0 80000\n"));
}

TEST(telemetry_nvml, fans_are_set_read_back_and_restored) {
  TempFile trace(kTrace);
  TempFile log("");
  Env t("KM_TEST_NVML_TRACE", trace.path());
  Env l("KM_TEST_NVML_LOG", log.path());
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  n->set_fan_speed(0, 0, 35);
  n->set_fan_speed(0, 1, 0);
  km::GpuSample s = n->sample(0);
  REQUIRE(s.fans_pct.size() == 1);
  CHECK_NEAR(s.fans_pct[0], 35, 0);
  n->restore_fan(0, 0);
  n->restore_fan(0, 1);
  s = n->sample(0);
  CHECK_NEAR(s.fans_pct[0], 45, 0);  // the trace's again (row 1)
  CHECK_EQ(log.read(), std::string("fan 0 0 35\nfan 0 1 0\nfan_auto 0 0\nfan_auto 0 1\n"));
  CHECK_THROWS_WITH(n->set_fan_speed(0, 2, 50), "fan 2 does not exist (this GPU has 2)");
  CHECK_THROWS_WITH(n->set_fan_speed(0, 0, 101), "0 to 100 percent");
}

TEST(telemetry_nvml, without_permission_every_set_fails_clearly) {
  TempFile log("");
  Env l("KM_TEST_NVML_LOG", log.path());
  Env deny("KM_TEST_NVML_DENY", "1");
  km::NvmlOpenResult r;
  auto n = open_test(&r);
  REQUIRE(n);
  CHECK_THROWS_WITH(n->set_power_limit(0, 60),
                    "nvml: GPU 0: setting the power limit to 60 W: no permission (run as root");
  CHECK_THROWS_WITH(n->set_fan_speed(0, 0, 35), "setting fan 0 to 35%: no permission");
  CHECK_THROWS_WITH(n->restore_fan(0, 0), "giving fan 0 back to the driver: no permission");
  CHECK_EQ(log.read(), std::string("power_limit 0 60000 denied\nfan 0 0 35 denied\nfan_auto 0 0 denied\n"));
  // Nothing changed on the card.
  km::GpuSample s = n->sample(0);
  REQUIRE(s.power_limit_w);
  CHECK_NEAR(*s.power_limit_w, 80, 1e-9);
}
