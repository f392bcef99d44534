# The Debian package: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (so that lsashmd reads /etc/lsashm/lsashmd.conf
# and the units start /usr/sbin/lsashmd) builds lsashm_VERSION_ARCH.deb with
# everything `cmake --install` installs: the library, headers and lsashm.pc,
# lsashmd, lsashm, the units, the man pages, the example package and client,
# and /etc/lsashm/lsashmd.conf as a conffile. lsashmd.service runs as a
# DynamicUser: the package makes no user or group.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lsashm)
set(CPACK_PACKAGE_VENDOR "lsashm")
set(CPACK_PACKAGE_CONTACT "lsashm maintainers <lsashm@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Windows LSA security-package host and shared memory sections for Linux")
set(CPACK_PACKAGE_DESCRIPTION
  "lsashm brings the Local Security Authority's package interface to Linux: lsashmd loads\n security packages written against ntsecpkg.h and serves clients written against\n ntsecapi.h; sections of shared memory are handed to client processes read-only or\n read-write by policy. This package holds the library (liblsashm), its headers and\n pkg-config file, lsashmd with its systemd units and configuration, the lsashm\n command, the man pages and the example records package and client.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# /etc/lsashm/lsashmd.conf lies outside the prefix /usr: stage with DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
# Dependencies from the binaries when dpkg-shlibdeps is there (dpkg-dev),
# else the libraries lsashmd links, by their Debian 12 names.
find_program(LSASHM_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(LSASHM_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libsodium23 (>= 1.0.18), libsystemd0")
endif()
# A shlibs file for liblsashm.so.0, and the ldconfig trigger
# (activate-noawait ldconfig: libc-bin runs ldconfig once dpkg is done).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The configuration is the administrator's: a conffile. The maintainer
# scripts tell systemd about the units (enabling them is the
# administrator's choice) and stop lsashmd on removal.
# (where lsashmd looks for it, and where the install puts it)
set(_lsashm_conffile "${CMAKE_INSTALL_FULL_SYSCONFDIR}/lsashm/lsashmd.conf")
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/conffiles.in ${PROJECT_BINARY_DIR}/debian/conffiles @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_BINARY_DIR}/debian/postinst COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/prerm ${PROJECT_BINARY_DIR}/debian/prerm COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/postrm ${PROJECT_BINARY_DIR}/debian/postrm COPYONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/triggers ${PROJECT_BINARY_DIR}/debian/triggers COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/debian/conffiles ${PROJECT_BINARY_DIR}/debian/postinst
  ${PROJECT_BINARY_DIR}/debian/prerm ${PROJECT_BINARY_DIR}/debian/postrm ${PROJECT_BINARY_DIR}/debian/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
