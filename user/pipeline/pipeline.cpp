// SPDX-License-Identifier: Apache-2.0
#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <linux/types.h>

#include <optional>

#include "core/error.hpp"
#include "enrich/proc.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

namespace {
PipelineConfig plain(Filter filter, Enricher* enricher, bool join_writes) {
  PipelineConfig c;
  c.filter = std::move(filter);
  c.enricher = enricher;
  c.join_writes = join_writes;
  return c;
}
}  // namespace

Pipeline::Pipeline(PipelineConfig cfg, Sink& sink)
    : cfg_(std::move(cfg)),
      sink_(sink),
      held_(cfg_.readback, cfg_.writer_exits, gens_, [this](Event& e) { out(e); }) {}

Pipeline::Pipeline(Filter filter, Enricher* enricher, Sink& sink, bool join_writes)
    : Pipeline(plain(std::move(filter), enricher, join_writes), sink) {}

void Pipeline::on_writer_exit(uint32_t tid, NetnsInode netns, uint64_t boot_ns,
                              const ValueOf& value_of) {
  held_.on_writer_exit(tid, netns, boot_ns, value_of);
}

void Pipeline::expire_writes(uint64_t now_boot_ns, bool all) { held_.expire(now_boot_ns, all); }

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
    held_.apply_result(*r);
  } else if (auto* c = std::get_if<CgroupChange>(&*d)) {
    if (cfg_.enricher) cfg_.enricher->on_cgroup(*c);
  } else if (auto* x = std::get_if<WriterExit>(&*d)) {
    if (cfg_.births && cfg_.births->calibrated() && x->snapshot && !discarding_)
      held_.on_writer_exit(x->tid, x->netns, x->boot_ns, [&](const std::string& n) {
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
    const bool ready = held_.take_early_result(e.tid, *w);
    admit(std::move(e), ready);
    return;
  }
  admit(std::move(e), true);
}

void Pipeline::admit(Event&& e, bool ready) {
  // Enriched on arrival: the writer and its container may be gone by the
  // time a held write leaves.
  if (cfg_.enricher) cfg_.enricher->enrich(e);
  held_.admit(std::move(e), ready);
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
