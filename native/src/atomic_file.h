// A file written whole or not at all. Bytes go to a temporary file beside the
// target (`path`.tmp-<pid>-<n>: the same folder, so the rename cannot cross
// file systems); commit() fsyncs it, renames it over the target and fsyncs
// the folder, so a crash, a full disk or an exception leaves the old file (or
// none) in place, never a partial one. An uncommitted temporary is removed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace km {

class AtomicFile {
 public:
  // `mode` as for open(2), before the umask. Throws km::Error
  // "<path>: cannot create <temporary>: <why>".
  explicit AtomicFile(std::string path, mode_t mode = 0666);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, uint64_t n);  // throws "<path>: write failed: <why>"
  void commit();                              // throws "<path>: write failed / cannot rename ...: <why>"

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace km
