// SPDX-License-Identifier: Apache-2.0
// The Output classes (user/output/output.hpp): each format renders a
// document through its own class, and the -o words of every command.
#include <gtest/gtest.h>

#include <stdexcept>

#include "harness.hpp"
#include "output/output.hpp"

using namespace sysctlscope;

namespace {

// A document with a JSON and a text form, and no HTML one.
struct Doc final : Document {
  void write(JsonOutput& o) const override { o.value({{"a", 1}, {"b", "\xff"}}); }
  void write(TextOutput& o) const override {
    o.text("# head\n");
    o.table({{"NAME", "V"}, {"x", "1"}, {"longer", "22"}});
  }
};

}  // namespace

TEST(Output, EachFormatClassRendersTheDocument) {
  // JSON: one line, invalid UTF-8 replaced rather than thrown.
  EXPECT_EQ(render(Doc{}, Format::Json), "{\"a\":1,\"b\":\"\xef\xbf\xbd\"}\n");
  // Text: columns padded to the widest cell plus two spaces.
  EXPECT_EQ(render(Doc{}, Format::Text),
            "# head\n"
            "NAME    V\n"
            "x       1\n"
            "longer  22\n");
  // A document without an HTML form is refused, never rendered as something else.
  EXPECT_THROW(render(Doc{}, Format::Html), std::logic_error);
}

TEST(Output, FormatWords) {
  EXPECT_EQ(format_named("json"), Format::Json);
  EXPECT_EQ(format_named("table"), Format::Text);
  EXPECT_EQ(format_named("text"), Format::Text);
  EXPECT_EQ(format_named("html"), Format::Html);
  EXPECT_FALSE(format_named("xml"));
}

TEST(Output, CommandsRefuseWordsTheyDoNotOffer) {
  // Each command offers its own words; a word another command accepts is
  // still refused with the command's list.
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"replay", "-o", "html", "x.jsonl"}, "unknown output format 'html' (use json or table)"},
      {{"netns", "list", "-o", "text"}, "unknown output format 'text' (use json or table)"},
      {{"report", "-o", "table", "x.jsonl"},
       "unknown report format 'table' (use text, json or html)"},
      {{"explain", "kernel.pid_max", "-o", "html"},
       "unknown output format 'html' (use json, text or table)"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{sstest::binary()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = sstest::run(argv);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}
