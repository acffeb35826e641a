// SPDX-License-Identifier: Apache-2.0
// The --metrics-addr endpoint: GET /metrics (Prometheus text format 0.0.4)
// and GET /healthz (200 while the probes are attached, 503 before and after).
// Debian's cpp-httplib serves it on its own threads: a fixed pool of four
// workers behind a bounded queue, read/write timeouts, small requests only.
// Nothing here is called from the event pipeline except the health state
// (an atomic store) and the counters' own publish().
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "metrics/metrics.hpp"

namespace httplib {
class Server;
}

namespace sysctlscope::metrics {

struct Endpoint {
  std::string host;
  int port = 0;
};
// "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses); throws UsageError.
Endpoint parse_endpoint(const std::string& s);

class Server {
 public:
  // Binds at once (a taken port is an Error before any BPF is loaded) and
  // serves until destroyed. Port 0 picks a free port (port()).
  Server(const Endpoint& ep, const Metrics& m);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void set_healthy(bool attached) { healthy_.store(attached, std::memory_order_relaxed); }
  int port() const { return port_; }

 private:
  const Metrics& metrics_;
  std::atomic<bool> healthy_{false};
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sysctlscope::metrics
