// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <random>

#include "model/event.hpp"
#include "output/escape.hpp"
#include "output/sink.hpp"

using namespace sysctlscope;

namespace {
std::string random_bytes(std::mt19937_64& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255), kind(0, 3);
  std::string s(len(rng), '\0');
  for (auto& c : s) {
    // Bias toward the interesting ranges: controls, ASCII, UTF-8 lead bytes.
    switch (kind(rng)) {
      case 0:
        c = static_cast<char>(byte(rng) & 0x1f);
        break;
      case 1:
        c = static_cast<char>(0x20 + byte(rng) % 0x5f);
        break;
      default:
        c = static_cast<char>(byte(rng));
    }
  }
  return s;
}
}  // namespace

TEST(Escape, JsonStringIsValidAndRoundTripsForRandomBytes) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string in = random_bytes(rng, 64);
    std::string out;
    bool exact = append_json_string(out, in);
    ASSERT_TRUE(is_valid_utf8(out)) << hex_encode(in);
    nlohmann::json j = nlohmann::json::parse(out);  // throws on invalid JSON
    ASSERT_TRUE(j.is_string());
    if (exact) {
      EXPECT_EQ(j.get<std::string>(), in);
    } else {
      EXPECT_FALSE(is_valid_utf8(in));
    }
    EXPECT_EQ(exact, is_valid_utf8(in)) << hex_encode(in);
  }
}

TEST(Escape, EventValuesRoundTripThroughJsonWithHexFallback) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 5000; ++i) {
    Event e(SysctlWrite{.sysctl = "net.ipv4.tcp_keepalive_time",
                        .old_value = random_bytes(rng, 40),
                        .value = random_bytes(rng, 40),
                        .result = *parse_write_outcome("ok")});
    e.time_ns = 1700000000123456789ull;
    e.pid = 42;
    e.comm = random_bytes(rng, 15);
    std::string line = event_to_json(e);
    ASSERT_TRUE(is_valid_utf8(line));
    auto j = nlohmann::ordered_json::parse(line);
    Event back = event_from_json(j);
    EXPECT_EQ(back.as<SysctlWrite>(), e.as<SysctlWrite>());
    EXPECT_EQ(back.comm, e.comm);
    EXPECT_EQ(back.time_ns, e.time_ns);
    EXPECT_EQ(j.contains("value_hex"), !is_valid_utf8(e.as<SysctlWrite>().value));
  }
}

TEST(Escape, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("héllo €𝄞"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // cut sequence
}

TEST(Escape, TerminalSafeNeutralisesControlSequences) {
  EXPECT_EQ(terminal_safe("600"), "600");
  EXPECT_EQ(terminal_safe("4096\t131072\t6291456"), "4096\\t131072\\t6291456");
  EXPECT_EQ(terminal_safe("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(terminal_safe("a\\b"), "a\\\\b");
  EXPECT_EQ(terminal_safe("\xC2\x9B"
                          "31m"),
            "\\u{009B}31m");  // C1 CSI
  EXPECT_EQ(terminal_safe("\xE2\x80\xAE"
                          "evil"),
            "\\u{202E}evil");  // RLO
  EXPECT_EQ(terminal_safe("\xff"), "\\xff");
  EXPECT_EQ(terminal_safe("caf\xC3\xA9"), "caf\xC3\xA9");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string s = terminal_safe(random_bytes(rng, 64));
    for (unsigned char c : s) ASSERT_TRUE(c >= 0x20 && c != 0x7f) << s;
    ASSERT_TRUE(is_valid_utf8(s));
  }
}

TEST(Escape, HexRoundTrip) {
  EXPECT_EQ(hex_encode(std::string("\x00\xff", 2)), "00ff");
  EXPECT_EQ(*hex_decode("00ff"), std::string("\x00\xff", 2));
  EXPECT_FALSE(hex_decode("0"));
  EXPECT_FALSE(hex_decode("zz"));
}
