#pragma once
#include <stdexcept>
#include <string>

namespace cp {

// Usage and configuration errors: the one exception type main maps to exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum ExitCode : int { kExitOk = 0, kExitGateFailed = 1, kExitUsage = 2, kExitTargetError = 3 };

}  // namespace cp
