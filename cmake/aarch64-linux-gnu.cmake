# SPDX-License-Identifier: Apache-2.0
# Cross-build for arm64 with Debian's own cross toolchain (g++-aarch64-linux-gnu)
# and the :arm64 multiarch libraries under /usr/lib/aarch64-linux-gnu
# (scripts/deps.sh --arch arm64 installs both; scripts/build.sh --arch arm64 uses
# this file). The sysroot is / itself: multiarch keeps each architecture's
# libraries apart, and the header-only libraries (CLI11, nlohmann-json) serve both.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# clang (BPF) and bpftool are host programs; libraries and packages are arm64.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config reads only the arm64 .pc files (and the architecture-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
