// SPDX-License-Identifier: Apache-2.0
// The session's built-in stages (session.hpp), one per capability, in the
// order Session assembles them. A new capability is one class here (its
// hooks in stages.cpp) and one line in Session's constructor.
#pragma once

#include <memory>

#include "session/session.hpp"

namespace sysctlscope::session {

// --metrics-addr: counts what reaches the output; /healthz is 200 from the
// "Tracing" line until the last drain.
std::unique_ptr<Stage> metrics_stage();
// --otlp-endpoint: tees the output's events to the exporter's thread.
std::unique_ptr<Stage> otlp_stage();
// Always: cgroup paths and containers (the enricher), --container in the
// kernel when it is exact.
std::unique_ptr<Stage> containers_stage();
// --policy: the drift judge, --enforce's kernel map.
std::unique_ptr<Stage> policy_stage();
// --rules: detection events follow the event that caused them.
std::unique_ptr<Stage> detect_stage();
// --write-results readback: results by reading the sysctl back.
std::unique_ptr<Stage> readback_stage();
// Birth snapshots of new netns (when the plan loads them): calibration on a
// throwaway netns of our own before "Tracing".
std::unique_ptr<Stage> births_stage();

}  // namespace sysctlscope::session
