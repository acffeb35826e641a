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
