#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

namespace cp {

namespace {

std::optional<std::string> write_all(int fd, const std::string& content, const std::string& path) {
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fmt::format("cannot write {}: {}", path, std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> write_file_atomic(const std::string& given_path, const std::string& content) {
  namespace fs = std::filesystem;
  std::string path = given_path;
  // A symlink: replace what it points to, not the link.
  std::error_code ec;
  for (int hops = 0; hops < 16 && fs::is_symlink(path, ec); ++hops) {
    fs::path link(path), to = fs::read_symlink(link, ec);
    if (ec) break;
    path = (to.is_absolute() ? to : link.parent_path() / to).string();
  }
  // A device, FIFO or socket (/dev/null, /dev/stdout, a pipe): write into it; renaming over it
  // would replace the device with a regular file.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return fmt::format("cannot write {}: it is a directory", given_path);
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return fmt::format("cannot open {}: {}", given_path, std::strerror(errno));
    auto err = write_all(fd, content, given_path);
    ::close(fd);
    return err;
  }
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / (".chokepoint-" + target.filename().string() + ".XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return fmt::format("cannot create a temporary file next to {}: {}", path, std::strerror(errno));
  if (auto err = write_all(fd, content, given_path)) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return err;
  }
  // mkstemp creates 0600; a report is an ordinary file.
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return fmt::format("cannot write {}: {}", path, std::strerror(errno));
  }
  if (std::rename(tmpl.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmpl.c_str());
    return fmt::format("cannot write {}: {}", path, err);
  }
  return std::nullopt;
}

ReadResult read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return {ss.str(), ""};
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {std::nullopt, fmt::format("{} is a directory", path)};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, fmt::format("cannot open {}: {}", path, std::strerror(errno))};
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return {std::nullopt, fmt::format("cannot read {}", path)};
  return {std::move(content), ""};
}

}  // namespace cp
