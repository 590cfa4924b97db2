# embed.cmake - turns a file of the source tree into a C array, at build time.
#
# Included by the root CMakeLists.txt, it defines
#   ola_embed(TARGET FILE NAME)
# which adds a custom command generating ${CMAKE_BINARY_DIR}/embed/NAME.c from
# FILE (re-run whenever FILE changes) and adds it to TARGET. The generated file
# defines
#   const char NAME[];          /* the bytes of FILE, then a NUL */
#   const size_t NAME_len;      /* the number of bytes of FILE */
# Run as a script (cmake -DIN=FILE -DOUT=OUT.c -DNAME=NAME -P embed.cmake) it
# writes that file: pure CMake (file(READ ... HEX)), so no xxd is needed. The
# source file stays the one source of truth; nothing generated is committed.

if(CMAKE_SCRIPT_MODE_FILE)
    if(NOT IN OR NOT OUT OR NOT NAME)
        message(FATAL_ERROR "embed.cmake: set IN, OUT and NAME")
    endif()
    file(READ "${IN}" hex HEX)
    string(LENGTH "${hex}" hex_len)
    math(EXPR len "${hex_len} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line) # CMake's regex has no {16}
    string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
    file(RELATIVE_PATH rel "${SRC_ROOT}" "${IN}")
    file(WRITE "${OUT}.tmp"
        "/* Generated from ${rel} by cmake/embed.cmake at build time: do not edit. */\n"
        "#include <stddef.h>\n\n"
        "extern const char ${NAME}[];\n"
        "extern const size_t ${NAME}_len;\n\n"
        "const char ${NAME}[] = {\n    ${bytes}0x00};\n"
        "const size_t ${NAME}_len = ${len};\n")
    file(RENAME "${OUT}.tmp" "${OUT}")
    return()
endif()

set(OLA_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(ola_embed target file name)
    set(out ${CMAKE_BINARY_DIR}/embed/${name}.c)
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/embed
        COMMAND ${CMAKE_COMMAND} -DIN=${PROJECT_SOURCE_DIR}/${file} -DOUT=${out}
                -DNAME=${name} -DSRC_ROOT=${PROJECT_SOURCE_DIR} -P ${OLA_EMBED_SCRIPT}
        DEPENDS ${PROJECT_SOURCE_DIR}/${file} ${OLA_EMBED_SCRIPT}
        COMMENT "Embedding ${file} as ${name}"
        VERBATIM)
    target_sources(${target} PRIVATE ${out})
endfunction()
