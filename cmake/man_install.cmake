# `cmake --install`: the man page the build made when it is as new as the binary; otherwise (a build of
# the chokepoint target only, as tests/tools/bootstrap.sh demo does) one generated now from the
# binary's --help, beside the build's own so a later build is not disturbed. Run by install(SCRIPT)
# with CHOKEPOINT_BIN, CHOKEPOINT_HELP2MAN, CHOKEPOINT_MAN_PAGE, CHOKEPOINT_MAN_SCRATCH and
# CHOKEPOINT_MAN_DIR set by the top CMakeLists.txt.
set(page "${CHOKEPOINT_MAN_PAGE}")
if(NOT EXISTS "${page}" OR "${CHOKEPOINT_BIN}" IS_NEWER_THAN "${page}")
  set(page "${CHOKEPOINT_MAN_SCRATCH}/chokepoint.1")
  message(STATUS "Generating the man page from --help (the build did not make it)")
  execute_process(COMMAND "${CMAKE_COMMAND}" "-DBIN=${CHOKEPOINT_BIN}" "-DHELP2MAN=${CHOKEPOINT_HELP2MAN}"
                          "-DOUT=${page}" -P "${CMAKE_CURRENT_LIST_DIR}/man.cmake"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "generating the man page failed (${rc})")
  endif()
endif()
set(man_dir "${CHOKEPOINT_MAN_DIR}")
if(NOT IS_ABSOLUTE "${man_dir}")
  set(man_dir "${CMAKE_INSTALL_PREFIX}/${man_dir}")
endif()
file(INSTALL DESTINATION "${man_dir}" TYPE FILE FILES "${page}")
