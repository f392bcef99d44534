/* SPDX-License-Identifier: MIT */
/* LsaClose: the handles lsashm gives out are connections (ntsecapi.h). */
#include "lsashm/ntsecapi.h"

NTSTATUS NTAPI LsaClose(LSA_HANDLE ObjectHandle)
{
        if (!ObjectHandle)
                return STATUS_INVALID_HANDLE;
        return LsaDeregisterLogonProcess(ObjectHandle);
}
