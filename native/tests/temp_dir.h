// Files for tests: a fresh folder under /tmp removed with what it holds, and
// a whole file read into memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test.h"

namespace kt {

struct TempDir {
  std::string path;
  explicit TempDir(const char* prefix = "keymate-test") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    const char* p = mkdtemp(tmpl.data());
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The names in the folder, hidden ones included.
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    std::string cmd = "ls -A '" + path + "'";
    FILE* f = popen(cmd.c_str(), "r");
    char line[512];
    while (f && std::fgets(line, sizeof line, f)) {
      std::string s(line);
      if (!s.empty() && s.back() == '\n') s.pop_back();
      out.push_back(s);
    }
    if (f) pclose(f);
    return out;
  }
};

inline std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace kt
