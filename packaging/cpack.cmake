# SPDX-License-Identifier: MIT
# A Debian package that depends on Debian's own Qt, RE2 and SQLite libraries.
install(FILES ${PROJECT_SOURCE_DIR}/resources/bouncetriage.desktop DESTINATION share/applications OPTIONAL)
install(FILES ${PROJECT_SOURCE_DIR}/resources/io.bouncetriage.BounceTriage.metainfo.xml
        DESTINATION share/metainfo OPTIONAL)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/bouncetriage.svg
        DESTINATION share/icons/hicolor/scalable/apps OPTIONAL)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bouncetriage)
set(CPACK_PACKAGE_CONTACT "Bounce Triage developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
include(CPack)
