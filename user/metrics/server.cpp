// SPDX-License-Identifier: Apache-2.0
#include "metrics/server.hpp"

#include <httplib.h>

#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/error.hpp"

namespace sysctlscope::metrics {

namespace {
// httplib's own ThreadPool queues accepted connections without limit; this
// one blocks the accept thread when kQueued connections wait, so a flood of
// connections stays in the kernel's listen backlog instead of holding file
// descriptors (the pipeline's read-backs need them).
class BoundedPool final : public httplib::TaskQueue {
 public:
  static constexpr size_t kWorkers = 4, kQueued = 8;
  BoundedPool() {
    for (size_t i = 0; i < kWorkers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lk(mu_);
    room_.wait(lk, [&] { return jobs_.size() < kQueued || stopping_; });
    if (stopping_) {
      // Only during shutdown: serve it here (bounded by the timeouts) rather
      // than drop it, which would leak its socket.
      lk.unlock();
      fn();
      return;
    }
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lk(mu_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lk(mu_);
        ready_.wait(lk, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      room_.notify_one();
      fn();
    }
  }

  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};
}  // namespace

Endpoint parse_endpoint(const std::string& s) {
  const std::string bad = "--metrics-addr must be HOST:PORT (e.g. 127.0.0.1:9090 or :9090), not '" +
                          s + "'";
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) throw UsageError(bad);
  Endpoint ep;
  ep.host = s.substr(0, colon);
  if (ep.host.size() >= 2 && ep.host.front() == '[' && ep.host.back() == ']')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  else if (ep.host.find(':') != std::string::npos)
    throw UsageError(bad);
  if (ep.host.empty()) ep.host = "0.0.0.0";
  std::string port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(bad);
  ep.port = std::stoi(port);
  if (ep.port > 65535) throw UsageError(bad);
  return ep;
}

Server::Server(const Endpoint& ep, const Metrics& m) : metrics_(m) {
  http_ = std::make_unique<httplib::Server>();
  auto& h = *http_;
  h.new_task_queue = [] { return new BoundedPool(); };
  // httplib's default is SO_REUSEPORT, with which a second tracer on the same
  // port would bind too and the kernel would split the scrapes between them.
  // SO_REUSEADDR only: a restart can rebind at once, a second one cannot.
  h.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A scrape is one small request; slow or stuck clients lose their worker
  // after these timeouts (a connection that sends nothing: the keep-alive one).
  h.set_read_timeout(2, 0);
  h.set_write_timeout(2, 0);
  h.set_keep_alive_timeout(1);
  h.set_keep_alive_max_count(20);
  h.set_payload_max_length(1024);
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  h.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const bool ok = healthy_.load(std::memory_order_relaxed);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "not attached\n", "text/plain; charset=utf-8");
  });
  if (ep.port == 0) {
    port_ = h.bind_to_any_port(ep.host);
    if (port_ < 0) throw Error("bind metrics endpoint", ep.host + ":0", errno);
  } else {
    if (!h.bind_to_port(ep.host, ep.port))
      throw Error("bind metrics endpoint", ep.host + ":" + std::to_string(ep.port), 0,
                  "is the port taken or the address not local?");
    port_ = ep.port;
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
}

Server::~Server() {
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sysctlscope::metrics
