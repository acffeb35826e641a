// SPDX-License-Identifier: Apache-2.0
// Hand-written rather than nlohmann::json::dump(): dump() throws (or, in
// "replace" mode, silently drops information) on invalid UTF-8, and the hot
// output path must not allocate per field. Tested as a property against
// nlohmann's parser (tests/unit/escape_test.cpp).
#include "output/escape.hpp"

#include <cstdio>

namespace sysctlscope {

size_t utf8_sequence(const unsigned char* p, size_t n, uint32_t* cp) {
  if (n == 0) return 0;
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool is_valid_utf8(std::string_view s) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  uint32_t cp;
  for (size_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t l = utf8_sequence(p + i, n - i, &cp);
    if (!l) return false;
    i += l;
  }
  return true;
}

std::string utf8_lossy(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  std::string out;
  out.reserve(n + 8);
  uint32_t cp;
  for (size_t i = 0; i < n;) {
    size_t l = p[i] < 0x80 ? 1 : utf8_sequence(p + i, n - i, &cp);
    if (l) {
      out.append(s.data() + i, l);
      i += l;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD, one per invalid byte (as append_json_string)
      ++i;
    }
  }
  return out;
}

namespace {
constexpr char kHex[] = "0123456789abcdef";

// `prefix` then the byte as two lowercase hex digits ("\\u00" + "1b").
void append_escaped_byte(std::string& out, std::string_view prefix, unsigned char c) {
  out += prefix;
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}
}  // namespace

bool append_json_string(std::string& out, std::string_view bytes) {
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  bool exact = true;
  out.push_back('"');
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // Fast path: copy the run of plain ASCII at once.
      size_t j = i + 1;
      while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\') ++j;
      out.append(bytes.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          append_escaped_byte(out, "\\u00", c);
      }
      ++i;
      continue;
    }
    uint32_t cp;
    size_t l = utf8_sequence(p + i, n - i, &cp);
    if (l) {
      out.append(bytes.data() + i, l);
      i += l;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      exact = false;
      ++i;
    }
  }
  out.push_back('"');
  return exact;
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) append_escaped_byte(out, {}, c);
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int h = nib(hex[i]), l = nib(hex[i + 1]);
    if (h < 0 || l < 0) return std::nullopt;
    out.push_back(static_cast<char>(h << 4 | l));
  }
  return out;
}

namespace {
bool invisible(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls (0x9B is CSI)
         cp == 0xAD ||                      // soft hyphen
         (cp >= 0x200B && cp <= 0x200F) ||  // zero-width, LRM/RLM
         (cp >= 0x2028 && cp <= 0x202E) ||  // separators, bidi embeddings
         (cp >= 0x2060 && cp <= 0x206F) ||  // invisible operators, bidi isolates
         cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}
}  // namespace

void append_terminal_safe(std::string& out, std::string_view bytes) {
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  char buf[16];
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c < 0x80) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        append_escaped_byte(out, "\\x", c);
      }
      ++i;
      continue;
    }
    uint32_t cp;
    size_t l = utf8_sequence(p + i, n - i, &cp);
    if (!l) {
      append_escaped_byte(out, "\\x", c);
      ++i;
    } else if (invisible(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", cp);
      out += buf;
      i += l;
    } else {
      out.append(bytes.data() + i, l);
      i += l;
    }
  }
}

std::string terminal_safe(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  append_terminal_safe(out, bytes);
  return out;
}

}  // namespace sysctlscope
