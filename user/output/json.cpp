// SPDX-License-Identifier: Apache-2.0
// JSON lines writer and reader for events (docs/events.md).
#include <charconv>
#include <stdexcept>

#include "output/escape.hpp"
#include "output/sink.hpp"

namespace sysctlscope {

namespace {

void key(std::string& out, std::string_view k) {
  out.push_back('"');
  out.append(k);
  out += "\":";
}

void num(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void snum(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// "name":"..." and, if bytes are not valid UTF-8, "name_hex":"<exact bytes>".
void value_field(std::string& out, std::string_view name, std::string_view bytes) {
  out.push_back(',');
  key(out, name);
  if (!append_json_string(out, bytes)) {
    out += ",\"";
    out.append(name);
    out += "_hex\":\"";
    out += hex_encode(bytes);
    out.push_back('"');
  }
}

void string_or_null(std::string& out, std::string_view s) {
  if (s.empty())
    out += "null";
  else
    append_json_string(out, s);
}

void container_obj(std::string& out, const std::optional<ContainerInfo>& c) {
  if (!c) {
    out += "null";
    return;
  }
  out += "{\"id\":";
  string_or_null(out, c->id);
  out += ",\"runtime\":";
  string_or_null(out, c->runtime);
  out += ",\"name\":";
  string_or_null(out, c->name);
  out += ",\"pod\":";
  string_or_null(out, c->pod);
  out += ",\"namespace\":";
  string_or_null(out, c->k8s_namespace);
  out += ",\"pod_uid\":";
  string_or_null(out, c->pod_uid);
  out.push_back('}');
}

}  // namespace

void append_event_json(std::string& out, const Event& e) {
  out += "{\"time\":\"";
  out += format_rfc3339(e.time_ns);
  out += "\",\"event\":\"";
  out += to_string(e.type);
  out += "\",\"proc\":";
  if (e.pid == 0 && e.type == EventType::Lost) {
    out += "null,\"cgroup\":null,\"netns\":null";
  } else {
    out += "{\"pid\":";
    num(out, e.pid);
    out += ",\"tid\":";
    num(out, e.tid);
    out += ",\"ppid\":";
    num(out, e.ppid);
    value_field(out, "comm", e.comm);
    out += ",\"uid\":";
    num(out, e.uid);
    out += "},\"cgroup\":{\"id\":";
    num(out, e.cgroup_id);
    out += ",\"path\":";
    string_or_null(out, e.cgroup_path);
    out += "},\"netns\":";
    num(out, e.netns);
  }
  out += ",\"container\":";
  container_obj(out, e.container);
  out += ",\"netns_container\":";
  container_obj(out, e.netns_container);
  out += ",\"cross_namespace\":";
  out += e.cross_namespace ? "true" : "false";

  switch (e.type) {
    case EventType::SysctlRead:
      out += ",\"sysctl\":";
      append_json_string(out, e.sysctl);
      value_field(out, "value", e.value);
      break;
    case EventType::SysctlWrite:
      out += ",\"sysctl\":";
      append_json_string(out, e.sysctl);
      value_field(out, "old_value", e.old_value);
      value_field(out, "value", e.value);
      out += ",\"result\":";
      append_json_string(out, e.result.empty() ? "unknown" : e.result);
      break;
    case EventType::SysctlBlocked:
      out += ",\"sysctl\":";
      append_json_string(out, e.sysctl);
      break;
    case EventType::Lost:
      out += ",\"count\":";
      num(out, e.count);
      break;
    default:
      break;
  }
  if (e.type == EventType::SysctlRead || e.type == EventType::SysctlWrite) {
    out += ",\"file_pos\":";
    snum(out, e.file_pos);
    if (e.value_truncated || e.old_truncated) out += ",\"truncated\":true";
    if (e.value_error) out += ",\"value_error\":true";
  }
  if (!e.extra.empty()) {
    for (auto it = e.extra.begin(); it != e.extra.end(); ++it) {
      out.push_back(',');
      append_json_string(out, it.key());
      out.push_back(':');
      // Extra values are built by us from decoded strings; dump with
      // replacement keeps the line valid even if one slipped through.
      out += it.value().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
  }
  out.push_back('}');
}

std::string event_to_json(const Event& e) {
  std::string s;
  append_event_json(s, e);
  return s;
}

namespace {

std::string bytes_field(const nlohmann::ordered_json& j, const char* name) {
  std::string hex = std::string(name) + "_hex";
  if (auto it = j.find(hex); it != j.end() && it->is_string()) {
    if (auto raw = hex_decode(it->get_ref<const std::string&>())) return *raw;
    throw std::invalid_argument(std::string("field '") + hex + "' is not hex");
  }
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::invalid_argument(std::string("field '") + name + "' is not a string");
  return it->get<std::string>();
}

std::optional<ContainerInfo> container_from(const nlohmann::ordered_json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) throw std::invalid_argument(std::string("field '") + name + "' is not an object");
  ContainerInfo c;
  auto s = [&](const char* k) -> std::string {
    auto f = it->find(k);
    return (f != it->end() && f->is_string()) ? f->get<std::string>() : std::string();
  };
  c.id = s("id");
  c.runtime = s("runtime");
  c.name = s("name");
  c.pod = s("pod");
  c.k8s_namespace = s("namespace");
  c.pod_uid = s("pod_uid");
  return c;
}

template <class T>
T uint_field(const nlohmann::ordered_json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned() && !it->is_number_integer())
    throw std::invalid_argument(std::string("field '") + name + "' is not a number");
  return it->get<T>();
}

}  // namespace

Event event_from_json(const nlohmann::ordered_json& j) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  Event e;
  auto ev = j.find("event");
  if (ev == j.end() || !ev->is_string()) throw std::invalid_argument("no 'event' field");
  auto t = parse_event_type(ev->get<std::string>());
  if (!t) throw std::invalid_argument("unknown event type '" + ev->get<std::string>() + "'");
  e.type = *t;
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
  if (auto x = j.find("cross_namespace"); x != j.end() && x->is_boolean()) e.cross_namespace = x->get<bool>();
  e.sysctl = bytes_field(j, "sysctl");
  if (e.type == EventType::SysctlWrite) {
    e.old_value = bytes_field(j, "old_value");
    e.result = bytes_field(j, "result");
  }
  if (e.type == EventType::SysctlRead || e.type == EventType::SysctlWrite) {
    e.value = bytes_field(j, "value");
    if (auto fp = j.find("file_pos"); fp != j.end() && fp->is_number_integer()) e.file_pos = fp->get<int64_t>();
    if (auto tr = j.find("truncated"); tr != j.end() && tr->is_boolean() && tr->get<bool>())
      e.value_truncated = true;
    if (auto ve = j.find("value_error"); ve != j.end() && ve->is_boolean()) e.value_error = ve->get<bool>();
  }
  if (e.type == EventType::Lost) e.count = uint_field<uint64_t>(j, "count");

  static constexpr std::string_view kCommon[] = {
      "time",     "event",    "proc",     "cgroup",        "netns",       "container",
      "netns_container", "cross_namespace", "sysctl", "value", "value_hex", "old_value",
      "old_value_hex",   "result",          "file_pos", "truncated", "value_error", "count"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool common = false;
    for (auto k : kCommon) common |= (it.key() == k);
    if (!common) e.extra[it.key()] = it.value();
  }
  return e;
}

}  // namespace sysctlscope
