# Build cost (#24): tests/bench/build_cost.sh measures it. Every translation unit includes
# nlohmann/json and fmt (core/model.hpp, the probes' snapshots): parsed once into a precompiled
# header instead of once per file. In a unity build (CMAKE_UNITY_BUILD, top CMakeLists.txt) the few
# batches share one header's parse anyway; the library keeps its precompiled header there for
# main.cpp's sake, a target compiled as one batch gets none.
option(CHOKEPOINT_PCH "Precompile the standard library, nlohmann/json, fmt and simdjson headers" ON)

if(CHOKEPOINT_PCH)
  set(CHOKEPOINT_PCH_STD <algorithm> <chrono> <cmath> <cstdint> <functional> <map> <memory> <optional> <set>
                         <string> <string_view> <utility> <vector>)
  target_precompile_headers(chokepoint_lib PRIVATE ${CHOKEPOINT_PCH_STD} <nlohmann/json.hpp> <fmt/format.h>)
  target_precompile_headers(chokepoint REUSE_FROM chokepoint_lib)
  # The trace readers have flags of their own (-msse4.2 …): a header precompiled without them cannot
  # be used there, and simdjson.h stays out of every other file.
  get_target_property(readers_unity chokepoint_trace_readers UNITY_BUILD)
  if(NOT readers_unity)
    target_precompile_headers(chokepoint_trace_readers PRIVATE ${CHOKEPOINT_PCH_STD} <simdjson.h> <fmt/format.h>)
  endif()
endif()
