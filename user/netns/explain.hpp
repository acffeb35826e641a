// SPDX-License-Identifier: Apache-2.0
// `sysctlscope explain NAME`: which namespace holds a sysctl, what a new netns
// gets, whether Kubernetes calls it safe, and how to set it for a container.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sysctlscope::netns {

// Throws UsageError ("unknown sysctl ... closest: ...") for a name that does
// not exist under /proc/sys.
nlohmann::ordered_json explain_sysctl(const std::string& name);
std::string explanation_text(const nlohmann::ordered_json& e);

// "unknown sysctl 'x' (closest: a, b, c)" from the names under /proc/sys.
std::string unknown_name_message(const std::string& dotted, const std::vector<std::string>& all);

}  // namespace sysctlscope::netns
