# Extracts the ```cpp blocks of a Markdown file (MARKDOWN) into one program (OUTPUT): #include
# and `using namespace` lines, and blocks that start with struct, template or namespace, go to
# file scope; every other line goes, in order, into the body of main(). The program is built and run in
# CI: the docs' code is code.
file(READ ${MARKDOWN} text)
string(REPLACE ";" "<semicolon>" text "${text}")  # CMake lists split at ';'
string(REPLACE "[" "<open>" text "${text}")       # and at unbalanced brackets
string(REPLACE "]" "<close>" text "${text}")
string(REGEX MATCHALL "```cpp\n[^`]*```" blocks "${text}")
set(head "// Generated from ${MARKDOWN} by docs/snippets.cmake.\n")
set(body "")
foreach(block IN LISTS blocks)
  string(REGEX REPLACE "^```cpp\n" "" block "${block}")
  string(REGEX REPLACE "```$" "" block "${block}")
  set(file_scope OFF)
  if(block MATCHES "^(struct|template|namespace)")
    set(file_scope ON)
  endif()
  string(REPLACE "\n" ";" lines "${block}")
  foreach(line IN LISTS lines)
    string(REPLACE "<semicolon>" ";" line "${line}")
    string(REPLACE "<open>" "[" line "${line}")
    string(REPLACE "<close>" "]" line "${line}")
    if(file_scope OR line MATCHES "^#include|^using namespace")
      string(APPEND head "${line}\n")
    elseif(NOT line STREQUAL "")
      string(APPEND body "  ${line}\n")
    endif()
  endforeach()
endforeach()
file(WRITE ${OUTPUT} "${head}\nint main() {\n${body}}\n")
