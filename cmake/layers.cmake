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
  "bpf|core"
  "forensics|core,model,output,policy,detect"
  "metrics|core,model,output"
  "detect|core,model"
  "export|core,model,output,metrics"
  "cli|core,model,output,enrich,netns,policy,pipeline,bpf,forensics,metrics,detect,export,session"
)
