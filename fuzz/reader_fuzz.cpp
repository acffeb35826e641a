// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the recording reader and every report rendering on
// arbitrary bytes. A clean UsageError is the only acceptable failure.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "forensics/recording.hpp"
#include "forensics/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sysctlscope;
  using namespace sysctlscope::forensics;
  Recording rec;
  try {
    parse_recording(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.jsonl", rec);
  } catch (const UsageError&) {
    return 0;
  }
  Report r = build_report(rec);
  (void)render_text(r);
  (void)render_json(r);
  (void)render_html(r);
  return 0;
}
