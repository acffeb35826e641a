// SPDX-License-Identifier: Apache-2.0
#include "metrics/metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "sysctlscope_version.hpp"

namespace sysctlscope::metrics {

namespace {
// sysctl_write results that always get a series (zero until seen).
constexpr std::array<WriteStatus, 3> kFixedResults = {WriteStatus::Ok, WriteStatus::NotApplied,
                                                      WriteStatus::Unknown};
// errno names are bounded by the kernel's errno range; anything else
// (a future result word) is counted as "other".
constexpr int kMaxErrno = 133;  // EHWPOISON

void append_u64(std::string& out, uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// name{k1="v1",...} value
void sample(std::string& out, std::string_view name,
            std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
            uint64_t v) {
  out += name;
  if (labels.size()) {
    out += '{';
    bool first = true;
    for (const auto& [k, val] : labels) {
      if (!first) out += ',';
      first = false;
      out += k;
      out += "=\"";
      out += escape_label(val);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_u64(out, v);
  out += '\n';
}

void sample_seconds(std::string& out, std::string_view name, std::string_view label,
                    std::string_view value, uint64_t ns) {
  out += name;
  out += '{';
  out += label;
  out += "=\"";
  out += escape_label(value);
  out += "\"} ";
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%llu.%09llu",
                        static_cast<unsigned long long>(ns / 1000000000ull),
                        static_cast<unsigned long long>(ns % 1000000000ull));
  out.append(buf, static_cast<size_t>(n));
  out += '\n';
}

// kernel.bpf_stats_enabled: run_cnt/run_time_ns only move while it is on.
bool bpf_stats_enabled() {
  Fd fd(::open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char c = '0';
  ssize_t n = ::read(fd.get(), &c, 1);
  return n == 1 && c == '1';
}

const char* type_name(size_t i) {
  static const auto names = [] {
    std::array<std::string, kEventTypeCount> a;
    for (size_t k = 0; k < a.size(); ++k) a[k] = std::string(to_string(kAllEventTypes[k]));
    return a;
  }();
  return names[i].c_str();
}

constexpr auto kIsPublic =
    registry_table([](auto t) { return decltype(t)::type::kInfo.is_public; });
bool is_public_type(size_t i) { return kIsPublic[i]; }
}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

LabelFilter parse_label_filter(const std::string& s) {
  LabelFilter f;
  size_t pos = 0;
  while (pos <= s.size() && !s.empty()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string l = s.substr(pos, end - pos);
    if (l == "container")
      f.container = true;
    else if (l == "pod")
      f.pod = true;
    else if (l == "namespace")
      f.k8s_namespace = true;
    else
      throw UsageError("--metrics-label-filter: unknown label '" + l +
                       "' (use container, pod, namespace)");
    pos = end + 1;
  }
  return f;
}

Metrics::Metrics(LabelFilter labels) : labels_(labels) {
  // Label set 0: empty labels (host processes, overflow).
  label_sets_.emplace_back();
  labelled_.emplace_back();
  label_ids_.emplace(label_sets_.front(), 0);
  for (auto r : kFixedResults) result_names_.emplace_back(name_of(r));
  for (int e = 1; e <= kMaxErrno; ++e) {
    std::string n = errno_name(e);
    if (n[1] >= '0' && n[1] <= '9') continue;  // "E<n>": no name on this libc
    bool dup = false;
    for (const auto& have : result_names_) dup |= have == n;
    if (!dup) result_names_.push_back(std::move(n));
  }
  result_names_.emplace_back("other");
  // The names never move after this: the index may point into them.
  for (size_t i = 0; i < result_names_.size(); ++i) result_index_.emplace(result_names_[i], i);
  for (size_t i = 0; i < kFixedResults.size(); ++i)
    status_slot_[static_cast<size_t>(kFixedResults[i])] = i;
  errno_slot_.assign(kMaxErrno + 1, result_names_.size() - 1);
  for (int e = 1; e <= kMaxErrno; ++e)
    if (auto it = result_index_.find(errno_name(e)); it != result_index_.end())
      errno_slot_[static_cast<size_t>(e)] = it->second;
  by_result_ = std::make_unique<std::atomic<uint64_t>[]>(result_names_.size());
  for (size_t i = 0; i < result_names_.size(); ++i) by_result_[i].store(0);
}

void Metrics::count(const Event& e) {
  constexpr auto relaxed = std::memory_order_relaxed;
  const size_t t = index_of(e.type());
  by_type_[t].fetch_add(1, relaxed);
  if (e.cross_namespace) cross_namespace_.fetch_add(1, relaxed);
  std::visit([this](const auto& p) { count_payload(p); }, e.data);
  if (labels_.any()) count_labelled(e);
}

void Metrics::count_payload(const SysctlWrite& w) {
  const WriteOutcome r = w.result;
  const size_t slot = r.status != WriteStatus::Failed ? status_slot_[static_cast<size_t>(r.status)]
                      : r.err > 0 && r.err <= kMaxErrno ? errno_slot_[static_cast<size_t>(r.err)]
                                                        : result_names_.size() - 1;
  by_result_[slot].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_payload(const SysctlBlocked& b) {
  by_blocked_[static_cast<size_t>(b.blocked_by)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_payload(const Lost& l) {
  lost_records_.fetch_add(l.count, std::memory_order_relaxed);
}

void Metrics::count_payload(const Detection& d) {
  // Rare (rules match few events): a lock here costs nothing measurable.
  std::lock_guard lk(detections_mu_);
  ++detections_[{d.rule, d.severity}];
}

void Metrics::count_payload(const NetnsCreate& n) {
  births_[!n.differs_from_host           ? 2
          : n.differs_from_host->empty() ? 1
                                         : 0]
      .fetch_add(1, std::memory_order_relaxed);
}

size_t Metrics::LabelHash::operator()(const LabelView& v) const {
  std::hash<std::string_view> h;
  size_t x = h(v.container);
  x = x * 1000003u ^ h(v.pod);
  return x * 1000003u ^ h(v.ns);
}

std::optional<uint32_t> Metrics::label_id(const LabelView& v, size_t type) {
  uint32_t id = last_id_;
  if (!(view(label_sets_[id]) == v)) {
    auto it = label_ids_.find(v);
    if (it != label_ids_.end()) {
      id = it->second;
    } else {
      if (series_ >= kMaxLabelSets) return std::nullopt;
      id = static_cast<uint32_t>(label_sets_.size());
      label_sets_.push_back(
          LabelSet{std::string(v.container), std::string(v.pod), std::string(v.ns)});
      labelled_.emplace_back();
      label_ids_.emplace(label_sets_.back(), id);
    }
    last_id_ = id;
  }
  if (labelled_[id][type] == 0 && series_ >= kMaxLabelSets) return std::nullopt;
  return id;
}

void Metrics::count_labelled(const Event& e) {
  const size_t t = index_of(e.type());
  LabelView v;
  if (e.container) {
    const auto& c = *e.container;
    if (labels_.container)
      v.container =
          !c.name.empty() ? std::string_view(c.name) : std::string_view(c.id).substr(0, 12);
    if (labels_.pod) v.pod = c.pod;
    if (labels_.k8s_namespace) v.ns = c.k8s_namespace;
  }
  std::optional<uint32_t> id = label_id(v, t);
  if (!id) {
    label_overflow_.fetch_add(1, std::memory_order_relaxed);
    id = 0;
  }
  uint64_t& n = labelled_[*id][t];
  if (n++ == 0) ++series_;
  labelled_dirty_ = true;
}

void Metrics::publish(bool wait) {
  if (!labelled_dirty_) return;
  // try_lock: a scrape copying the counts right now never holds up the pipeline.
  std::unique_lock lk(published_mu_, std::defer_lock);
  if (wait)
    lk.lock();
  else if (!lk.try_lock())
    return;
  for (size_t i = published_sets_.size(); i < label_sets_.size(); ++i)
    published_sets_.push_back(label_sets_[i]);
  published_ = labelled_;
  labelled_dirty_ = false;
}

void Metrics::set_build_info(std::string kernel, std::string missing_features) {
  kernel_ = std::move(kernel);
  missing_ = std::move(missing_features);
}

void Metrics::set_prog_stats(std::function<std::vector<ProgStat>()> fn) {
  std::lock_guard lk(prog_mu_);
  prog_stats_ = std::move(fn);
}

void Metrics::set_extra(std::function<std::vector<CounterFamily>()> fn) {
  std::lock_guard lk(prog_mu_);
  extra_ = std::move(fn);
}

std::string Metrics::render() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  std::string out;
  out.reserve(4096);

  header(out, "sysctlscope_events_total", "counter",
         "Events written to the output, by event type (after every filter).");
  if (!labels_.any()) {
    for (size_t i = 0; i < kEventTypeCount; ++i) {
      uint64_t v = by_type_[i].load(relaxed);
      // Types not public yet (sysctl_drift) appear once something emits them.
      if (is_public_type(i) || v)
        sample(out, "sysctlscope_events_total", {{"event", type_name(i)}}, v);
    }
  } else {
    std::map<LabelKey, uint64_t> snap;
    {
      std::lock_guard lk(published_mu_);
      for (size_t id = 0; id < published_.size(); ++id) {
        const LabelSet& s = published_sets_[id];
        for (size_t t = 0; t < kEventTypeCount; ++t)
          if (published_[id][t])
            snap.emplace(LabelKey{t, s.container, s.pod, s.ns}, published_[id][t]);
      }
    }
    for (size_t i = 0; i < kEventTypeCount; ++i)
      if (is_public_type(i)) snap.try_emplace(LabelKey{i, {}, {}, {}}, 0);
    for (const auto& [k, v] : snap) {
      const auto& [t, c, pod, ns] = k;
      sample(out, "sysctlscope_events_total",
             {{"event", type_name(t)}, {"container", c}, {"pod", pod}, {"namespace", ns}}, v);
    }
    header(out, "sysctlscope_metrics_label_overflow_total", "counter",
           "Events counted without container labels: more than 1000 label sets.");
    sample(out, "sysctlscope_metrics_label_overflow_total", {}, label_overflow_.load(relaxed));
  }

  header(out, "sysctlscope_sysctl_write_results_total", "counter",
         "sysctl_write events written to the output, by result.");
  for (size_t i = 0; i < result_names_.size(); ++i) {
    uint64_t v = by_result_[i].load(relaxed);
    if (i < kFixedResults.size() || v)
      sample(out, "sysctlscope_sysctl_write_results_total", {{"result", result_names_[i]}}, v);
  }
  header(out, "sysctlscope_sysctl_blocked_total", "counter",
         "sysctl_blocked events written to the output, by what refused the open.");
  for (size_t i = 0; i < by_blocked_.size(); ++i)
    sample(out, "sysctlscope_sysctl_blocked_total",
           {{"blocked_by", name_of(static_cast<BlockedBy>(i))}}, by_blocked_[i].load(relaxed));
  header(out, "sysctlscope_detections_total", "counter",
         "detection events written to the output (trace/record --rules), by rule and severity.");
  {
    std::lock_guard lk(detections_mu_);
    for (const auto& [k, v] : detections_)
      sample(out, "sysctlscope_detections_total", {{"rule", k.first}, {"severity", k.second}}, v);
  }
  header(out, "sysctlscope_lost_events_total", "counter",
         "Kernel records dropped because the ring buffer was full.");
  sample(out, "sysctlscope_lost_events_total", {}, lost_records_.load(relaxed));
  header(out, "sysctlscope_netns_births_total", "counter",
         "netns_create events written to the output, by whether the new namespace's defaults "
         "differ from the host's values (unknown: no birth snapshot).");
  static constexpr std::array<std::string_view, 3> kDiffers = {"true", "false", "unknown"};
  for (size_t i = 0; i < kDiffers.size(); ++i)
    sample(out, "sysctlscope_netns_births_total", {{"differs_from_host", kDiffers[i]}},
           births_[i].load(relaxed));
  header(out, "sysctlscope_cross_namespace_events_total", "counter",
         "Events written to the output whose actor is not in the container that owns the netns.");
  sample(out, "sysctlscope_cross_namespace_events_total", {}, cross_namespace_.load(relaxed));
  header(out, "sysctlscope_containers_known", "gauge", "Containers the enricher currently knows.");
  sample(out, "sysctlscope_containers_known", {}, containers_known_.load(relaxed));
  header(out, "sysctlscope_ringbuf_size_bytes", "gauge", "Size of the BPF ring buffer.");
  sample(out, "sysctlscope_ringbuf_size_bytes", {}, ringbuf_bytes_.load(relaxed));

  // The sysctl shows only its own setting: statistics switched on through a
  // BPF_ENABLE_STATS fd (bpftool prog profile, other agents) count too, so
  // the program series are always there and stay flat while nothing counts.
  header(out, "sysctlscope_bpf_stats_enabled", "gauge",
         "1 when the sysctl kernel.bpf_stats_enabled is on (BPF program statistics count).");
  sample(out, "sysctlscope_bpf_stats_enabled", {}, bpf_stats_enabled() ? 1 : 0);
  std::vector<ProgStat> progs;
  {
    std::lock_guard lk(prog_mu_);
    if (prog_stats_) progs = prog_stats_();
  }
  if (!progs.empty()) {
    header(out, "sysctlscope_bpf_program_runs_total", "counter",
           "Runs of each loaded BPF program (bpf_prog_info.run_cnt; counted only while the "
           "kernel's BPF statistics are on).");
    for (const auto& p : progs)
      sample(out, "sysctlscope_bpf_program_runs_total", {{"program", p.name}}, p.run_cnt);
    header(out, "sysctlscope_bpf_program_run_seconds_total", "counter",
           "Time spent in each loaded BPF program (bpf_prog_info.run_time_ns; same condition).");
    for (const auto& p : progs)
      sample_seconds(out, "sysctlscope_bpf_program_run_seconds_total", "program", p.name,
                     p.run_time_ns);
  }
  header(out, "sysctlscope_build_info", "gauge",
         "Always 1: the version, the running kernel and the kernel abilities it lacks.");
  sample(out, "sysctlscope_build_info",
         {{"version", kVersion}, {"kernel", kernel_}, {"missing_features", missing_}}, 1);
  {
    std::lock_guard lk(prog_mu_);
    if (extra_) {
      for (const CounterFamily& f : extra_()) {
        header(out, f.name, "counter", f.help);
        for (const auto& [value, n] : f.samples) {
          if (f.label.empty())
            sample(out, f.name, {}, n);
          else
            sample(out, f.name, {{f.label, value}}, n);
        }
      }
    }
  }
  return out;
}

}  // namespace sysctlscope::metrics
