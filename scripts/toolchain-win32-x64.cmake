# CMake toolchain for the win32-x64 prebuild (scripts/prebuild.sh --platform win32-x64): Debian's
# mingw-w64 compilers with the posix thread model (std::thread). Node-API comes from an import library
# that CMakeLists.txt makes from node-api-headers' .def file with dlltool, so no Windows Node is needed
# to build; FFmpeg, x264 and libyuv come from the cross-built static prefix.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_DLLTOOL x86_64-w64-mingw32-dlltool)
# Libraries and headers from the mingw side only; programs (pkg-config, node) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
