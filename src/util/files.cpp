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

std::optional<std::string> write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / (".chokepoint-" + target.filename().string() + ".XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return fmt::format("cannot create a temporary file next to {}: {}", path, std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmpl.c_str());
      return fmt::format("cannot write {}: {}", path, err);
    }
    written += static_cast<size_t>(n);
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
