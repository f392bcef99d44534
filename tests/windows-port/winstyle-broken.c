/* SPDX-License-Identifier: MIT */
/*
 * A port that is not finished: it declares two Windows functions lsashm
 * does not provide and calls them, so it builds (-shared leaves them
 * undefined) but cannot load. lsashmd --check must name both.
 */
#include <lsashm/windows.h>

NTSYSAPI NTSTATUS NTAPI RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                                     BOOLEAN AllocateDestinationString);
BOOL WINAPI GetComputerNameW(LPWSTR lpBuffer, LPDWORD nSize);

static WCHAR Name[] = TEXT("WinStyleBroken");

static NTSTATUS NTAPI BrokenGetInfo(PSecPkgInfo PackageInfo)
{
        WCHAR Computer[64];
        DWORD Size = ARRAYSIZE(Computer);
        ANSI_STRING Ansi;
        UNICODE_STRING Unicode;

        RtlInitAnsiString(&Ansi, "x");
        if (!GetComputerNameW(Computer, &Size) || !NT_SUCCESS(RtlAnsiStringToUnicodeString(&Unicode, &Ansi, TRUE)))
                return STATUS_UNSUCCESSFUL;
        ZeroMemory(PackageInfo, sizeof(*PackageInfo));
        PackageInfo->Name = Name;
        return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE Table = { .GetInfo = BrokenGetInfo };

__declspec(dllexport) NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                             PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        UNREFERENCED_PARAMETER(LsaVersion);
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = &Table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
