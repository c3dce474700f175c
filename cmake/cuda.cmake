# CUDA back end of the FFN kernels (profiler/ffn_cuda.*): built when nvcc is found
# (YARDSTICK_CUDA=AUTO), always (ON: a missing nvcc is an error) or never (OFF). It adds
# profiler/ffn_cuda.cu to ys_kernels, tests/ffn_cuda_test.cpp to yardstick_tests and the
# bench_ffn_cuda benchmark, and defines YARDSTICK_HAVE_CUDA=1 for ys_kernels and its users.
# Included at the end of CMakeLists.txt, after the targets it extends.
#
# Without a GPU the back end still builds: ys::profiler::cuda::unavailable_reason() says why it
# cannot run, the tests skip and the benchmark prints a skip line.

set(YARDSTICK_CUDA AUTO CACHE STRING "Build the CUDA kernels: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE YARDSTICK_CUDA PROPERTY STRINGS AUTO ON OFF)

string(TOUPPER "${YARDSTICK_CUDA}" _ys_cuda_mode)
if(NOT _ys_cuda_mode STREQUAL "AUTO")
  if(YARDSTICK_CUDA)
    set(_ys_cuda_mode ON)
  else()
    set(_ys_cuda_mode OFF)
  endif()
endif()

set(_ys_cuda_build OFF)
if(NOT _ys_cuda_mode STREQUAL "OFF")
  # Unless a compiler is chosen (CMAKE_CUDA_COMPILER, CUDACXX): nvcc from PATH, else from the
  # system prefixes, else from the usual install, /usr/local/cuda/bin. check_language() tries it
  # in a scratch project, so a broken toolkit makes AUTO build without CUDA instead of failing.
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(_ys_nvcc nvcc PATHS /usr/local/cuda/bin NO_CACHE)
    if(_ys_nvcc)
      set(ENV{CUDACXX} "${_ys_nvcc}")
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(_ys_cuda_build ON)
  elseif(_ys_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR
      "YARDSTICK_CUDA=ON but no working CUDA compiler (nvcc) was found. Put nvcc on PATH, or "
      "pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc, or configure with -DYARDSTICK_CUDA=AUTO or OFF.")
  endif()
endif()

if(NOT _ys_cuda_build)
  if(_ys_cuda_mode STREQUAL "OFF")
    message(STATUS "CUDA back end: not built (YARDSTICK_CUDA=OFF)")
  else()
    message(STATUS "CUDA back end: not built (no working nvcc found; YARDSTICK_CUDA=AUTO)")
  endif()
  return()
endif()

# Hopper (H100/H200) unless the user picks others, e.g. -DCMAKE_CUDA_ARCHITECTURES="80;90".
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures to build the kernels for")
endif()
# C++17 for the .cu file: nvcc 13 itself accepts C++20 with g++ 12, but CMake 3.25 (Debian 12's;
# the project allows 3.22) knows no C++20 flag for nvcc and fails enable_language() on
# CUDA_STANDARD 20. profiler/ffn_cuda.cu and the headers it includes are C++17.
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# The MoE layer's expert GEMMs use cublasGemmGroupedBatchedEx, new in cuBLAS 12.5 (CUDA 12.5).
if(CUDAToolkit_VERSION VERSION_LESS 12.5)
  if(_ys_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "YARDSTICK_CUDA=ON needs CUDA 12.5 or newer (cuBLAS grouped GEMMs); "
                        "found ${CUDAToolkit_VERSION}")
  endif()
  message(STATUS "CUDA back end: not built (CUDA ${CUDAToolkit_VERSION} < 12.5, which the "
                 "grouped expert GEMMs need)")
  return()
endif()

target_sources(ys_kernels PRIVATE profiler/ffn_cuda.cu)
# ys_kernels was created before CUDA was enabled, so its CUDA properties were not initialised
# from the CMAKE_CUDA_* variables: set them here. The shared runtime, linked explicitly below,
# is the one and only cudart in every program (no cudart_static next to it).
set_target_properties(ys_kernels PROPERTIES
  CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_EXTENSIONS OFF
  CUDA_RUNTIME_LIBRARY Shared)
# A static library: the PRIVATE link items still reach every program that links ys_kernels.
target_link_libraries(ys_kernels PRIVATE CUDA::cudart CUDA::cublas)
target_compile_definitions(ys_kernels PUBLIC YARDSTICK_HAVE_CUDA=1)

# The project's warning flags (YARDSTICK_WARNINGS, set on ys_kernels without a language
# condition) are g++ flags that nvcc rejects: keep them for C++ only. For CUDA, nvcc's own
# warnings are errors, and the host compiler gets the same flags except -Wpedantic, which fails
# on the '# <line>' directives of nvcc's generated host code.
get_target_property(_ys_kernel_options ys_kernels COMPILE_OPTIONS)
if(_ys_kernel_options)
  list(TRANSFORM _ys_kernel_options REPLACE "^(.+)$" "$<$<COMPILE_LANGUAGE:CXX>:\\1>")
  set_property(TARGET ys_kernels PROPERTY COMPILE_OPTIONS ${_ys_kernel_options})
endif()
target_compile_options(ys_kernels PRIVATE
  "$<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>"
  "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Werror,-Wshadow,-Wnon-virtual-dtor>")

message(STATUS "CUDA back end: built with ${CMAKE_CUDA_COMPILER} "
  "(CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")

if(TARGET yardstick_tests)
  target_sources(yardstick_tests PRIVATE tests/ffn_cuda_test.cpp)
endif()

if(YARDSTICK_BUILD_BENCH)
  add_executable(bench_ffn_cuda bench/ffn_cuda_bench.cpp)
  target_compile_options(bench_ffn_cuda PRIVATE ${YARDSTICK_WARNINGS})
  target_link_libraries(bench_ffn_cuda PRIVATE ys_kernels fmt::fmt benchmark::benchmark)
endif()
