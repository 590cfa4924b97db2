# package.cmake - a Debian package with CPack; include()d by the root
# CMakeLists.txt after install.cmake.
#
#   scripts/package.sh             (configures with prefix /usr, runs cpack -G DEB)
#
# The package holds what `cmake --install` lays out (binary, example config,
# catalog and rules under /etc/olagent, the systemd unit, the operations
# guide) plus the man page made from `olagent --help`. Its maintainer scripts
# (docker/debian/) add the `olagent` system user, which the unit's
# DynamicUser= then uses as its static user, and own /var/lib/olagent.
set(OLA_MANPAGE ${PROJECT_BINARY_DIR}/olagent.1.gz)
add_custom_command(OUTPUT ${OLA_MANPAGE}
    COMMAND ${CMAKE_COMMAND} -DOLAGENT=$<TARGET_FILE:olagent>
            -DVERSION=${PROJECT_VERSION} -DOUT=${PROJECT_BINARY_DIR}/olagent.1
            -P ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
    COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/olagent.1
    DEPENDS olagent ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
    COMMENT "man page from olagent --help")
add_custom_target(olagent_manpage ALL DEPENDS ${OLA_MANPAGE})
install(FILES ${OLA_MANPAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME olagent)
set(CPACK_PACKAGE_VENDOR olagent)
set(CPACK_PACKAGE_CONTACT "olagent maintainers <olagent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "OneLogin audit-event collector for SIEM pipelines")
set(CPACK_PACKAGE_DESCRIPTION
    "olagent tails the OneLogin audit-event API with checkpointed windows, enriches
events with user and role facts, raises alerts for suspicious logins, and ships
them to Kafka, syslog, compressed files or stdout without losing or duplicating
an event across restarts and crashes.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
# files under /etc are the operator's: dpkg keeps their edits on upgrade
set(ola_conffiles "")
foreach(f olagent.example.yaml event-types.json)
    string(APPEND ola_conffiles "${OLA_CONFIG_DIR}/${f}\n")
endforeach()
file(GLOB ola_rule_files RELATIVE ${PROJECT_SOURCE_DIR}/config/rules
     ${PROJECT_SOURCE_DIR}/config/rules/*.yaml)
foreach(f ${ola_rule_files})
    string(APPEND ola_conffiles "${OLA_CONFIG_DIR}/rules/${f}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${ola_conffiles}")
foreach(script postinst postrm)
    configure_file(${PROJECT_SOURCE_DIR}/docker/debian/${script}
                   ${PROJECT_BINARY_DIR}/debian/${script} COPYONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                   GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian/conffiles ${PROJECT_BINARY_DIR}/debian/postinst
    ${PROJECT_BINARY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
