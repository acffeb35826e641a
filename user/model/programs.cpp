// SPDX-License-Identifier: Apache-2.0
#include "model/programs.hpp"

#include "model/decode.hpp"
#include "model/event_types.hpp"

namespace sysctlscope {

std::vector<ProgramUse> registered_programs() {
  std::vector<ProgramUse> uses;
  auto add = [&](std::span<const ProgramGroup* const> groups, uint32_t records) {
    for (const ProgramGroup* g : groups) {
      auto it = uses.begin();
      while (it != uses.end() && it->group != g) ++it;
      if (it == uses.end())
        uses.push_back({g, records});
      else
        it->records |= records;
    }
  };
  for_each_event_type([&](auto t) {
    constexpr TypeInfo i = decltype(t)::type::kInfo;
    static_assert(i.record != 0 || i.programs.empty(), "programs make a kernel record");
    if constexpr (i.record != 0) add(i.programs, SS_TYPE_BIT(i.record));
  });
  for_each_record_type([&](auto t) {
    using T = typename decltype(t)::type;
    add(T::kPrograms, T::kRecords);
  });
  return uses;
}

}  // namespace sysctlscope
