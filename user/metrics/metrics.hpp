// SPDX-License-Identifier: Apache-2.0
// Prometheus counters of the live loop (docs/metrics.md).
//
// Threads: the pipeline thread counts (count(), set_*), the HTTP server's
// threads render (render()). Fixed counters are relaxed atomics: counting is
// a few uncontended increments and never waits for a scrape. Per-container
// series (--metrics-label-filter) live in a map owned by the pipeline thread
// and are copied out at each tick with try_lock, so a scrape in progress
// delays their publication by one tick instead of stalling the pipeline.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "model/event.hpp"

namespace sysctlscope::metrics {

// Which container labels --metrics-label-filter adds to sysctlscope_events_total.
struct LabelFilter {
  bool container = false;  // the acting container's name (its id when it has none)
  bool pod = false;
  bool k8s_namespace = false;  // label `namespace`
  bool any() const { return container || pod || k8s_namespace; }
};
// "container,pod,namespace" (any subset, comma separated; "" = none);
// throws UsageError on an unknown label.
LabelFilter parse_label_filter(const std::string& s);

// A BPF program's kernel statistics (bpf_prog_info run_cnt / run_time_ns).
struct ProgStat {
  std::string name;
  uint64_t run_cnt = 0;
  uint64_t run_time_ns = 0;
};

// A counter family owned by another layer: its samples, one per value of
// its one label (or one sample with no label when `label` is empty).
struct CounterFamily {
  std::string_view name, help;
  std::string_view label;
  std::vector<std::pair<std::string_view, uint64_t>> samples;
};

class Metrics {
 public:
  // At most this many distinct label sets per-container series keep; events
  // beyond it are counted without container labels (and in
  // sysctlscope_metrics_label_overflow_total).
  static constexpr size_t kMaxLabelSets = 1000;

  explicit Metrics(LabelFilter labels = {});
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One event written to the output (pipeline thread).
  void count(const Event& e);
  // Called about every tick by the pipeline thread: gauges and the
  // per-container series become visible to scrapes (`wait`: even if a
  // scrape holds them right now; for the last call).
  void publish(bool wait = false);

  void set_containers_known(uint64_t n) { containers_known_.store(n, std::memory_order_relaxed); }
  void set_ringbuf_bytes(uint64_t n) { ringbuf_bytes_.store(n, std::memory_order_relaxed); }
  // sysctlscope_build_info labels; set once before the server answers.
  void set_build_info(std::string kernel, std::string missing_features);
  // Program statistics, read at each scrape while set (the tracer's lifetime);
  // clear_prog_stats() waits for a scrape using it to finish.
  void set_prog_stats(std::function<std::vector<ProgStat>()> fn);
  void clear_prog_stats() { set_prog_stats({}); }
  // Counters another layer owns (the OTLP exporter's), read at each scrape
  // while set and rendered here like every other family; cleared alike.
  void set_extra(std::function<std::vector<CounterFamily>()> fn);

  // The Prometheus text exposition (format 0.0.4).
  std::string render() const;

 private:
  using LabelKey = std::tuple<size_t, std::string, std::string, std::string>;  // type, c, pod, ns
  // One label set's values (container, pod, namespace), owned or viewed: an
  // event is looked up by a view of its container's strings, so counting an
  // already-seen set allocates nothing.
  struct LabelSet {
    std::string container, pod, ns;
  };
  struct LabelView {
    std::string_view container, pod, ns;
    bool operator==(const LabelView&) const = default;
  };
  static LabelView view(const LabelSet& s) { return {s.container, s.pod, s.ns}; }
  struct LabelHash {
    using is_transparent = void;
    size_t operator()(const LabelView& v) const;
    size_t operator()(const LabelSet& s) const { return (*this)(view(s)); }
  };
  struct LabelEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return as_view(a) == as_view(b);
    }
    static LabelView as_view(const LabelView& v) { return v; }
    static LabelView as_view(const LabelSet& s) { return view(s); }
  };
  using Counts = std::array<uint64_t, kEventTypeCount>;
  void count_labelled(const Event& e);
  // Counters beyond by_type, per type: one overload for each type that has
  // any (a new type with none adds nothing here); count() visits the payload.
  template <class T>
  void count_payload(const T&) {}
  void count_payload(const SysctlWrite& w);
  void count_payload(const SysctlBlocked& b);
  void count_payload(const Lost& l);
  void count_payload(const Detection& d);
  void count_payload(const NetnsCreate& n);
  // The id of the event's label set (allocates only for a new set); nullopt
  // when it is new and the series are full.
  std::optional<uint32_t> label_id(const LabelView& v, size_t type);

  const LabelFilter labels_;
  std::array<std::atomic<uint64_t>, kEventTypeCount> by_type_{};
  // sysctl_write by result: fixed slots, names resolved once (see result_slot()).
  std::vector<std::string> result_names_;
  std::unordered_map<std::string_view, size_t> result_index_;
  // Slot of each WriteStatus but Failed, and of each errno (Failed).
  std::array<size_t, vocab_size<WriteStatus>()> status_slot_{};
  std::vector<size_t> errno_slot_;
  std::unique_ptr<std::atomic<uint64_t>[]> by_result_;
  std::array<std::atomic<uint64_t>, vocab_size<BlockedBy>()> by_blocked_{};
  std::atomic<uint64_t> lost_records_{0};
  std::array<std::atomic<uint64_t>, 3> births_{};  // differs from host: true, false, unknown
  std::atomic<uint64_t> cross_namespace_{0};
  // detection events by (rule, severity): as many series as loaded rules.
  mutable std::mutex detections_mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> detections_;
  std::atomic<uint64_t> containers_known_{0};
  std::atomic<uint64_t> ringbuf_bytes_{0};
  std::atomic<uint64_t> label_overflow_{0};

  // Pipeline thread only: label sets by id (id 0: empty labels, host
  // processes and overflow), their counts by event type, and how many
  // (set, type) series are non-zero (bounded by kMaxLabelSets).
  std::unordered_map<LabelSet, uint32_t, LabelHash, LabelEq> label_ids_;
  std::vector<LabelSet> label_sets_;
  std::vector<Counts> labelled_;
  size_t series_ = 0;
  uint32_t last_id_ = 0;  // the previous event's set: most come in runs
  bool labelled_dirty_ = false;
  // Published copy, read by scrapes (sets only ever appended).
  mutable std::mutex published_mu_;
  std::vector<LabelSet> published_sets_;
  std::vector<Counts> published_;

  std::string kernel_, missing_;
  mutable std::mutex prog_mu_;
  std::function<std::vector<ProgStat>()> prog_stats_;
  std::function<std::vector<CounterFamily>()> extra_;
};

// Prometheus label value escaping (backslash, double quote, newline).
std::string escape_label(std::string_view v);

}  // namespace sysctlscope::metrics
