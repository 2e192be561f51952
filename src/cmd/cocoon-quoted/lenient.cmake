# Makes the lenient copy of the AESM messages that cocoon-quoted parses
# requests with: package aesm.lenient, every `required` relaxed to
# `optional`. protobuf-c refuses to unpack a message that lacks a required
# field; the daemon must instead answer it with AESM_UNEXPECTED_ERROR, as
# AESM does, so it checks required fields itself against the strict
# descriptors. The wire format is unchanged. Usage: cmake -DIN=.. -DOUT=.. -P this
file(READ "${IN}" text)
string(REPLACE "package aesm.message;" "package aesm.lenient;" text "${text}")
string(REGEX REPLACE "([ \t\n])required([ \t])" "\\1optional\\2" text "${text}")
if(NOT text MATCHES "package aesm.lenient;" OR text MATCHES "[ \t\n]required[ \t]")
  message(FATAL_ERROR "lenient.cmake: could not relax ${IN}")
endif()
file(WRITE "${OUT}" "${text}")
