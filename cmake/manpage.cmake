# manpage.cmake - writes olagent.1 from `olagent --help` (one source of truth
# for the usage text), run at build time:
#
#   cmake -DOLAGENT=path/to/olagent -DVERSION=x.y.z -DOUT=olagent.1 -P manpage.cmake
#
# The help text goes into a no-fill block, so the man page reads as the
# --help output does; the sections around it name the files and exit codes.
execute_process(COMMAND ${OLAGENT} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "olagent --help exited ${rc}")
endif()
# roff: a backslash is \e; a line may not start with . or '
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(REPLACE "-" "\\-" help "${help}")
file(WRITE ${OUT}
".TH OLAGENT 1 \"\" \"olagent ${VERSION}\" \"User Commands\"
.SH NAME
olagent \\- tail the OneLogin audit-event API and ship events to SIEM outputs
.SH SYNOPSIS
.B olagent
.I COMMAND
[options]
.SH DESCRIPTION
.nf
${help}.fi
.SH FILES
.TP
.I /etc/olagent/olagent.yaml
the configuration (start from /etc/olagent/olagent.example.yaml)
.TP
.I /var/lib/olagent/checkpoint.json
the checkpoint, under the unit's StateDirectory
.SH EXIT STATUS
0 success (also after SIGTERM or SIGINT), 1 runtime failure, 2 bad configuration or usage.
.SH SEE ALSO
/usr/share/doc/olagent/operations.md
")
