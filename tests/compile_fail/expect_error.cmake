# Compiles SOURCE and expects failure. The file's "// expect: <regex>" lines must all match the
# compiler's output, and the output must hold exactly one "error:" (no cascade). Then compiles its
# twin (the same file with TAPELESS_TWIN defined, where the misuse is corrected) and expects
# success: a file that fails for another reason (a typo, a missing include) cannot pass.
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
set(include_flags)
foreach(dir IN LISTS INCLUDES)
  list(APPEND include_flags -I${dir})
endforeach()
execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${SOURCE}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
foreach(line IN LISTS expectations)
  string(REPLACE "// expect: " "" regex "${line}")
  if(NOT all MATCHES "${regex}")
    message(FATAL_ERROR "expected /${regex}/ in the diagnostic of ${SOURCE}; got:\n${all}")
  endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${all}")
list(LENGTH errors n)
string(LENGTH "${all}" length)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected exactly one error in ${SOURCE}, got ${n}:\n${all}")
endif()
message(STATUS "${SOURCE}: one error, ${length} characters of diagnostic")
execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only -DTAPELESS_TWIN ${include_flags} ${SOURCE}
  RESULT_VARIABLE twin_result OUTPUT_VARIABLE twin_out ERROR_VARIABLE twin_err)
if(NOT twin_result EQUAL 0)
  message(FATAL_ERROR "the twin of ${SOURCE} (-DTAPELESS_TWIN) must compile; got:\n${twin_out}${twin_err}")
endif()
message(STATUS "${SOURCE}: its twin compiles")
