# cmake -DIN=text -DOUT=file.cpp -DNAME=kSymbol -P embed_text.cmake
# Writes a C++ source defining `const unsigned char km::NAME[]` (the file's
# bytes, NUL added) and `const size_t km::NAME_size`, so data the engine needs
# at run time is inside the library: no path to find when it runs.
file(READ ${IN} _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _bytes "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _arr "${_hex}")
file(WRITE ${OUT}.tmp "// Generated from ${IN} by native/cmake/embed_text.cmake: do not edit.\n#include <cstddef>\nnamespace km {\nextern const unsigned char ${NAME}[];\nextern const size_t ${NAME}_size;\nconst unsigned char ${NAME}[] = {${_arr}0x00};\nconst size_t ${NAME}_size = ${_bytes};\n}  // namespace km\n")
file(RENAME ${OUT}.tmp ${OUT})
