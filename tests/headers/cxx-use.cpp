// SPDX-License-Identifier: MIT
// <lsashm/windows.h> in use from C++: the Windows idioms a C++ package or
// client writes (compiled only, by check.sh).
#include <lsashm/windows.h>

static WCHAR Name[] = TEXT("CxxPackage");

static NTSTATUS NTAPI CxxGetInfo(PSecPkgInfo Info)
{
        ZeroMemory(Info, sizeof(*Info));
        Info->Name = Name;
        Info->wRPCID = SECPKG_ID_NONE;
        Info->fCapabilities = SECPKG_FLAG_LOGON;
        return STATUS_SUCCESS;
}

extern "C" __declspec(dllexport) NTSTATUS
        SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion, PSECPKG_FUNCTION_TABLE *ppTables,
                                      PULONG pcTables)
{
        static SECPKG_FUNCTION_TABLE Table;
        UNREFERENCED_PARAMETER(LsaVersion);
        UNICODE_STRING S;
        RtlInitUnicodeString(&S, Name);
        LARGE_INTEGER Now;
        if (!NT_SUCCESS(NtQuerySystemTime(&Now)) || (Now.LowPart == 0 && Now.HighPart == 0) || S.Length == 0)
                return STATUS_UNSUCCESSFUL;
        SecHandle H;
        SecInvalidateHandle(&H);
        if (SecIsValidHandle(&H) || SEC_E_OK != 0 || ARRAYSIZE(Name) != 11)
                return STATUS_INTERNAL_ERROR;
        Table.GetInfo = CxxGetInfo;
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = &Table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
