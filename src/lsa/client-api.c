/* SPDX-License-Identifier: MIT */
/*
 * The client side of ntsecapi.h. The host daemon these calls talk to is not
 * in this release, so after checking their arguments as the real calls will,
 * they report STATUS_NOT_IMPLEMENTED and leave every output in a safe, empty
 * state (NULL handles and buffers, zero lengths). LsaFreeReturnBuffer(NULL)
 * succeeds, as it always will; no call here hands out a buffer, so any other
 * pointer is left alone.
 */
#include "lsashm/ntsecapi.h"

/* A counted ANSI string whose fields agree with each other. */
static int lsa_string_ok(const LSA_STRING *s)
{
        if (s->Length > s->MaximumLength)
                return 0;
        return s->Length == 0 || s->Buffer != NULL;
}

NTSTATUS NTAPI LsaConnectUntrusted(PHANDLE LsaHandle)
{
        if (LsaHandle == NULL)
                return STATUS_INVALID_PARAMETER;
        *LsaHandle = NULL;
        return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI LsaRegisterLogonProcess(PLSA_STRING LogonProcessName, PHANDLE LsaHandle,
                                       PLSA_OPERATIONAL_MODE SecurityMode)
{
        if (LsaHandle == NULL || SecurityMode == NULL)
                return STATUS_INVALID_PARAMETER;
        *LsaHandle = NULL;
        *SecurityMode = 0;
        if (LogonProcessName == NULL || !lsa_string_ok(LogonProcessName))
                return STATUS_INVALID_PARAMETER;
        return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI LsaLookupAuthenticationPackage(HANDLE LsaHandle, PLSA_STRING PackageName,
                                              PULONG AuthenticationPackage)
{
        if (LsaHandle == NULL)
                return STATUS_INVALID_HANDLE;
        if (PackageName == NULL || AuthenticationPackage == NULL || !lsa_string_ok(PackageName))
                return STATUS_INVALID_PARAMETER;
        *AuthenticationPackage = 0;
        if (PackageName->Length > LSASHM_MAX_PACKAGE_NAME)
                return STATUS_NAME_TOO_LONG;
        return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI LsaCallAuthenticationPackage(HANDLE LsaHandle, ULONG AuthenticationPackage,
                                            PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                                            PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                            PNTSTATUS ProtocolStatus)
{
        (void)AuthenticationPackage;
        if (LsaHandle == NULL)
                return STATUS_INVALID_HANDLE;
        if (ProtocolReturnBuffer == NULL || ReturnBufferLength == NULL || ProtocolStatus == NULL)
                return STATUS_INVALID_PARAMETER;
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        *ProtocolStatus = STATUS_NOT_IMPLEMENTED;
        if (SubmitBufferLength != 0 && ProtocolSubmitBuffer == NULL)
                return STATUS_INVALID_PARAMETER;
        return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI LsaFreeReturnBuffer(PVOID Buffer)
{
        if (Buffer == NULL)
                return STATUS_SUCCESS;
        return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI LsaDeregisterLogonProcess(HANDLE LsaHandle)
{
        if (LsaHandle == NULL)
                return STATUS_INVALID_HANDLE;
        return STATUS_NOT_IMPLEMENTED;
}
