# CMake toolchain for the linux-arm64 prebuild (scripts/prebuild.sh --arch arm64): Debian's
# crossbuild-essential-arm64 compilers. Node-API needs only headers (node-api-headers), so no arm64
# Node is needed to build; FFmpeg, x264 and libyuv come from the cross-built static prefix.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Libraries and headers from the arm64 side only; programs (pkg-config, node) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
