// SPDX-License-Identifier: Apache-2.0
// Making arbitrary bytes safe: valid JSON/UTF-8 and terminal-safe text.
// Values come from whatever a process wrote into /proc/sys: any byte is possible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sysctlscope {

// Length of the valid UTF-8 sequence at p (1-4), or 0 if the bytes there are
// not one (overlong forms, surrogates and > U+10FFFF are invalid). *cp gets
// the code point.
size_t utf8_sequence(const unsigned char* p, size_t n, uint32_t* cp);
bool is_valid_utf8(std::string_view s);
// `s` with each byte that is not part of valid UTF-8 replaced by U+FFFD: the
// string a JSON reader gets back from append_json_string.
std::string utf8_lossy(std::string_view s);

// Appends `bytes` as a quoted JSON string. Control characters are escaped;
// each byte that is not part of valid UTF-8 becomes U+FFFD. Returns false if
// any byte was replaced (the caller then adds the exact bytes as hex).
bool append_json_string(std::string& out, std::string_view bytes);

std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);

// Text a terminal cannot misinterpret: printable ASCII and printable UTF-8
// pass; '\\' becomes "\\\\"; C0/C1 controls, DEL, bidi and other invisible
// format characters, and invalid bytes become \n, \t, \xNN or \u{NNNN}.
std::string terminal_safe(std::string_view bytes);
void append_terminal_safe(std::string& out, std::string_view bytes);

}  // namespace sysctlscope
