# Installs tapeless into a scratch prefix, then configures and builds a consumer project that
# finds it with find_package(tapeless COMPONENTS io) and runs both its programs: one on the core
# target, one on tapeless::io. Asking for a component that does not exist must fail, naming it.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT r EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV}\n${o}\n${e}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib -DCMAKE_CXX_COMPILER=${CXX}
    -DTAPELESS_BUILD_TESTS=OFF -DTAPELESS_BUILD_EXAMPLES=OFF
    -DTAPELESS_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/app -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
run(${WORK_DIR}/app/consumer)
run(${WORK_DIR}/app/consumer_io ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/bad
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DTAPELESS_COMPONENTS=gpu
  RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(r EQUAL 0 OR NOT "${o}${e}" MATCHES "no component 'gpu'")
  message(FATAL_ERROR "find_package(tapeless COMPONENTS gpu) did not fail naming the component:\n${o}\n${e}")
endif()
