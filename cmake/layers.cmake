# SPDX-License-Identifier: Apache-2.0
# The layers under user/ and what each may include (docs/architecture.md).
# One row per layer: "<layer>|<layers it may include, comma-separated>".
# A new layer (a new directory under user/) is one row here; a directory
# with no row, or an include of a layer not in its row, fails the build.
# include/sysctlscope/ (the ABI) may be included by any layer.
set(SS_LAYERS
  "core|"
  "model|core"
  "output|core,model"
  "enrich|core,model"
  "netns|core,model,output,enrich"
  "policy|core,model,enrich,netns"
  "pipeline|core,model,output,enrich,netns"
  "session|core,model,output,enrich,netns,policy,pipeline,bpf,metrics,detect,export"
  "bpf|core,model"
  "forensics|core,model,output,policy,detect"
  "metrics|core,model,output"
  "detect|core,model"
  "export|core,model,output,metrics"
  "cli|core,model,output,enrich,netns,policy,pipeline,bpf,forensics,metrics,detect,export,session"
)

# The table parsed: SS_LAYER_NAMES (every layer) and SS_LAYER_ALLOW_<layer>
# (the layers that row allows). check_layers.cmake checks includes against
# it; layer_libs.cmake makes one library per layer linked along it.
set(SS_LAYER_NAMES "")
foreach(_ss_row IN LISTS SS_LAYERS)
  string(REPLACE "|" ";" _ss_parts "${_ss_row}")
  list(GET _ss_parts 0 _ss_name)
  list(GET _ss_parts 1 _ss_deps)
  string(REPLACE "," ";" SS_LAYER_ALLOW_${_ss_name} "${_ss_deps}")
  list(APPEND SS_LAYER_NAMES ${_ss_name})
endforeach()
