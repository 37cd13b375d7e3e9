# Generates the man page from the binary's own --help (help2man), with each command's --help as a
# section of its own. Run at build time: cmake -DBIN=… -DHELP2MAN=… -DOUT=… -P cmake/man.cmake
set(include_file "${OUT}.include")
file(WRITE "${include_file}" "[SEE ALSO]\nCONTRACT.md and report.schema.json, installed in share/chokepoint/ of the install prefix: the\ncommands, flags, exit codes and JSON report that scripts and CI pipelines rely on.\n\n")
foreach(command diagnose compare rules)
  execute_process(COMMAND "${BIN}" ${command} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} ${command} --help exited ${rc}")
  endif()
  string(REPLACE "\\" "\\e" help "${help}")
  string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" help "${help}")
  string(TOUPPER "${command}" title)
  file(APPEND "${include_file}" "[COMMAND ${title}]\n.nf\n${help}\n.fi\n\n")
endforeach()
execute_process(COMMAND "${HELP2MAN}" --no-info --no-discard-stderr --section=1
                        "--name=find where a backend's bottleneck is before paying to scale it"
                        "--include=${include_file}" "--output=${OUT}" "${BIN}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed (${rc})")
endif()
