// SPDX-License-Identifier: Apache-2.0
#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <linux/types.h>

#include <map>
#include <optional>
#include <string_view>
#include <tuple>

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

}  // namespace

Pipeline::Pipeline(PipelineConfig cfg, Sink& sink) : cfg_(std::move(cfg)), sink_(sink) {}

Pipeline::Pipeline(Filter filter, Enricher* enricher, Sink& sink, bool join_writes)
    : sink_(sink) {
  cfg_.filter = std::move(filter);
  cfg_.enricher = enricher;
  cfg_.join_writes = join_writes;
}

void Pipeline::on_record(const void* data, size_t len) {
  ++stats_.records;
  auto d = decoder_.decode(data, len);
  if (!d) {
    if (stats_.malformed++ == 0) spdlog::warn("{}", d.error().what());
    return;
  }
  if (auto* e = std::get_if<Event>(&*d)) {
    on_event(*e);
  } else if (auto* r = std::get_if<WriteResult>(&*d)) {
    apply_result(*r);
  } else if (auto* c = std::get_if<CgroupChange>(&*d)) {
    if (cfg_.enricher) cfg_.enricher->on_cgroup(*c);
  } else if (auto* x = std::get_if<WriterExit>(&*d)) {
    if (cfg_.births && cfg_.births->calibrated() && x->snapshot && !discarding_)
      on_writer_exit(x->tid, x->netns, x->boot_ns, [&](const std::string& n) {
        return cfg_.births->decoder().value(*x->snapshot, n);
      });
  }
}

void Pipeline::on_event(Event& e) {
  // A netns_create starts a new generation of its inode before any event of
  // it is seen: a record of the new netns never matches one of an older.
  if (e.is<NetnsCreate>()) {
    e.netns_gen = gens_.born(e.netns).generation;
    for (auto& f : cfg_.on_new_generation) f(e.netns_id());
  } else if (e.netns) {
    e.netns_gen = gens_.current(e.netns).generation;
  }
  if (cfg_.readback && e.netns && e.pid) cfg_.readback->saw(e.netns_id(), e.pid);
  if (auto* b = e.get_if<NetnsCreate>(); b && cfg_.births && b->snapshot) {
    if (discarding_ && cfg_.births->calibrated()) return;  // the tool's own start-up namespaces
    if (!cfg_.births->fill(*b->snapshot, *b)) return;
    b->snapshot.reset();  // decoded: the 19.4 KiB copy is not needed any more
  }
  if (auto* b = e.get_if<SysctlBlocked>(); b && b->cmdline_unread) {
    // The kernel could not read the argument pages: best effort from /proc.
    if (auto c = read_proc_cmdline(e.pid, e.tid, e.comm)) b->cmdline = split_cmdline(*c);
  }
  auto* w = e.get_if<SysctlWrite>();
  // Host values cached for differs_from_host are stale after any write seen.
  if (w && cfg_.births) cfg_.births->host_changed();
  if (discarding_) return;
  if (w && cfg_.readback) {
    admit(std::move(e), false);
    return;
  }
  if (w && cfg_.join_writes) {
    auto it = early_results_.find(w->write_id);
    if (it != early_results_.end() && it->second.tid == e.tid) {
      w->result = WriteOutcome::of_syscall(it->second.ret);
      w->result_source = WriteResultMode::Syscall;
      note_stored(*w);
      early_results_.erase(it);
      admit(std::move(e), true);
      return;
    }
    admit(std::move(e), false);
    return;
  }
  admit(std::move(e), true);
}

void Pipeline::admit(Event&& e, bool ready) {
  // Enriched on arrival: the writer and its container may be gone by the
  // time a held write leaves.
  if (cfg_.enricher) cfg_.enricher->enrich(e);
  if (ready && queue_.empty()) {
    out(e);
    return;
  }
  if (e.is<SysctlWrite>()) writes_.push_back(front_seq_ + queue_.size());
  if (!ready) ++unready_;
  queue_.push_back(Queued{std::move(e), ready, false, 0, std::nullopt});
}

void Pipeline::release() {
  while (!queue_.empty() && queue_.front().ready) {
    Event e = std::move(queue_.front().e);
    queue_.pop_front();
    if (!writes_.empty() && writes_.front() == front_seq_) writes_.pop_front();
    ++front_seq_;
    out(e);
  }
}

void Pipeline::apply_result(const WriteResult& r) {
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

void Pipeline::on_writer_exit(uint32_t tid, NetnsInode netns, uint64_t boot_ns,
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

void Pipeline::expire_writes(uint64_t now_boot_ns, bool all) {
  if (cfg_.readback) {
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

void Pipeline::resolve_readbacks(uint64_t now_boot_ns, bool all) {
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
      after = cfg_.readback->current_value(q.e, Reach::Anyone);
      read = true;
    } else if (!q.writer_exited && (after = cfg_.readback->current_value(q.e, Reach::Writer))) {
      read = true;  // the writer still holds the netns it wrote in
    } else if (cfg_.writer_exits && !q.writer_exited && !all &&
               q.e.boot_ns + kExitWaitNs > now_boot_ns) {
      // The writer is gone: its exit snapshot is in the ring buffer (the
      // kernel sends it before the writer leaves the netns).
      judged = false;
    } else if (gens_.current(q.e.netns) == q.e.netns_id()) {
      // No snapshot (none for this sysctl, lost, or not loaded): anyone still
      // in that netns, unless the inode already names a newer one.
      after = cfg_.readback->current_value(q.e, Reach::Anyone);
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

void Pipeline::feed(Event&& e) { admit(std::move(e), true); }

void Pipeline::out(Event& e) {
  std::vector<Event> follow;
  for (auto& f : cfg_.followers) {
    auto d = f(e);
    follow.insert(follow.end(), std::make_move_iterator(d.begin()), std::make_move_iterator(d.end()));
  }
  if (cfg_.filter.matches(e)) emit(e);
  for (auto& d : follow)
    if (cfg_.filter.matches(d)) emit(d);
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
