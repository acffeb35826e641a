// SPDX-License-Identifier: Apache-2.0
#include "pipeline/held_writes.hpp"

#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "model/sysctl_path.hpp"

namespace sysctlscope {

namespace {
// A write's syscall exit follows its cgroup/sysctl record within
// microseconds; 250 ms covers a descheduled writer on a loaded 2-core box.
constexpr uint64_t kWriteHoldNs = 250'000'000ull;
// Read-back: the handler runs right after the cgroup/sysctl hook; a write
// seen 1 ms ago has finished unless its writer was descheduled in between.
constexpr uint64_t kReadbackAfterNs = 1'000'000ull;

}  // namespace

void HeldWrites::admit(Event&& e, bool ready) {
  if (ready && queue_.empty()) {
    out_(e);
    return;
  }
  if (e.is<SysctlWrite>()) writes_.push_back(front_seq_ + queue_.size());
  if (!ready) ++unready_;
  queue_.push_back(Queued{std::move(e), ready, false, 0, std::nullopt});
}

bool HeldWrites::take_early_result(uint32_t tid, SysctlWrite& w) {
  auto it = early_results_.find(w.write_id);
  if (it == early_results_.end() || it->second.tid != tid) return false;
  w.result = WriteOutcome::of_syscall(it->second.ret);
  w.result_source = WriteResultMode::Syscall;
  note_stored(w);
  early_results_.erase(it);
  return true;
}

void HeldWrites::release() {
  while (!queue_.empty() && queue_.front().ready) {
    Event e = std::move(queue_.front().e);
    queue_.pop_front();
    if (!writes_.empty() && writes_.front() == front_seq_) writes_.pop_front();
    ++front_seq_;
    out_(e);
  }
}

void HeldWrites::apply_result(const WriteResult& r) {
  for (uint64_t seq : writes_) {
    Queued& q = at_seq(seq);
    auto& w = q.e.as<SysctlWrite>();
    if (q.ready || w.write_id != r.write_id || q.e.tid != r.tid) continue;
    w.result = WriteOutcome::of_syscall(r.ret);
    w.result_source = WriteResultMode::Syscall;
    // Partial write: compare with the bytes passed, not the value shown
    // (one trailing newline is stripped from it).
    if (r.ret >= 0 && static_cast<uint64_t>(r.ret) < w.new_len && !w.value_truncated)
      w.bytes_written = static_cast<uint64_t>(r.ret);
    note_stored(w);
    q.ready = true;
    --unready_;
    release();
    return;
  }
  if (early_results_.size() < 4096) early_results_.emplace(r.write_id, r);
}

void HeldWrites::on_writer_exit(uint32_t tid, NetnsInode netns, uint64_t boot_ns,
                              const ValueOf& value_of) {
  // The exit record came while its netns was alive: its generation is the
  // current one of that inode.
  const NetnsId ns = gens_.current(netns);
  for (uint64_t seq : writes_) {
    Queued& q = at_seq(seq);
    if (q.ready || q.e.tid != tid || q.e.netns_id() != ns || q.e.boot_ns > boot_ns)
      continue;
    const auto& w = q.e.as<SysctlWrite>();
    if (scope_of(w.sysctl) != SysctlScope::Net) continue;
    q.writer_exited = true;
    q.exit_boot_ns = boot_ns;
    q.exit_value = value_of(w.sysctl);
  }
}

void HeldWrites::expire(uint64_t now_boot_ns, bool all) {
  if (readback_) {
    resolve_readbacks(now_boot_ns, all);
  } else {
    for (uint64_t seq : writes_) {
      Queued& q = at_seq(seq);
      if (q.ready) continue;
      if (!all && q.e.boot_ns + kWriteHoldNs >= now_boot_ns) break;  // the rest are younger
      auto& w = q.e.as<SysctlWrite>();
      w.result = {};
      w.result_source = WriteResultMode::Syscall;
      q.ready = true;
      --unready_;
    }
    if (all) early_results_.clear();
  }
  release();
}

void HeldWrites::resolve_readbacks(uint64_t now_boot_ns, bool all) {
  if (!unready_) return;
  // What each write left behind is what the next write to the same sysctl in
  // the same place (netns generation) found there (its old_value, captured
  // by the kernel); only the last write of a batch needs the value read
  // back. A burst of writes costs one read per place, and each write still
  // gets its own verdict. A net.* write whose writer exited before that next
  // write is judged by the value at the writer's exit.
  struct Place {
    NetnsId netns;
    std::string_view sysctl;
    bool operator<(const Place& o) const {
      return std::tie(netns, sysctl) < std::tie(o.netns, o.sysctl);
    }
  };
  std::map<Place, const Event*> next;
  std::vector<const Event*> next_of(writes_.size(), nullptr);
  for (size_t i = writes_.size(); i-- > 0;) {
    const Queued& q = at_seq(writes_[i]);
    const Event& e = q.e;
    const auto& w = e.as<SysctlWrite>();
    const bool global = scope_of(w.sysctl) == SysctlScope::Global;
    const Place where{global ? NetnsId{} : e.netns_id(), w.sysctl};
    auto [it, first] = next.try_emplace(where, &e);
    if (!first) {
      next_of[i] = it->second;
      it->second = &e;
    }
  }
  for (size_t i = 0; i < writes_.size(); ++i) {
    Queued& q = at_seq(writes_[i]);
    if (q.ready) continue;
    if (!all && q.e.boot_ns + kReadbackAfterNs > now_boot_ns) break;  // the rest are younger
    auto& w = q.e.as<SysctlWrite>();
    const Event* n = next_of[i];
    const bool net = scope_of(w.sysctl) == SysctlScope::Net;
    std::optional<std::string> after;
    bool judged = true, read = false;
    if (q.deferred) {
      if (n && !n->as<SysctlWrite>().old_truncated && !n->as<SysctlWrite>().value_error)
        after = n->as<SysctlWrite>().old_value;
      else
        after = q.read_value;
    } else if (q.exit_value && (!n || n->boot_ns > q.exit_boot_ns)) {
      after = q.exit_value;
    } else if (n) {
      const auto& nw = n->as<SysctlWrite>();
      if (!nw.old_truncated && !nw.value_error) after = nw.old_value;
    } else if (!net) {
      after = readback_->current_value(q.e, Reach::Anyone);
      read = true;
    } else if (!q.writer_exited && (after = readback_->current_value(q.e, Reach::Writer))) {
      read = true;  // the writer still holds the netns it wrote in
    } else if (writer_exits_ && !q.writer_exited && !all &&
               q.e.boot_ns + kExitWaitNs > now_boot_ns) {
      // The writer is gone: its exit snapshot is in the ring buffer (the
      // kernel sends it before the writer leaves the netns).
      judged = false;
    } else if (gens_.current(q.e.netns) == q.e.netns_id()) {
      // No snapshot (none for this sysctl, lost, or not loaded): anyone still
      // in that netns, unless the inode already names a newer one.
      after = readback_->current_value(q.e, Reach::Anyone);
      read = true;
    }
    if (!judged) continue;
    w.result = judge_readback(w, after);
    if (read && after && w.result.unknown() && !all) {
      // A third value: another write may have landed between the last
      // drain of the ring buffer and the read. Its record is drained by the
      // next pass; without one, the value read stands.
      q.deferred = true;
      q.read_value = std::move(after);
      continue;
    }
    w.result_source = WriteResultMode::Readback;
    q.ready = true;
    --unready_;
  }
}

}  // namespace sysctlscope
