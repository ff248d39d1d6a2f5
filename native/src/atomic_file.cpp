// AtomicFile (see atomic_file.h): plain POSIX calls, each checked; EINTR and
// short writes are retried, as write(2) may stop early on large buffers.
#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "keymate/error.h"

namespace km {

namespace {

// Two writers of one target in one process get two temporaries.
std::atomic<uint64_t> g_next_tmp{0};

// write(2) moves at most about 2 GiB per call on Linux.
constexpr uint64_t kMaxWriteBytes = uint64_t{1} << 30;

}  // namespace

AtomicFile::AtomicFile(std::string path, mode_t mode) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_next_tmp++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd_ < 0) fail("%s: cannot create %s: %s", path_.c_str(), tmp_.c_str(), std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, uint64_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n < kMaxWriteBytes ? n : kMaxWriteBytes);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
    }
    p += w;
    n -= static_cast<uint64_t>(w);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail("%s: cannot rename the finished file into place: %s", path_.c_str(), std::strerror(errno));
  committed_ = true;
  // The rename itself is durable only once the folder is.
  const size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace km
