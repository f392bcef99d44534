/* SPDX-License-Identifier: MIT */
/*
 * The one include a port of a Windows security package or LSA client needs:
 * it stands for <windows.h>, <ntstatus.h>, <sspi.h>, <ntsecapi.h> and
 * <ntsecpkg.h> together (as a Windows source includes them, with
 * WIN32_NO_STATUS juggling unneeded). Each of those is also includable
 * alone as <lsashm/NAME.h>.
 *
 * What Windows itself would have to provide (the registry, tokens, the
 * client-side SSPI functions, kernel objects) is not here; what a package
 * commonly writes (types, status codes, SSPI structures and flags, the
 * Rtl* helpers, TEXT(), UNREFERENCED_PARAMETER, SAL annotations) is.
 * docs/writing-a-package.md tells how to build and load a port.
 */
#ifndef LSASHM_WINDOWS_H
#define LSASHM_WINDOWS_H

#include "lsashm/sal.h"
#include "lsashm/wintypes.h"
#include "lsashm/ntstatus.h"
#include "lsashm/winerror.h"
#include "lsashm/winnt.h"
#include "lsashm/sspi.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h"

#endif
