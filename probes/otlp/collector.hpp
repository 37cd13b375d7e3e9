// The OTLP/HTTP receiver as a live collector: it listens for the window, answers exports, and
// assembles the spans it accepted with the traces probe's assembler.
#pragma once

#include <string>

#include "probes/probe.hpp"

namespace cp::otlp {

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 address
  int port = 0;
  bool v6 = false;
  bool loopback() const;
  std::string display() const;  // "127.0.0.1:4318", "[::1]:4318"
};

// "127.0.0.1:4318", "[::1]:4318", "localhost:4318", "0.0.0.0:4318", or a port alone (loopback).
// Throws UsageError.
ListenAddress parse_listen(const std::string& spec);

Collected collect(const Target& target, const CollectContext& ctx);

}  // namespace cp::otlp
