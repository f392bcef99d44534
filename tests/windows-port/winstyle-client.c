/* SPDX-License-Identifier: MIT */
/*
 * A client of the WinStyle package written as a Windows LSA client is, with
 * <lsashm/windows.h> for <windows.h> and <ntsecapi.h>. Prints
 * "winstyle-client: ok" and exits 0 when every answer is the expected one.
 */
#include <stdio.h>
#include <unistd.h>

#include <lsashm/windows.h>

#include "winstyle-protocol.h"

static int Failures;

#define EXPECT(cond)                                                                        \
        do {                                                                                \
                if (!(cond)) {                                                              \
                        fprintf(stderr, "winstyle-client: line %d: %s\n", __LINE__, #cond); \
                        Failures++;                                                         \
                }                                                                           \
        } while (0)

/* The request and its strings in one buffer, the pointers our addresses of
 * them, as a Windows client sends them. */
typedef struct _VERIFY_BUFFER {
        WINSTYLE_VERIFY_REQUEST Request;
        WCHAR Strings[64];
} VERIFY_BUFFER;

static NTSTATUS Verify(HANDLE Lsa, ULONG Package, PCWSTR User, PCWSTR Password, PNTSTATUS ProtocolStatus)
{
        VERIFY_BUFFER Buffer;
        UNICODE_STRING UserName, Secret;
        PVOID Reply = NULL;
        ULONG ReplyLength = 0;
        NTSTATUS Status;

        RtlInitUnicodeString(&UserName, User);
        RtlInitUnicodeString(&Secret, Password);
        if ((SIZE_T)UserName.MaximumLength + Secret.MaximumLength > sizeof(Buffer.Strings))
                return STATUS_INVALID_PARAMETER;
        ZeroMemory(&Buffer, sizeof(Buffer));
        Buffer.Request.MessageType = WinStyleVerifyPassword;
        Buffer.Request.UserName = UserName;
        Buffer.Request.UserName.Buffer = Buffer.Strings;
        RtlCopyMemory(Buffer.Request.UserName.Buffer, User, UserName.Length);
        Buffer.Request.Password = Secret;
        Buffer.Request.Password.Buffer = Buffer.Strings + UserName.MaximumLength / sizeof(WCHAR);
        RtlCopyMemory(Buffer.Request.Password.Buffer, Password, Secret.Length);

        Status = LsaCallAuthenticationPackage(Lsa, Package, &Buffer, sizeof(Buffer), &Reply, &ReplyLength,
                                              ProtocolStatus);
        SecureZeroMemory(&Buffer, sizeof(Buffer));
        if (Reply)
                LsaFreeReturnBuffer(Reply);
        return Status;
}

int main(void)
{
        HANDLE Lsa = NULL;
        LSA_STRING Name;
        ULONG Package = 0;
        NTSTATUS Status, ProtocolStatus = STATUS_UNSUCCESSFUL;

        Status = LsaConnectUntrusted(&Lsa);
        if (!NT_SUCCESS(Status)) {
                fprintf(stderr, "winstyle-client: LsaConnectUntrusted: 0x%08x (Win32 error %u)\n", (unsigned)Status,
                        (unsigned)LsaNtStatusToWinError(Status));
                return 1;
        }
        RtlInitString(&Name, WINSTYLE_PACKAGE_NAME);
        Status = LsaLookupAuthenticationPackage(Lsa, &Name, &Package);
        EXPECT(Status == STATUS_SUCCESS);

        EXPECT(Verify(Lsa, Package, TEXT("alice"), TEXT("wonderland"), &ProtocolStatus) == STATUS_SUCCESS);
        EXPECT(ProtocolStatus == STATUS_SUCCESS);
        EXPECT(Verify(Lsa, Package, TEXT("alice"), TEXT("looking-glass"), &ProtocolStatus) == STATUS_SUCCESS);
        EXPECT(ProtocolStatus == STATUS_WRONG_PASSWORD);
        EXPECT(LsaNtStatusToWinError(ProtocolStatus) == ERROR_INVALID_PASSWORD);
        EXPECT(Verify(Lsa, Package, TEXT("bob"), TEXT("wonderland"), &ProtocolStatus) == STATUS_SUCCESS);
        EXPECT(ProtocolStatus == STATUS_NO_SUCH_USER);
        EXPECT(LsaNtStatusToWinError(ProtocolStatus) == ERROR_NO_SUCH_USER);

        ULONG Query = WinStyleQueryInfo;
        PVOID Reply = NULL;
        ULONG ReplyLength = 0;
        Status = LsaCallAuthenticationPackage(Lsa, Package, &Query, sizeof(Query), &Reply, &ReplyLength,
                                              &ProtocolStatus);
        EXPECT(Status == STATUS_SUCCESS && ProtocolStatus == STATUS_SUCCESS);
        EXPECT(Reply != NULL && ReplyLength >= sizeof(WINSTYLE_INFO_RESPONSE));
        if (Reply && ReplyLength >= sizeof(WINSTYLE_INFO_RESPONSE)) {
                PWINSTYLE_INFO_RESPONSE Info = (PWINSTYLE_INFO_RESPONSE)Reply;
                UNICODE_STRING Expected;
                LARGE_INTEGER Now;
                LUID System = SYSTEM_LUID;

                RtlInitUnicodeString(&Expected, TEXT("WinStyle"));
                EXPECT(Info->MessageType == WinStyleQueryInfo);
                EXPECT(Info->VerifyCount >= 1); /* this run's, and earlier clients' */
                /* The pointer the package wrote is valid here. */
                EXPECT(Info->PackageName.Length == Expected.Length &&
                       RtlEqualMemory(Info->PackageName.Buffer, Expected.Buffer, Expected.Length));
                EXPECT(NtQuerySystemTime(&Now) == STATUS_SUCCESS);
                /* Within a minute of ours: the same clock, 100 ns units. */
                EXPECT(Now.QuadPart - Info->SystemTime.QuadPart < 600000000LL &&
                       Info->SystemTime.QuadPart - Now.QuadPart < 600000000LL);
                if (getuid() == 0)
                        EXPECT(RtlEqualLuid(&Info->CallerLogonId, &System));
                else
                        EXPECT(!RtlEqualLuid(&Info->CallerLogonId, &System));
                EXPECT(!RtlEqualLuid(&Info->FreshLuid, &Info->CallerLogonId));
                /* A client's LogonId is never a package's logon session. */
                EXPECT(Info->CallerSessionStatus == STATUS_LOGON_SESSION_COLLISION);
                EXPECT(Info->FreshSessionStatus == STATUS_SUCCESS);
                printf("winstyle-client: logon id %08lx:%08lx, time %08lx:%08lx\n",
                       (unsigned long)Info->CallerLogonId.HighPart, (unsigned long)Info->CallerLogonId.LowPart,
                       (unsigned long)Info->SystemTime.HighPart, (unsigned long)Info->SystemTime.LowPart);
                EXPECT(LsaFreeReturnBuffer(Reply) == STATUS_SUCCESS);
        }

        EXPECT(LsaClose(Lsa) == STATUS_SUCCESS);
        EXPECT(LsaClose(Lsa) == STATUS_INVALID_HANDLE);
        if (Failures)
                return 1;
        printf("winstyle-client: ok\n");
        return 0;
}
