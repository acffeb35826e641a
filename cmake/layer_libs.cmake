# SPDX-License-Identifier: Apache-2.0
# One static library per layer, made from the table in layers.cmake: used by
# the main build (CMakeLists.txt) and the fuzzer's (fuzz/CMakeLists.txt), so
# a source added to or moved between layers needs no list edited anywhere.
#
# The caller sets SS_SOURCE_DIR (the repository), SS_GEN_DIR (generated
# headers), SS_LAYER_OPTIONS (private compile options) and finds the
# external packages of the layers it builds (SS_LAYER_LIBS_<layer> below).
include(${CMAKE_CURRENT_LIST_DIR}/layers.cmake)

# The libraries each layer's sources include, by imported target. Linked
# PUBLIC: spdlog and nlohmann_json bring compile definitions that every
# translation unit including them must share.
set(SS_LAYER_LIBS_model nlohmann_json::nlohmann_json)
set(SS_LAYER_LIBS_output nlohmann_json::nlohmann_json)
set(SS_LAYER_LIBS_enrich nlohmann_json::nlohmann_json spdlog::spdlog)
set(SS_LAYER_LIBS_netns nlohmann_json::nlohmann_json PkgConfig::LIBBPF ZLIB::ZLIB)
set(SS_LAYER_LIBS_policy spdlog::spdlog)
set(SS_LAYER_LIBS_detect nlohmann_json::nlohmann_json)
set(SS_LAYER_LIBS_pipeline spdlog::spdlog)
set(SS_LAYER_LIBS_session spdlog::spdlog Threads::Threads)
set(SS_LAYER_LIBS_bpf PkgConfig::LIBBPF spdlog::spdlog)
set(SS_LAYER_LIBS_forensics nlohmann_json::nlohmann_json)
set(SS_LAYER_LIBS_metrics PkgConfig::HTTPLIB Threads::Threads)
set(SS_LAYER_LIBS_export nlohmann_json::nlohmann_json PkgConfig::HTTPLIB spdlog::spdlog Threads::Threads)
set(SS_LAYER_LIBS_cli CLI11::CLI11 spdlog::spdlog Threads::Threads)

# user/<layer>/*.cpp, except user/cli/main.cpp (the binary's).
function(ss_layer_sources layer out)
  file(GLOB srcs CONFIGURE_DEPENDS ${SS_SOURCE_DIR}/user/${layer}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX "/user/cli/main\\.cpp$")
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()

# The layers named and every layer they may include, transitively.
function(ss_layer_closure out)
  set(todo ${ARGN})
  set(seen "")
  while(todo)
    list(POP_FRONT todo l)
    if(NOT l IN_LIST seen)
      list(APPEND seen ${l})
      list(APPEND todo ${SS_LAYER_ALLOW_${l}})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# ss_add_layers(<layer>...): the library ss_<layer> of each layer named and
# of each layer they may include. ss_<layer> links (PUBLIC) exactly the
# libraries of its row, and its include path holds only its own directory
# (build/layer_include/<layer>/<layer> -> user/<layer>); a dependant sees its
# dependencies' directories through the links. So an include of a layer its
# row cannot reach fails to compile: the row is the only way in. (A direct
# include of a layer reached only through another row is check_layers'.)
function(ss_add_layers)
  ss_layer_closure(layers ${ARGN})
  foreach(l IN LISTS layers)
    ss_layer_sources(${l} srcs)
    set(inc ${CMAKE_BINARY_DIR}/layer_include/${l})
    if(NOT IS_SYMLINK ${inc}/${l})
      file(MAKE_DIRECTORY ${inc})
      file(CREATE_LINK ${SS_SOURCE_DIR}/user/${l} ${inc}/${l} SYMBOLIC)
    endif()
    foreach(lib IN LISTS SS_LAYER_LIBS_${l})
      if(NOT TARGET ${lib})
        message(FATAL_ERROR "layer ${l} needs ${lib}: find its package before ss_add_layers")
      endif()
    endforeach()
    if(srcs)
      add_library(ss_${l} STATIC ${srcs})
      target_include_directories(ss_${l} PUBLIC ${inc} ${SS_SOURCE_DIR}/include ${SS_GEN_DIR})
      target_compile_options(ss_${l} PRIVATE ${SS_LAYER_OPTIONS})
      target_link_libraries(ss_${l} PUBLIC ${SS_LAYER_LIBS_${l}})
    else()  # headers only
      add_library(ss_${l} INTERFACE)
      target_include_directories(ss_${l} INTERFACE ${inc} ${SS_SOURCE_DIR}/include ${SS_GEN_DIR})
      target_link_libraries(ss_${l} INTERFACE ${SS_LAYER_LIBS_${l}})
    endif()
  endforeach()
  foreach(l IN LISTS layers)
    get_target_property(kind ss_${l} TYPE)
    set(scope PUBLIC)
    if(kind STREQUAL "INTERFACE_LIBRARY")
      set(scope INTERFACE)
    endif()
    foreach(d IN LISTS SS_LAYER_ALLOW_${l})
      target_link_libraries(ss_${l} ${scope} ss_${d})
    endforeach()
  endforeach()
  set(SS_LAYER_TARGETS ${layers} PARENT_SCOPE)
endfunction()

# The rule packs (rules/*.json) built into the binary: <gen>/detect/
# builtin_packs.hpp holds each file's text (user/detect/rules.cpp parses it
# like a user's file).
function(ss_builtin_packs gen)
  file(GLOB packs CONFIGURE_DEPENDS ${SS_SOURCE_DIR}/rules/*.json)
  list(SORT packs)
  set(hpp "// Generated from rules/*.json by cmake/layer_libs.cmake: do not edit.\n#pragma once\n#include <string_view>\nnamespace sysctlscope::detect {\nstruct BuiltinPack { std::string_view name, json; };\ninline constexpr BuiltinPack kBuiltinPacks[] = {\n")
  foreach(pack ${packs})
    get_filename_component(stem ${pack} NAME_WE)
    file(READ ${pack} text)
    string(APPEND hpp "  {\"${stem}\", R\"SSPACK(${text})SSPACK\"},\n")
  endforeach()
  string(APPEND hpp "};\n}  // namespace sysctlscope::detect\n")
  file(CONFIGURE OUTPUT ${gen}/detect/builtin_packs.hpp CONTENT "${hpp}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${packs})
endfunction()
