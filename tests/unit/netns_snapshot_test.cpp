// SPDX-License-Identifier: Apache-2.0
// Birth-snapshot decoding without a kernel: synthetic records and field
// locations go through calibration (units, HZ) and decoding, as
// bpf/netns.bpf.c and BtfLocator would produce them.
#include <gtest/gtest.h>
#include <linux/types.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "netns/snapshot.hpp"
#include "sysctlscope/event.h"

using sysctlscope::netns::FieldLoc;
using sysctlscope::netns::FieldLocs;
using sysctlscope::netns::SnapshotDecoder;
using sysctlscope::netns::SysctlMap;
using sysctlscope::netns::SysctlValue;

namespace {

constexpr unsigned kHz = 250;

// A record with every part "captured" at full size, zero-filled.
std::unique_ptr<ss_netns_create_event> record() {
  auto r = std::make_unique<ss_netns_create_event>();
  std::memset(r.get(), 0, sizeof(*r));
  r->hdr.type = SS_EV_NETNS_CREATE;
  r->part_len[SS_SNAP_NET] = SS_SNAP_NET_MAX;
  r->part_len[SS_SNAP_DEVCONF4_ALL] = SS_SNAP_DC4_MAX;
  r->part_len[SS_SNAP_DEVCONF4_DFLT] = SS_SNAP_DC4_MAX;
  r->part_len[SS_SNAP_DEVCONF6_ALL] = SS_SNAP_DC6_MAX;
  r->part_len[SS_SNAP_DEVCONF6_DFLT] = SS_SNAP_DC6_MAX;
  return r;
}

template <typename T>
void put(ss_netns_create_event& r, uint32_t part_off, uint32_t off, T v) {
  std::memcpy(r.snap + part_off + off, &v, sizeof v);
}

void put_cc(ss_netns_create_event& r, const std::string& name) {
  std::memcpy(r.snap + SS_SNAP_CC_OFF, name.data(), name.size());
  r.part_len[SS_SNAP_CC_NAME] = static_cast<uint32_t>(name.size());
}

FieldLoc loc(int part, uint32_t off, uint32_t size, uint32_t count = 1, bool is_signed = true,
             FieldLoc::Kind kind = FieldLoc::Kind::Int) {
  FieldLoc l;
  l.part = part;
  l.offset = off;
  l.elem_size = size;
  l.count = count;
  l.is_signed = is_signed;
  l.kind = kind;
  return l;
}

FieldLocs locations() {
  FieldLocs m;
  m["net.ipv4.tcp_keepalive_time"] = loc(SS_SNAP_NET, 0, 4);         // proc_dointvec_jiffies
  m["net.ipv4.tcp_rmem"] = loc(SS_SNAP_NET, 8, 4, 3);                // int[3]
  m["net.ipv4.tcp_syncookies"] = loc(SS_SNAP_NET, 20, 1, 1, false);  // u8
  m["net.ipv6.route.gc_min_interval_ms"] = loc(SS_SNAP_NET, 24, 4);  // proc_dointvec_ms_jiffies
  m["net.ipv4.neigh.default.base_reachable_time"] = loc(SS_SNAP_NET, 28, 4);  // USER_HZ
  m["net.ipv4.ip_local_port_range"] =
      loc(SS_SNAP_NET, 32, 4, 1, false, FieldLoc::Kind::PortRange16);
  m["net.ipv4.ping_group_range"] = loc(SS_SNAP_NET, 36, 4, 2, false, FieldLoc::Kind::PairU32);
  m["net.ipv4.tcp_fastopen_blackhole_timeout_sec"] = loc(SS_SNAP_NET, 44, 4);  // 0 at birth
  m["net.ipv4.conf.all.rp_filter"] = loc(SS_SNAP_DEVCONF4_ALL, 4, 4);
  m["net.ipv6.conf.default.accept_ra"] = loc(SS_SNAP_DEVCONF6_DFLT, 8, 4);
  m["net.ipv4.tcp_min_snd_mss"] = loc(SS_SNAP_NET, 48, 4);            // raw cannot explain proc
  m["net.ipv4.icmp_ratelimit_neg"] = loc(SS_SNAP_NET, 52, 4);         // negative, plain
  m["net.ipv4.far_away"] = loc(SS_SNAP_NET, SS_SNAP_NET_MAX - 2, 4);  // beyond the part
  m["net.ipv4.tcp_congestion_control"] =
      loc(SS_SNAP_CC_NAME, 0, 0, 1, true, FieldLoc::Kind::CongestionControl);
  m["net.core.xfrm_acq_expires"] = loc(SS_SNAP_NET, 56, 4);
  return m;
}

// The calibration netns: the record and what /proc printed in it.
std::unique_ptr<ss_netns_create_event> fresh_record() {
  auto r = record();
  put<int32_t>(*r, SS_SNAP_NET_OFF, 0, 7200 * kHz);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 8, 4096);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 12, 131072);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 16, 6291456);
  put<uint8_t>(*r, SS_SNAP_NET_OFF, 20, 1);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 24, kHz / 2);   // 500 ms
  put<int32_t>(*r, SS_SNAP_NET_OFF, 28, 30 * kHz);  // 30 s -> 3000 USER_HZ ticks
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 32, (60999u << 16) | 32768u);
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 36, 1);
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 40, 0);
  put<int32_t>(*r, SS_SNAP_DC4_ALL_OFF, 4, 2);
  put<int32_t>(*r, SS_SNAP_DC6_DFLT_OFF, 8, 1);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 48, 5);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 52, -1);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 56, 30);
  put_cc(*r, "cubic");
  return r;
}

SysctlMap fresh_proc() {
  SysctlMap m;
  m["net.ipv4.tcp_keepalive_time"] = {"7200"};
  m["net.ipv4.tcp_rmem"] = {"4096\t131072\t6291456"};
  m["net.ipv4.tcp_syncookies"] = {"1"};
  m["net.ipv6.route.gc_min_interval_ms"] = {"500"};
  m["net.ipv4.neigh.default.base_reachable_time"] = {"3000"};
  m["net.ipv4.ip_local_port_range"] = {"32768\t60999"};
  m["net.ipv4.ping_group_range"] = {"1\t0"};
  m["net.ipv4.tcp_fastopen_blackhole_timeout_sec"] = {"0"};
  m["net.ipv4.conf.all.rp_filter"] = {"2"};
  m["net.ipv6.conf.default.accept_ra"] = {"1"};
  m["net.ipv4.tcp_min_snd_mss"] = {"48"};
  m["net.ipv4.icmp_ratelimit_neg"] = {"-1"};
  m["net.ipv4.far_away"] = {"7"};
  m["net.ipv4.tcp_congestion_control"] = {"cubic"};
  m["net.core.xfrm_acq_expires"] = {"30"};
  m["net.ipv4.tcp_fastopen_key"] = {"00000000-00000000-00000000-00000000"};  // no location
  m["net.ipv6.route.flush"] = {"", 13};                                      // unreadable: ignored
  return m;
}

SnapshotDecoder calibrated() {
  SnapshotDecoder d;
  d.calibrate(*fresh_record(), fresh_proc(), locations());
  return d;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST(NetnsSnapshot, CalibrationRoundTripsEveryMappedValue) {
  auto d = calibrated();
  ASSERT_TRUE(d.calibrated());
  EXPECT_EQ(d.hz(), kHz);  // 1800000 jiffies / 7200 s
  auto res = d.decode(*fresh_record());
  SysctlMap proc = fresh_proc();
  for (const auto& [name, v] : res.defaults) EXPECT_EQ(v, proc.at(name).value) << name;
  EXPECT_EQ(res.defaults.size(), 13u);
  std::vector<std::string> want_unmapped = {"net.ipv4.far_away", "net.ipv4.tcp_fastopen_key",
                                            "net.ipv4.tcp_min_snd_mss"};
  auto got = res.unmapped;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want_unmapped);
  EXPECT_FALSE(res.defaults.count("net.ipv6.route.flush"));
  EXPECT_FALSE(contains(res.unmapped, "net.ipv6.route.flush"));
}

// A later birth with other values: decoded with the learned units, not copied.
TEST(NetnsSnapshot, LaterBirthsUseTheLearnedUnits) {
  auto d = calibrated();
  auto r = fresh_record();
  put<int32_t>(*r, SS_SNAP_NET_OFF, 0, 600 * kHz);  // jiffies
  put<int32_t>(*r, SS_SNAP_NET_OFF, 16, 4194304);   // third element only
  put<uint8_t>(*r, SS_SNAP_NET_OFF, 20, 2);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 24, kHz * 3);   // 3000 ms
  put<int32_t>(*r, SS_SNAP_NET_OFF, 28, 45 * kHz);  // 4500 USER_HZ ticks
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 32, (2000u << 16) | 1024u);
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 36, 0);
  put<uint32_t>(*r, SS_SNAP_NET_OFF, 40, 2147483647u);
  put<int32_t>(*r, SS_SNAP_DC4_ALL_OFF, 4, 0);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 52, -7);
  put_cc(*r, "reno");
  auto res = d.decode(*r);
  EXPECT_EQ(res.defaults["net.ipv4.tcp_keepalive_time"], "600");
  EXPECT_EQ(res.defaults["net.ipv4.tcp_rmem"], "4096\t131072\t4194304");
  EXPECT_EQ(res.defaults["net.ipv4.tcp_syncookies"], "2");
  EXPECT_EQ(res.defaults["net.ipv6.route.gc_min_interval_ms"], "3000");
  EXPECT_EQ(res.defaults["net.ipv4.neigh.default.base_reachable_time"], "4500");
  EXPECT_EQ(res.defaults["net.ipv4.ip_local_port_range"], "1024\t2000");
  EXPECT_EQ(res.defaults["net.ipv4.ping_group_range"], "0\t2147483647");
  EXPECT_EQ(res.defaults["net.ipv4.conf.all.rp_filter"], "0");
  EXPECT_EQ(res.defaults["net.ipv4.icmp_ratelimit_neg"], "-7");
  EXPECT_EQ(res.defaults["net.ipv4.tcp_congestion_control"], "reno");
}

// A field that was 0 at calibration has no known unit: 0 is 0 in every unit,
// anything else is reported unmapped rather than guessed.
TEST(NetnsSnapshot, ZeroAtCalibrationIsNotGuessedLater) {
  auto d = calibrated();
  auto r = fresh_record();
  EXPECT_EQ(d.decode(*r).defaults.at("net.ipv4.tcp_fastopen_blackhole_timeout_sec"), "0");
  put<int32_t>(*r, SS_SNAP_NET_OFF, 44, 3600);
  auto res = d.decode(*r);
  EXPECT_FALSE(res.defaults.count("net.ipv4.tcp_fastopen_blackhole_timeout_sec"));
  EXPECT_TRUE(contains(res.unmapped, "net.ipv4.tcp_fastopen_blackhole_timeout_sec"));
}

// Parts the kernel could not copy (or cut short) make their names unmapped.
TEST(NetnsSnapshot, MissingPartsAndCongestionControlAreUnmapped) {
  auto d = calibrated();
  auto r = fresh_record();
  r->part_len[SS_SNAP_DEVCONF6_DFLT] = 0;  // e.g. IPv6 disabled
  r->part_len[SS_SNAP_CC_NAME] = 0;
  r->part_len[SS_SNAP_NET] = 30;  // cut inside the fields after offset 30
  auto res = d.decode(*r);
  for (const char* n :
       {"net.ipv6.conf.default.accept_ra", "net.ipv4.tcp_congestion_control",
        "net.ipv4.ip_local_port_range", "net.ipv4.neigh.default.base_reachable_time"}) {
    EXPECT_FALSE(res.defaults.count(n)) << n;
    EXPECT_TRUE(contains(res.unmapped, n)) << n;
  }
  EXPECT_EQ(res.defaults["net.ipv4.tcp_rmem"], "4096\t131072\t6291456");  // ends at 20 <= 30
  EXPECT_EQ(res.defaults["net.ipv6.route.gc_min_interval_ms"], "500");    // ends at 28 <= 30
}

// Without a non-zero jiffies reference HZ is unknown: only plain values map.
TEST(NetnsSnapshot, NoHzReferenceMeansNoTimeConversions) {
  auto proc = fresh_proc();
  proc.erase("net.ipv4.tcp_keepalive_time");
  SnapshotDecoder d;
  d.calibrate(*fresh_record(), proc, locations());
  EXPECT_EQ(d.hz(), 0u);
  auto res = d.decode(*fresh_record());
  EXPECT_TRUE(contains(res.unmapped, "net.ipv6.route.gc_min_interval_ms"));
  EXPECT_TRUE(contains(res.unmapped, "net.ipv4.neigh.default.base_reachable_time"));
  EXPECT_EQ(res.defaults["net.ipv4.tcp_rmem"], "4096\t131072\t6291456");
}

// HZ is derived, not assumed: a 1000 Hz kernel decodes the same /proc text.
TEST(NetnsSnapshot, HzIsDerivedFromTheKeepaliveReference) {
  auto r = fresh_record();
  put<int32_t>(*r, SS_SNAP_NET_OFF, 0, 7200 * 1000);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 24, 500);
  put<int32_t>(*r, SS_SNAP_NET_OFF, 28, 30 * 1000);
  SnapshotDecoder d;
  d.calibrate(*r, fresh_proc(), locations());
  EXPECT_EQ(d.hz(), 1000u);
  auto res = d.decode(*r);
  EXPECT_EQ(res.defaults["net.ipv6.route.gc_min_interval_ms"], "500");
  EXPECT_EQ(res.defaults["net.ipv4.neigh.default.base_reachable_time"], "3000");
}

// A netns owned by a new user namespace lacks some tables: they are neither
// defaults nor unmapped there, and stay for other records.
TEST(NetnsSnapshot, ChildUserNamespaceHidesUnregisteredTables) {
  auto d = calibrated();
  d.set_hidden_in_child_userns({"net.core.xfrm_acq_expires", "net.ipv4.tcp_fastopen_key"});
  auto r = fresh_record();
  EXPECT_EQ(d.decode(*r).defaults.count("net.core.xfrm_acq_expires"), 1u);
  r->flags = SS_NETNS_F_CHILD_USERNS;
  auto res = d.decode(*r);
  EXPECT_EQ(res.defaults.count("net.core.xfrm_acq_expires"), 0u);
  EXPECT_FALSE(contains(res.unmapped, "net.ipv4.tcp_fastopen_key"));
  EXPECT_TRUE(contains(res.unmapped, "net.ipv4.tcp_min_snd_mss"));
  EXPECT_EQ(res.defaults["net.ipv4.tcp_keepalive_time"], "7200");
}

// Issue 19: pointer-decided values, hash sizes, bitmaps, neigh unres_qlen,
// globals and the reasons of what stays unmapped.
TEST(NetnsSnapshot, PointersHashesBitmapsQlenGlobalsAndReasons) {
  using K = FieldLoc::Kind;
  FieldLocs locs = locations();
  locs["net.ipv4.tcp_fastopen_key"] = loc(SS_SNAP_NET, 64, 8, 1, false, K::NullPointer);
  locs["net.netfilter.nf_log.2"] = loc(SS_SNAP_NET, 72, 8, 1, false, K::StaticPointer);
  locs["net.ipv4.tcp_ehash_entries"] = loc(SS_SNAP_TCP_HASH, 8 + 16, 4, 1, false, K::HashEntries);
  locs["net.ipv4.udp_hash_entries"] = loc(SS_SNAP_UDP_TABLE, 8 + 24, 4, 1, false, K::HashEntries);
  locs["net.ipv6.icmp.ratemask"] = loc(SS_SNAP_NET, 80, 8, 4, false, K::BitmapList);
  FieldLoc q = loc(SS_SNAP_NEIGH4_LO, 40, 4, 1, true, K::QlenBytes);
  q.div = 2090;
  locs["net.ipv4.neigh.lo.unres_qlen"] = q;
  locs["net.ipv4.neigh.lo.unres_qlen_bytes"] = loc(SS_SNAP_NEIGH4_LO, 40, 4);

  auto fill = [](ss_netns_create_event& r, uint64_t fastopen, uint64_t logger, uint64_t tcp_table,
                 uint32_t tcp_mask, uint64_t udp_table, uint32_t qlen_bytes) {
    put<uint64_t>(r, SS_SNAP_NET_OFF, 64, fastopen);
    put<uint64_t>(r, SS_SNAP_NET_OFF, 72, logger);
    r.part_len[SS_SNAP_TCP_HASH] = SS_SNAP_HASH_MAX;
    put<uint64_t>(r, SS_SNAP_TCP_HASH_OFF, 0, tcp_table);
    put<uint32_t>(r, SS_SNAP_TCP_HASH_OFF, 8 + 16, tcp_mask);
    r.part_len[SS_SNAP_UDP_TABLE] = SS_SNAP_HASH_MAX;
    put<uint64_t>(r, SS_SNAP_UDP_TABLE_OFF, 0, udp_table);
    put<uint32_t>(r, SS_SNAP_UDP_TABLE_OFF, 8 + 24, 16383);
    put<uint64_t>(r, SS_SNAP_NET_OFF, 80, ~uint64_t{0} & ~uint64_t{4});  // bits 0-1, 3-63
    put<uint64_t>(r, SS_SNAP_NET_OFF, 88, ~uint64_t{0});                 // 64-127
    r.part_len[SS_SNAP_NEIGH4_LO] = SS_SNAP_NEIGH_MAX;
    put<int32_t>(r, SS_SNAP_NEIGH4_LO_OFF, 40, static_cast<int32_t>(qlen_bytes));
  };
  auto fresh = fresh_record();
  fill(*fresh, 0, 0xffffffff8a000000ull, 0xffffffff8b000000ull, 262143, 0xffffffff8c000000ull,
       212992);
  SysctlMap proc = fresh_proc();
  proc["net.netfilter.nf_log.2"] = {"nf_log_ipv4"};
  proc["net.ipv4.tcp_ehash_entries"] = {"-262144"};
  proc["net.ipv4.udp_hash_entries"] = {"-16384"};
  proc["net.ipv6.icmp.ratemask"] = {"0-1,3-127"};
  proc["net.ipv4.neigh.lo.unres_qlen"] = {"101"};
  proc["net.ipv4.neigh.lo.unres_qlen_bytes"] = {"212992"};
  proc["net.core.rmem_max"] = {"212992"};  // global: no location needed
  proc["net.mptcp.enabled"] = {"1"};       // no location: unmapped, with the reason
  SnapshotDecoder d;
  d.calibrate(*fresh, proc, locs);

  auto same = fresh_record();
  fill(*same, 0, 0xffffffff8a000000ull, 0xffffffff8b000000ull, 262143, 0xffffffff8c000000ull,
       212992);
  auto res = d.decode(*same);
  EXPECT_EQ(res.defaults["net.ipv4.tcp_fastopen_key"], "00000000-00000000-00000000-00000000");
  EXPECT_EQ(res.defaults["net.netfilter.nf_log.2"], "nf_log_ipv4");
  EXPECT_EQ(res.defaults["net.ipv4.tcp_ehash_entries"], "-262144");
  EXPECT_EQ(res.defaults["net.ipv4.udp_hash_entries"], "-16384");
  EXPECT_EQ(res.defaults["net.ipv6.icmp.ratemask"], "0-1,3-127");
  EXPECT_EQ(res.defaults["net.ipv4.neigh.lo.unres_qlen"], "101");
  EXPECT_EQ(res.global, std::vector<std::string>{"net.core.rmem_max"});
  EXPECT_FALSE(res.defaults.count("net.core.rmem_max"));
  ASSERT_TRUE(contains(res.unmapped, "net.mptcp.enabled"));
  EXPECT_NE(res.unmapped_reasons["net.mptcp.enabled"].find("net_generic"), std::string::npos);

  // A netns with its own TCP table (tcp_child_ehash_entries), a key already
  // set and another logger: positive size; the unseen pointers are unmapped.
  auto other = fresh_record();
  fill(*other, 0xffff888812340000ull, 0xffffffff8d000000ull, 0xffff888800001000ull, 1023,
       0xffffffff8c000000ull, 2090 * 7);
  res = d.decode(*other);
  EXPECT_EQ(res.defaults["net.ipv4.tcp_ehash_entries"], "1024");
  EXPECT_EQ(res.defaults["net.ipv4.neigh.lo.unres_qlen"], "7");
  EXPECT_FALSE(res.defaults.count("net.ipv4.tcp_fastopen_key"));
  EXPECT_FALSE(res.defaults.count("net.netfilter.nf_log.2"));
  EXPECT_TRUE(contains(res.unmapped, "net.ipv4.tcp_fastopen_key"));
  EXPECT_TRUE(contains(res.unmapped, "net.netfilter.nf_log.2"));
}

TEST(NetnsSnapshot, HashSizeUnknowableWhenTheCalibrationNetnsHadItsOwnTable) {
  FieldLocs locs;
  locs["net.ipv4.tcp_ehash_entries"] =
      loc(SS_SNAP_TCP_HASH, 8 + 16, 4, 1, false, FieldLoc::Kind::HashEntries);
  auto fresh = record();
  fresh->part_len[SS_SNAP_TCP_HASH] = SS_SNAP_HASH_MAX;
  put<uint64_t>(*fresh, SS_SNAP_TCP_HASH_OFF, 0, 0xffff888800001000ull);
  put<uint32_t>(*fresh, SS_SNAP_TCP_HASH_OFF, 8 + 16, 1023);
  SysctlMap proc;
  proc["net.ipv4.tcp_ehash_entries"] = {"1024"};  // positive: its own table, the shared one unknown
  SnapshotDecoder d;
  d.calibrate(*fresh, proc, locs);
  auto res = d.decode(*fresh);
  EXPECT_FALSE(res.defaults.count("net.ipv4.tcp_ehash_entries"));
  EXPECT_TRUE(contains(res.unmapped, "net.ipv4.tcp_ehash_entries"));
}

namespace {
// Slot `slot` of the SS_SNAP_GEN part: head (or deref) bytes at `off`.
uint32_t gen_at(int slot, uint32_t off, bool deref = false) {
  return SS_GEN_MASKS + static_cast<uint32_t>(slot) * SS_GEN_SLOT_BYTES +
         (deref ? SS_GEN_HEAD : 0) + off;
}
void gen_ok(ss_netns_create_event& r, int slot, bool deref = false) {
  uint64_t m;
  std::memcpy(&m, r.snap + SS_SNAP_GEN_OFF + (deref ? 8 : 0), 8);
  m |= 1ull << slot;
  std::memcpy(r.snap + SS_SNAP_GEN_OFF + (deref ? 8 : 0), &m, 8);
}
FieldLoc gen_loc(const char* gen, uint32_t off, uint32_t size,
                 FieldLoc::Kind kind = FieldLoc::Kind::Int, uint32_t count = 1,
                 bool deref = false) {
  FieldLoc l = loc(SS_SNAP_GEN, off, size, count, false, kind);
  l.gen_struct = gen;
  l.gen_deref = deref;
  return l;
}
}  // namespace

// Issue 19: structures behind net_generic() (mptcp, br_netfilter,
// nf_defrag_ipv6) are found by their values in the calibration netns: the
// one slot where every name prints as /proc did, with at least one non-zero
// value. Zero-only matches, two matching slots or a slot the kernel could not
// read never decode.
TEST(NetnsSnapshot, NetGenericSlotsAreFoundByTheirValues) {
  using K = FieldLoc::Kind;
  FieldLocs locs = locations();
  locs["net.mptcp.add_addr_timeout"] = gen_loc("mptcp_pernet", 8, 4);  // jiffies
  locs["net.mptcp.stale_loss_cnt"] = gen_loc("mptcp_pernet", 20, 4);
  locs["net.mptcp.scheduler"] = gen_loc("mptcp_pernet", 44, 1, K::CString, 16);
  locs["net.netfilter.nf_conntrack_frag6_timeout"] =
      gen_loc("nft_ct_frag6_pernet", 16, 4, K::Int, 1, true);
  locs["net.bridge.bridge-nf-call-iptables"] = gen_loc("brnf_net", 16, 4);  // twice: ambiguous
  locs["net.netfilter.nf_conntrack_count"] = loc(SS_SNAP_NET, 0, 0, 1, false, K::ZeroAtBirth);
  locs["net.ipv4.ip_local_reserved_ports"] = loc(SS_SNAP_NET, 0, 0, 1, false, K::EmptyAtBirth);

  auto fill = [](ss_netns_create_event& r, uint32_t timeout_s, uint32_t frag_s) {
    r.part_len[SS_SNAP_GEN] = SS_GEN_MASKS + 10 * SS_GEN_SLOT_BYTES;  // ten slots
    // A decoy: the same stale_loss_cnt, another timeout.
    gen_ok(r, 2);
    put<uint32_t>(r, SS_SNAP_GEN_OFF, gen_at(2, 8), 30 * kHz);
    put<uint32_t>(r, SS_SNAP_GEN_OFF, gen_at(2, 20), 4);
    // mptcp_pernet in slot 7.
    gen_ok(r, 7);
    put<uint32_t>(r, SS_SNAP_GEN_OFF, gen_at(7, 8), timeout_s * kHz);
    put<uint32_t>(r, SS_SNAP_GEN_OFF, gen_at(7, 20), 4);
    std::memcpy(r.snap + SS_SNAP_GEN_OFF + gen_at(7, 44), "default", 8);
    // nft_ct_frag6_pernet's fqdir in slot 5.
    gen_ok(r, 5);
    gen_ok(r, 5, true);
    put<int32_t>(r, SS_SNAP_GEN_OFF, gen_at(5, 16, true), static_cast<int32_t>(frag_s * kHz));
    // brnf_net's call_iptables = 1 in two slots.
    gen_ok(r, 3);
    gen_ok(r, 4);
    put<int32_t>(r, SS_SNAP_GEN_OFF, gen_at(3, 16), 1);
    put<int32_t>(r, SS_SNAP_GEN_OFF, gen_at(4, 16), 1);
  };
  auto fresh = fresh_record();
  fill(*fresh, 120, 60);
  SysctlMap proc = fresh_proc();
  proc["net.mptcp.add_addr_timeout"] = {"120"};
  proc["net.mptcp.stale_loss_cnt"] = {"4"};
  proc["net.mptcp.scheduler"] = {"default"};
  proc["net.netfilter.nf_conntrack_frag6_timeout"] = {"60"};
  proc["net.bridge.bridge-nf-call-iptables"] = {"1"};
  proc["net.netfilter.nf_conntrack_count"] = {"0"};
  proc["net.ipv4.ip_local_reserved_ports"] = {""};
  SnapshotDecoder d;
  d.calibrate(*fresh, proc, locs);

  auto born = fresh_record();
  fill(*born, 45, 30);
  auto res = d.decode(*born);
  EXPECT_EQ(res.defaults["net.mptcp.add_addr_timeout"], "45");  // slot 7's, not the decoy's 30
  EXPECT_EQ(res.defaults["net.mptcp.stale_loss_cnt"], "4");
  EXPECT_EQ(res.defaults["net.mptcp.scheduler"], "default");
  EXPECT_EQ(res.defaults["net.netfilter.nf_conntrack_frag6_timeout"], "30");
  EXPECT_EQ(res.defaults["net.netfilter.nf_conntrack_count"], "0");
  EXPECT_EQ(res.defaults["net.ipv4.ip_local_reserved_ports"], "");
  ASSERT_TRUE(contains(res.unmapped, "net.bridge.bridge-nf-call-iptables"));
  EXPECT_NE(res.unmapped_reasons["net.bridge.bridge-nf-call-iptables"].find("2 slots"),
            std::string::npos);

  // The kernel could not read slot 7 this time: mptcp is unmapped, not zeros.
  auto unread = fresh_record();
  fill(*unread, 45, 30);
  uint64_t mask;
  std::memcpy(&mask, unread->snap + SS_SNAP_GEN_OFF, 8);
  mask &= ~(1ull << 7);
  std::memcpy(unread->snap + SS_SNAP_GEN_OFF, &mask, 8);
  res = d.decode(*unread);
  EXPECT_FALSE(res.defaults.count("net.mptcp.add_addr_timeout"));
  EXPECT_TRUE(contains(res.unmapped, "net.mptcp.add_addr_timeout"));
  EXPECT_EQ(res.defaults["net.netfilter.nf_conntrack_frag6_timeout"], "30");

  // A writer's exit snapshot: a live counter is not known to be 0 there, nor
  // the reserved ports empty.
  auto exit_rec = fresh_record();
  fill(*exit_rec, 45, 30);
  exit_rec->hdr.type = SS_EV_WRITER_EXIT;
  res = d.decode(*exit_rec);
  EXPECT_FALSE(res.defaults.count("net.netfilter.nf_conntrack_count"));
  EXPECT_FALSE(res.defaults.count("net.ipv4.ip_local_reserved_ports"));
  EXPECT_EQ(res.defaults["net.mptcp.add_addr_timeout"], "45");
}

// A calibration whose only matches are zeros proves nothing: unmapped.
TEST(NetnsSnapshot, NetGenericZeroOnlyMatchIsNotASlot) {
  FieldLocs locs = locations();
  locs["net.bridge.bridge-nf-filter-vlan-tagged"] = gen_loc("brnf_net", 28, 4);
  auto fresh = fresh_record();
  fresh->part_len[SS_SNAP_GEN] = SS_GEN_MASKS + 4 * SS_GEN_SLOT_BYTES;
  gen_ok(*fresh, 3);
  SysctlMap proc = fresh_proc();
  proc["net.bridge.bridge-nf-filter-vlan-tagged"] = {"0"};
  SnapshotDecoder d;
  d.calibrate(*fresh, proc, locs);
  auto res = d.decode(*fresh);
  EXPECT_FALSE(res.defaults.count("net.bridge.bridge-nf-filter-vlan-tagged"));
  ASSERT_TRUE(contains(res.unmapped, "net.bridge.bridge-nf-filter-vlan-tagged"));
  EXPECT_NE(res.unmapped_reasons["net.bridge.bridge-nf-filter-vlan-tagged"].find("no slot"),
            std::string::npos);
}
