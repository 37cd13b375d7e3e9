#pragma once
#include <stdexcept>
#include <string>

namespace cp {

// Usage and configuration errors: the one exception type main maps to exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Evidence that cannot be judged (too large or deep, measurements missing, impossible numbers):
// like a target that could not be examined, exit code 3.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CONTRACT.md "Exit codes"; 4 is a bug in chokepoint (an exception nobody expected), never a usage error.
enum ExitCode : int {
  kExitOk = 0,
  kExitGateFailed = 1,
  kExitUsage = 2,
  kExitTargetError = 3,
  kExitInternal = 4
};

}  // namespace cp
