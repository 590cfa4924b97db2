# install.cmake - what `cmake --install` puts where; include()d by the root
# CMakeLists.txt after the olagent target is defined.
#
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build
#   DESTDIR=/tmp/stage cmake --install build
#
# gives /usr/bin/olagent, /etc/olagent/{olagent.example.yaml,event-types.json,
# rules/*.yaml}, /usr/lib/systemd/system/olagent.service and the operations
# guide under /usr/share/doc/olagent. The unit's paths follow the prefix.
include(GNUInstallDirs)

set(OLA_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit is installed (relative to the prefix, or absolute)")
option(OLA_INSTALL_SYSTEMD_UNIT "Install the systemd unit" ON)

# FULL: with prefix /usr this is /etc (GNUInstallDirs), not /usr/etc.
set(OLA_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/olagent")

install(TARGETS olagent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/config/olagent.example.yaml
              ${PROJECT_SOURCE_DIR}/config/event-types.json
        DESTINATION ${OLA_CONFIG_DIR})
if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/config/rules)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/rules/
            DESTINATION ${OLA_CONFIG_DIR}/rules
            FILES_MATCHING PATTERN "*.yaml")
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/operations.md)
    install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md
            DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

if(OLA_INSTALL_SYSTEMD_UNIT)
    # The unit names /usr/bin and /etc; rewrite them for the chosen prefix.
    file(READ ${PROJECT_SOURCE_DIR}/docker/olagent.service ola_unit)
    string(REPLACE "/usr/bin/olagent" "${CMAKE_INSTALL_FULL_BINDIR}/olagent"
           ola_unit "${ola_unit}")
    string(REPLACE "/etc/olagent" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/olagent"
           ola_unit "${ola_unit}")
    string(REPLACE "/usr/share/doc/olagent" "${CMAKE_INSTALL_FULL_DOCDIR}"
           ola_unit "${ola_unit}")
    file(WRITE ${PROJECT_BINARY_DIR}/olagent.service "${ola_unit}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                 ${PROJECT_SOURCE_DIR}/docker/olagent.service)
    install(FILES ${PROJECT_BINARY_DIR}/olagent.service
            DESTINATION ${OLA_SYSTEMD_UNIT_DIR})
endif()
