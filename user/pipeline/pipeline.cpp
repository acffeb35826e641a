// SPDX-License-Identifier: Apache-2.0
#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <linux/types.h>

#include <map>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "enrich/proc.hpp"
#include "model/sysctl_path.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

namespace {
// A write's syscall exit follows its cgroup/sysctl record within
// microseconds; 250 ms covers a descheduled writer on a loaded 2-core box.
constexpr uint64_t kWriteHoldNs = 250'000'000ull;
// Read-back: the handler runs right after the cgroup/sysctl hook; a write
// seen 1 ms ago has finished unless its writer was descheduled in between.
constexpr uint64_t kReadbackAfterNs = 1'000'000ull;

std::string result_of(int64_t ret) {
  if (ret >= 0) return "ok";
  return errno_name(static_cast<int>(-ret));
}
}  // namespace

Pipeline::Pipeline(Filter filter, Enricher* enricher, Sink& sink, bool join_writes)
    : filter_(std::move(filter)), enricher_(enricher), sink_(sink), join_writes_(join_writes) {}

void Pipeline::on_record(const void* data, size_t len) {
  ++stats_.records;
  auto d = decoder_.decode(data, len);
  if (!d) {
    if (stats_.malformed++ == 0) spdlog::warn("{}", d.error().what());
    return;
  }
  if (d->write_result) {
    apply_result(*d->write_result);
    return;
  }
  if (d->cgroup) {
    if (enricher_) enricher_->on_cgroup(*d->cgroup);
    return;
  }
  if (!d->event) return;
  Event& e = *d->event;
  if (readback_ && e.netns && e.pid) readback_->saw(e.netns, e.pid);
  if (auto* b = e.get_if<NetnsCreate>(); b && births_ && b->snapshot) {
    if (discarding_ && births_->calibrated()) return;  // the tool's own start-up namespaces
    if (!births_->fill(*b->snapshot, *b)) return;
    b->snapshot.reset();  // decoded: the 12 KiB copy is not needed any more
  }
  if (auto* b = e.get_if<SysctlBlocked>(); b && b->cmdline_unread) {
    // The kernel could not read the argument pages: best effort from /proc.
    if (auto c = read_proc_cmdline(e.pid, e.tid, e.comm)) b->cmdline = split_cmdline(*c);
  }
  auto* w = e.get_if<SysctlWrite>();
  // Host values cached for differs_from_host are stale after any write seen.
  if (w && births_) births_->host_changed();
  if (discarding_) return;
  if (w && readback_) {
    held_.push_back(std::move(e));
    return;
  }
  if (w && join_writes_) {
    auto it = early_results_.find(w->write_id);
    if (it != early_results_.end() && it->second.tid == e.tid) {
      w->result = result_of(it->second.ret);
      w->result_source = "syscall";
      early_results_.erase(it);
      feed(std::move(e));
      return;
    }
    held_.push_back(std::move(e));
    return;
  }
  feed(std::move(e));
}

void Pipeline::apply_result(const WriteResult& r) {
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    auto& w = it->as<SysctlWrite>();
    if (w.write_id == r.write_id && it->tid == r.tid) {
      w.result = result_of(r.ret);
      w.result_source = "syscall";
      // Partial write: compare with the bytes passed, not the value shown
      // (one trailing newline is stripped from it).
      if (r.ret >= 0 && static_cast<uint64_t>(r.ret) < w.new_len && !w.value_truncated)
        w.bytes_written = static_cast<uint64_t>(r.ret);
      Event e = std::move(*it);
      held_.erase(it);
      feed(std::move(e));
      return;
    }
  }
  if (early_results_.size() < 4096) early_results_.emplace(r.write_id, r);
}

void Pipeline::expire_writes(uint64_t now_boot_ns, bool all) {
  if (readback_) {
    resolve_readbacks(now_boot_ns, all);
    return;
  }
  while (!held_.empty() && (all || held_.front().boot_ns + kWriteHoldNs < now_boot_ns)) {
    Event e = std::move(held_.front());
    held_.pop_front();
    auto& w = e.as<SysctlWrite>();
    w.result = "unknown";
    w.result_source = "syscall";
    feed(std::move(e));
  }
  if (all) early_results_.clear();
}

void Pipeline::resolve_readbacks(uint64_t now_boot_ns, bool all) {
  size_t ready = 0;
  while (ready < held_.size() && (all || held_[ready].boot_ns + kReadbackAfterNs <= now_boot_ns))
    ++ready;
  if (!ready) return;
  // What each write left behind is what the next write to the same sysctl in
  // the same place found there (its old_value, captured by the kernel); only
  // the last write of a batch needs the value read back. A burst of writes
  // costs one read per place, and each write still gets its own verdict.
  std::vector<std::optional<std::string>> after(ready);
  std::vector<bool> read_back(ready);
  std::map<std::pair<uint32_t, std::string_view>, const SysctlWrite*> next;
  for (size_t i = ready; i-- > 0;) {
    const auto& w = held_[i].as<SysctlWrite>();
    const uint32_t where = scope_of(w.sysctl) == SysctlScope::Global ? 0 : held_[i].netns;
    auto [it, first] = next.try_emplace({where, w.sysctl}, &w);
    if (first) {
      read_back[i] = true;
    } else {
      if (!it->second->old_truncated && !it->second->value_error) after[i] = it->second->old_value;
      it->second = &w;
    }
  }
  next.clear();
  for (size_t i = 0; i < ready; ++i) {
    Event e = std::move(held_.front());
    held_.pop_front();
    auto& w = e.as<SysctlWrite>();
    w.result = judge_readback(w, read_back[i] ? readback_->current_value(e) : after[i]);
    w.result_source = "readback";
    feed(std::move(e));
  }
}

void Pipeline::feed(Event&& e) {
  if (enricher_) enricher_->enrich(e);
  if (policy_) {
    // A refused write did fail, whatever the read-back concluded.
    if (auto* w = e.get_if<SysctlWrite>(); w && w->denied) w->result = "EPERM";
    auto drifts = policy_->judge(e);
    if (filter_.matches(e)) emit(e);
    for (auto& d : drifts)
      if (filter_.matches(d)) emit(d);
    return;
  }
  if (!filter_.matches(e)) return;
  emit(e);
}

void Pipeline::emit(Event& e) {
  if (done()) return;
  ++stats_.emitted;
  ++stats_.by_type[index_of(e.type())];
  sink_.write(e);
}

void Pipeline::on_lost_total(uint64_t total, uint64_t now_epoch_ns) {
  if (total <= lost_seen_) return;
  Event e(Lost{total - lost_seen_});
  e.time_ns = now_epoch_ns;
  lost_seen_ = total;
  stats_.lost = total;
  // Losses bypass --count and the filter: they must never be hidden.
  ++stats_.by_type[index_of(e.type())];
  sink_.write(e);
}

}  // namespace sysctlscope
