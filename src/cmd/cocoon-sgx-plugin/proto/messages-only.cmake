# Copies the API definition without its service blocks, for protoc-c:
# protoc-c would name the Registration.Register method `register`, a C
# keyword, and the plugin does its own gRPC dispatch, so it needs only the
# messages. Wire format is unaffected. Usage: cmake -DIN=.. -DOUT=.. -P this
file(READ "${IN}" text)
string(REGEX REPLACE "\n[ \t]*rpc [^\n]*" "" text "${text}")
string(REGEX REPLACE "service [A-Za-z0-9_]+ {[^}]*}" "" text "${text}")
if(text MATCHES "service |rpc ")
  message(FATAL_ERROR "messages-only.cmake: could not strip the services from ${IN}")
endif()
file(WRITE "${OUT}" "${text}")
