# SPDX-License-Identifier: MIT
# A Debian package (`cpack` in the build folder) that depends on Debian's own Qt, RE2, GMime,
# SQLite, libcsv and zlib, laid out as Debian policy asks: copyright in DEP-5, a changelog, man pages,
# stripped binaries, a MIME type for workspaces. packaging/check-package.sh builds it and runs
# lintian, appstreamcli and desktop-file-validate on it.
set(BT_DEB_REVISION 1 CACHE STRING "Debian revision of the package (the -N of VERSION-N)")
set(BT_DOC_DIR share/doc/bouncetriage)

# The changelog's newest entry and the metainfo's newest release name the project's version:
# a version bump that forgets either fails here, not in lintian or a software centre.
file(STRINGS ${PROJECT_SOURCE_DIR}/packaging/changelog _bt_changelog_top LIMIT_COUNT 1)
if(NOT _bt_changelog_top MATCHES "^bouncetriage \\(${PROJECT_VERSION}-${BT_DEB_REVISION}\\) ")
  message(FATAL_ERROR "packaging/changelog must start with an entry for ${PROJECT_VERSION}-${BT_DEB_REVISION}, "
                      "not: ${_bt_changelog_top}")
endif()
file(READ ${PROJECT_SOURCE_DIR}/resources/io.bouncetriage.BounceTriage.metainfo.xml _bt_metainfo)
string(FIND "${_bt_metainfo}" "<release version=\"${PROJECT_VERSION}\"" _bt_release_at)
if(_bt_release_at EQUAL -1)
  message(FATAL_ERROR "resources/io.bouncetriage.BounceTriage.metainfo.xml has no <release version=\"${PROJECT_VERSION}\">")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/resources/bouncetriage.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/io.bouncetriage.BounceTriage.metainfo.xml DESTINATION share/metainfo)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/bouncetriage.svg DESTINATION share/icons/hicolor/scalable/apps)
install(FILES ${PROJECT_SOURCE_DIR}/resources/bouncetriage.mime.xml DESTINATION share/mime/packages
        RENAME bouncetriage.xml)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/bouncetriage-watch.service DESTINATION lib/systemd/user)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright DESTINATION ${BT_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/lintian-overrides DESTINATION share/lintian/overrides
        RENAME bouncetriage)

# Compressed as Debian ships them: gzip -9n (no name or time stamp, so the bytes are reproducible).
find_program(BT_GZIP gzip REQUIRED)
set(_bt_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${_bt_pkg_dir}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_bt_pkg_dir}
  COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/packaging/changelog ${_bt_pkg_dir}/changelog.Debian
  COMMAND ${BT_GZIP} -9nf ${_bt_pkg_dir}/changelog.Debian
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog
  VERBATIM)
set(_bt_pkg_outputs ${_bt_pkg_dir}/changelog.Debian.gz)
install(FILES ${_bt_pkg_dir}/changelog.Debian.gz DESTINATION ${BT_DOC_DIR})

# Man pages from the programs' own --help (help2man), with the sections --help has no room for
# from packaging/man/*.h2m. The program runs from PATH so the page shows its name, not the
# build folder. No leak report: in the asan preset an exit from --help must not fail the build.
find_program(BT_HELP2MAN help2man)
if(BT_HELP2MAN)
  set(_bt_man_programs bouncetriage-cli)
  if(TARGET bouncetriage)
    list(APPEND _bt_man_programs bouncetriage)
  endif()
  foreach(_prog IN LISTS _bt_man_programs)
    set(_h2m ${PROJECT_SOURCE_DIR}/packaging/man/${_prog}.h2m)
    add_custom_command(
      OUTPUT ${_bt_pkg_dir}/${_prog}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_bt_pkg_dir}
      COMMAND ${CMAKE_COMMAND} -E env "PATH=$<TARGET_FILE_DIR:${_prog}>:$ENV{PATH}" QT_QPA_PLATFORM=offscreen
              ASAN_OPTIONS=detect_leaks=0
              ${BT_HELP2MAN} --no-info --section=1 --version-string=${PROJECT_VERSION} --include=${_h2m}
              --output=${_bt_pkg_dir}/${_prog}.1 ${_prog}
      COMMAND ${BT_GZIP} -9nf ${_bt_pkg_dir}/${_prog}.1
      DEPENDS ${_prog} ${_h2m}
      COMMENT "Generating the man page of ${_prog}"
      VERBATIM)
    list(APPEND _bt_pkg_outputs ${_bt_pkg_dir}/${_prog}.1.gz)
    install(FILES ${_bt_pkg_dir}/${_prog}.1.gz DESTINATION share/man/man1)
  endforeach()
else()
  message(WARNING "help2man not found: no man pages are built, and the package would lack them "
                  "(packaging/setup.sh installs it)")
endif()
add_custom_target(package-files ALL DEPENDS ${_bt_pkg_outputs})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bouncetriage)
set(CPACK_PACKAGE_VENDOR "Bounce Triage developers")
set(CPACK_PACKAGE_CONTACT "Bounce Triage developers <bouncetriage@example.org>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Wrapped by hand (CPack does not wrap; lintian wants lines under 80 columns); an empty line
# separates paragraphs and CPack writes it as " .".
set(CPACK_PACKAGE_DESCRIPTION
"Bounce Triage diagnoses bounced email: paste an SMTP reply line, a
non-delivery report or a whole bounce email and it gives the status codes and
what they mean, the reason and family of the problem, whether the rejection is
about spam and which words say so, the blocklists it names, and what to fix,
cheapest first.

It imports thousands of bounces (bounce emails, maildir and mbox folders,
exports of the big email service providers, Microsoft 365 message traces,
Postfix and Exim logs) into a workspace and triages them: where the rejections
concentrate, at which provider, since when, and what the servers said. It also
checks a sending domain's SPF, DMARC, DKIM, MX, PTR and blocklist listings.

This package holds the Qt window (bouncetriage) and the command line
(bouncetriage-cli).")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${BT_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Stripped binaries. No -dbgsym: CMake 3.25's CPACK_DEBIAN_DEBUGINFO_PACKAGE writes the build
# folder's absolute paths into the .ddeb's md5sums and gives it no copyright (lintian errors).
set(CPACK_STRIP_FILES ON)
include(CPack)
