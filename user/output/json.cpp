// SPDX-License-Identifier: Apache-2.0
// JSON lines writer and reader for events (docs/events.md). Both walk the
// registry's field lists (model/event_types.hpp): one visit per event picks
// the type, then every field is a direct, inlined call.
#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"
#include "model/rfc3339.hpp"
#include "output/escape.hpp"
#include "output/sink.hpp"

namespace sysctlscope {

namespace {

// A literal without the strlen() of `out += "..."` (the hot path).
template <size_t N>
void lit(std::string& out, const char (&s)[N]) {
  out.append(s, N - 1);
}

void key(std::string& out, std::string_view k) {
  out.push_back('"');
  out.append(k);
  lit(out, "\":");
}

template <class T>
void num(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// "name":"..." and, if bytes are not valid UTF-8, "name_hex":"<exact bytes>".
void value_field(std::string& out, std::string_view name, std::string_view bytes) {
  out.push_back(',');
  key(out, name);
  if (!append_json_string(out, bytes)) {
    lit(out, ",\"");
    out.append(name);
    lit(out, "_hex\":\"");
    out += hex_encode(bytes);
    out.push_back('"');
  }
}

void string_or_null(std::string& out, std::string_view s) {
  if (s.empty())
    lit(out, "null");
  else
    append_json_string(out, s);
}

void container_obj(std::string& out, const std::optional<ContainerInfo>& c) {
  if (!c) {
    lit(out, "null");
    return;
  }
  lit(out, "{\"id\":");
  string_or_null(out, c->id);
  lit(out, ",\"runtime\":");
  string_or_null(out, name_of(c->runtime));
  lit(out, ",\"name\":");
  string_or_null(out, c->name);
  lit(out, ",\"pod\":");
  string_or_null(out, c->pod);
  lit(out, ",\"namespace\":");
  string_or_null(out, c->k8s_namespace);
  lit(out, ",\"pod_uid\":");
  string_or_null(out, c->pod_uid);
  out.push_back('}');
}

// The type's fields, as fields() lists them.
struct JsonWriter {
  std::string& out;
  // Members a reader kept verbatim because they had an unexpected JSON type
  // (event_from_json): written back as they were, so not written typed.
  std::string_view verbatim;

  bool kept(std::string_view k) const {
    if (verbatim.empty()) return false;  // always, but for odd replayed lines
    for (size_t at = verbatim.find(k); at != std::string_view::npos; at = verbatim.find(k, at + 1))
      if (at >= 2 && verbatim.compare(at - 2, 2, ",\"") == 0 &&
          verbatim.compare(at + k.size(), 2, "\":") == 0)
        return true;
    return false;
  }

  void key(std::string_view k) {
    lit(out, ",\"");
    out.append(k.data(), k.size());
    lit(out, "\":");
  }
  void text(std::string_view k, const std::string& v) {
    if (kept(k)) return;
    key(k);
    append_json_string(out, v);
  }
  void text_or(std::string_view k, const std::string& v, std::string_view dflt) {
    if (kept(k)) return;
    key(k);
    append_json_string(out, v.empty() ? dflt : std::string_view(v));
  }
  void opt_text(std::string_view k, const std::string& v) {
    if (!v.empty()) text(k, v);
  }
  template <class E>
  void word(std::string_view k, E v) {
    if (kept(k)) return;
    key(k);
    append_json_string(out, name_of(v));
  }
  template <class E>
  void opt_word(std::string_view k, const std::optional<E>& v) {
    if (v) word(k, *v);
  }
  void outcome(std::string_view k, WriteOutcome v) {
    if (kept(k)) return;
    key(k);
    if (v.status == WriteStatus::Failed)
      append_json_string(out, errno_name(v.err));
    else
      append_json_string(out, name_of(v.status));
  }
  void bytes(std::string_view k, const std::string& v) {
    if (!kept(k)) value_field(out, k, v);
  }
  void opt_bytes(std::string_view k, const std::string& v) {
    if (!v.empty()) bytes(k, v);
  }
  template <class T>
  void num(std::string_view k, T v) {
    if (kept(k)) return;
    key(k);
    sysctlscope::num(out, v);
  }
  void opt_num(std::string_view k, const std::optional<uint64_t>& v) {
    if (v) num(k, *v);
  }
  void inode(std::string_view k, uint32_t v) {
    if (kept(k)) return;
    key(k);
    if (v)
      sysctlscope::num(out, v);
    else
      lit(out, "null");
  }
  void flag(std::string_view k, bool v) {
    if (!v || kept(k)) return;
    key(k);
    lit(out, "true");
  }
  void truncation(std::string_view k, const std::string&, bool a, const std::string&, bool b) {
    flag(k, a || b);
  }
  void texts(std::string_view k, const std::vector<std::string>& v, Empty empty) {
    if ((v.empty() && empty == Empty::Omit) || kept(k)) return;
    key(k);
    if (v.empty() && empty == Empty::Null) {
      lit(out, "null");
      return;
    }
    out.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, v[i]);
    }
    out.push_back(']');
  }
  void text_map(std::string_view k,
                const std::optional<std::vector<std::pair<std::string, std::string>>>& m) {
    if (!m || kept(k)) return;
    key(k);
    out.push_back('{');
    for (size_t i = 0; i < m->size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, (*m)[i].first);
      out.push_back(':');
      append_json_string(out, (*m)[i].second);
    }
    out.push_back('}');
  }
  void host_diffs(std::string_view k, const std::optional<std::vector<HostDiff>>& d) {
    if (!d || kept(k)) return;
    key(k);
    out.push_back('[');
    for (size_t i = 0; i < d->size(); ++i) {
      const HostDiff& x = (*d)[i];
      out += i ? ",{\"sysctl\":" : "{\"sysctl\":";
      append_json_string(out, x.sysctl);
      lit(out, ",\"value\":");
      append_json_string(out, x.value);
      lit(out, ",\"host\":");
      append_json_string(out, x.host);
      out.push_back('}');
    }
    out.push_back(']');
  }
};

}  // namespace

void append_event_json(std::string& out, const Event& e) {
  lit(out, "{\"time\":\"");
  append_rfc3339(out, e.time_ns);
  lit(out, "\",\"event\":\"");
  out += to_string(e.type());
  lit(out, "\",\"proc\":");
  if (!has_actor(e)) {
    lit(out, "null,\"cgroup\":null,\"netns\":");
    if (e.netns)
      num(out, e.netns);
    else
      lit(out, "null");
  } else {
    lit(out, "{\"pid\":");
    num(out, e.pid);
    lit(out, ",\"tid\":");
    num(out, e.tid);
    lit(out, ",\"ppid\":");
    num(out, e.ppid);
    value_field(out, "comm", e.comm);
    lit(out, ",\"uid\":");
    num(out, e.uid);
    lit(out, "},\"cgroup\":{\"id\":");
    num(out, e.cgroup_id);
    lit(out, ",\"path\":");
    string_or_null(out, e.cgroup_path);
    lit(out, "},\"netns\":");
    num(out, e.netns);
  }
  lit(out, ",\"container\":");
  container_obj(out, e.container);
  lit(out, ",\"netns_container\":");
  container_obj(out, e.netns_container);
  lit(out, ",\"cross_namespace\":");
  if (e.cross_namespace)
    lit(out, "true");
  else
    lit(out, "false");
  JsonWriter w{out, e.unknown_json};
  std::visit([&](const auto& p) { std::decay_t<decltype(p)>::fields(w, p); }, e.data);
  if (!e.unknown_json.empty()) out += e.unknown_json;
  out.push_back('}');
}

std::string event_to_json(const Event& e) {
  std::string s;
  append_event_json(s, e);
  return s;
}

namespace {

std::string bytes_field(const nlohmann::ordered_json& j, std::string_view name) {
  std::string hex = std::string(name) + "_hex";
  if (auto it = j.find(hex); it != j.end() && it->is_string()) {
    if (auto raw = hex_decode(it->get_ref<const std::string&>())) return *raw;
    throw std::invalid_argument("field '" + hex + "' is not hex");
  }
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string())
    throw std::invalid_argument("field '" + std::string(name) + "' is not a string");
  return it->get<std::string>();
}

std::optional<ContainerInfo> container_from(const nlohmann::ordered_json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object())
    throw std::invalid_argument(std::string("field '") + name + "' is not an object");
  ContainerInfo c;
  auto s = [&](const char* k) -> std::string {
    auto f = it->find(k);
    return (f != it->end() && f->is_string()) ? f->get<std::string>() : std::string();
  };
  c.id = s("id");
  c.runtime = parse_runtime(s("runtime"));
  c.name = s("name");
  c.pod = s("pod");
  c.k8s_namespace = s("namespace");
  c.pod_uid = s("pod_uid");
  return c;
}

template <class T>
T uint_field(const nlohmann::ordered_json& obj, std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned() && !it->is_number_integer())
    throw std::invalid_argument("field '" + std::string(name) + "' is not a number");
  return it->get<T>();
}

// Fills a payload from its JSON fields, noting which members it used. A
// member of the wrong JSON type is not used: it stays in the event verbatim
// (Event::unknown_json), as every type-specific member did before the
// registry, so a damaged or foreign field never costs the whole event.
struct JsonReader {
  using Json = nlohmann::ordered_json;
  const Json& j;
  std::vector<std::string> used;

  // The member `k` if present with the wanted type (nullptr otherwise);
  // absent, null and well-typed members count as used.
  template <class Pred>
  const Json* take(std::string_view k, Pred ok) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) {
      used.emplace_back(k);
      return nullptr;
    }
    if (!ok(*it)) return nullptr;
    used.emplace_back(k);
    return &*it;
  }
  void text(std::string_view k, std::string& v) {
    const std::string hex = std::string(k) + "_hex";
    if (auto* h = take(hex, [](const Json& x) { return x.is_string(); })) {
      auto raw = hex_decode(h->get_ref<const std::string&>());
      if (!raw) throw std::invalid_argument("field '" + hex + "' is not hex");
      v = std::move(*raw);
      used.emplace_back(k);  // the U+FFFD form of the same bytes
      return;
    }
    if (auto* x = take(k, [](const Json& y) { return y.is_string(); })) v = x->get<std::string>();
  }
  void text_or(std::string_view k, std::string& v, std::string_view) { text(k, v); }
  void opt_text(std::string_view k, std::string& v) { text(k, v); }
  // A word outside the vocabulary is not used: kept verbatim, like a member
  // of the wrong JSON type.
  template <class E>
  void word(std::string_view k, E& v) {
    std::optional<E> w;
    if (take(k, [&](const Json& y) { return y.is_string() && (w = parse_name<E>(y.get_ref<const std::string&>())); }))
      v = *w;
  }
  template <class E>
  void opt_word(std::string_view k, std::optional<E>& v) {
    std::optional<E> w;
    if (take(k, [&](const Json& y) { return y.is_string() && (w = parse_name<E>(y.get_ref<const std::string&>())); }))
      v = w;
  }
  void outcome(std::string_view k, WriteOutcome& v) {
    std::optional<WriteOutcome> w;
    if (take(k, [&](const Json& y) { return y.is_string() && (w = parse_write_outcome(y.get_ref<const std::string&>())); }))
      v = *w;
  }
  void bytes(std::string_view k, std::string& v) { text(k, v); }
  void opt_bytes(std::string_view k, std::string& v) { bytes(k, v); }
  template <class T>
  void num(std::string_view k, T& v) {
    if (auto* x = take(k, [](const Json& y) { return y.is_number_integer(); }))
      v = x->template get<T>();
  }
  void opt_num(std::string_view k, std::optional<uint64_t>& v) {
    if (auto* x = take(k, [](const Json& y) { return y.is_number_unsigned(); }))
      v = x->get<uint64_t>();
  }
  void inode(std::string_view k, uint32_t& v) { num(k, v); }
  void flag(std::string_view k, bool& v) {
    auto* x = take(k, [](const Json& y) { return y.is_boolean(); });
    v = x && x->get<bool>();
  }
  // One `truncated` flag covers both values of a write. The kernel cuts a
  // value at exactly kValueCapture bytes, and an old value (as /proc printed
  // it, newline removed) that is whole is shorter: so a cut old value is one
  // of that length, and the new value was cut when the old one was not, or
  // when it has that length too.
  void truncation(std::string_view k, const std::string& a, bool& at, const std::string& b,
                  bool& bt) {
    bool any = false;
    flag(k, any);
    at = any && a.size() >= kValueCapture;
    bt = any && (!at || b.size() >= kValueCapture);
  }
  void texts(std::string_view k, std::vector<std::string>& v, Empty) {
    if (auto* x = take(k, [](const Json& y) { return y.is_array(); }))
      for (const auto& e : *x)
        if (e.is_string()) v.push_back(e.get<std::string>());
  }
  void text_map(std::string_view k,
                std::optional<std::vector<std::pair<std::string, std::string>>>& m) {
    auto* x = take(k, [](const Json& y) { return y.is_object(); });
    if (!x) return;
    m.emplace();
    for (auto it = x->begin(); it != x->end(); ++it)
      if (it->is_string()) m->emplace_back(it.key(), it->get<std::string>());
  }
  void host_diffs(std::string_view k, std::optional<std::vector<HostDiff>>& d) {
    auto* x = take(k, [](const Json& y) { return y.is_array(); });
    if (!x) return;
    d.emplace();
    auto s = [](const Json& o, const char* f) {
      auto it = o.find(f);
      return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    for (const auto& e : *x)
      if (e.is_object()) d->push_back({s(e, "sysctl"), s(e, "value"), s(e, "host")});
  }
};

template <class T>
void read_payload(const nlohmann::ordered_json&, Event& e, JsonReader& r) {
  T& p = e.data.emplace<T>();
  T::fields(r, p);
}

using ReadFn = void (*)(const nlohmann::ordered_json&, Event&, JsonReader&);
constexpr auto kReaders =
    registry_table([](auto t) -> ReadFn { return &read_payload<typename decltype(t)::type>; });

}  // namespace

Expected<Event> parse_event(const nlohmann::ordered_json& j) {
  try {
    return event_from_json(j);
  } catch (const std::exception& e) {  // invalid_argument, or json's type errors
    return Error(e.what(), "");
  }
}

Event event_from_json(const nlohmann::ordered_json& j) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  Event e;
  auto ev = j.find("event");
  if (ev == j.end() || !ev->is_string()) throw std::invalid_argument("no 'event' field");
  auto t = parse_event_type(ev->get<std::string>());
  if (!t) throw std::invalid_argument("unknown event type '" + ev->get<std::string>() + "'");
  auto tm = j.find("time");
  if (tm == j.end() || !tm->is_string()) throw std::invalid_argument("no 'time' field");
  auto ns = parse_rfc3339(tm->get<std::string>());
  if (!ns) throw std::invalid_argument("bad 'time' field");
  e.time_ns = *ns;
  if (auto p = j.find("proc"); p != j.end() && p->is_object()) {
    e.pid = uint_field<uint32_t>(*p, "pid");
    e.tid = uint_field<uint32_t>(*p, "tid");
    e.ppid = uint_field<uint32_t>(*p, "ppid");
    e.uid = uint_field<uint32_t>(*p, "uid");
    e.comm = bytes_field(*p, "comm");
  }
  if (auto c = j.find("cgroup"); c != j.end() && c->is_object()) {
    e.cgroup_id = uint_field<uint64_t>(*c, "id");
    e.cgroup_path = bytes_field(*c, "path");
  }
  e.netns = uint_field<uint32_t>(j, "netns");
  e.container = container_from(j, "container");
  e.netns_container = container_from(j, "netns_container");
  if (auto x = j.find("cross_namespace"); x != j.end() && x->is_boolean())
    e.cross_namespace = x->get<bool>();
  JsonReader r{j, {}};
  kReaders[index_of(*t)](j, e, r);

  // Members neither common nor the type's: kept verbatim for replay.
  static constexpr std::string_view kCommon[] = {
      "time",      "event",           "proc",           "cgroup", "netns",
      "container", "netns_container", "cross_namespace"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto k : kCommon) known |= it.key() == k;
    for (const auto& k : r.used) known |= it.key() == k;
    if (known) continue;
    e.unknown_json.push_back(',');
    append_json_string(e.unknown_json, it.key());
    e.unknown_json.push_back(':');
    e.unknown_json +=
        it.value().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return e;
}

}  // namespace sysctlscope
