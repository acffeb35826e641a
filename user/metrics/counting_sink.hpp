// SPDX-License-Identifier: Apache-2.0
// A Sink in front of the real one: every event written to the output is
// counted, so the metrics are exactly the output's numbers (docs/metrics.md).
#pragma once

#include "metrics/metrics.hpp"
#include "output/sink.hpp"

namespace sysctlscope::metrics {

class CountingSink final : public Sink {
 public:
  CountingSink(Sink& out, Metrics& m) : out_(out), m_(m) {}
  void write(const Event& e) override {
    m_.count(e);
    out_.write(e);
  }
  bool flush() override { return out_.flush(); }
  bool closed() const override { return out_.closed(); }

 private:
  Sink& out_;
  Metrics& m_;
};

}  // namespace sysctlscope::metrics
